package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.config.Architecture;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.tensor.DType;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A checkpoint in the format of Karpathy's llama2.c ({@code export.py --version 0}, "legacy"):
 * seven little-endian int32 ({@code dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
 * seq_len}), then F32 arrays {@code token_embedding_table[vocab][dim]}, {@code rms_att_weight[L][dim]},
 * {@code wq[L][dim][dim]}, {@code wk[L][kv_dim][dim]}, {@code wv[L][kv_dim][dim]}, {@code wo[L][dim][dim]},
 * {@code rms_ffn_weight[L][dim]}, {@code w1[L][hidden][dim]}, {@code w2[L][dim][hidden]},
 * {@code w3[L][hidden][dim]}, {@code rms_final_weight[dim]}, {@code freq_cis_real} and
 * {@code freq_cis_imag} ({@code [seq_len][head_size/2]} each, skipped: RoPE is recomputed), and
 * {@code wcls[vocab][dim]} only when {@code vocab_size} is negative (an unshared classifier).
 *
 * <p>Matrices are stored {@code [out][in]} like PyTorch's {@code Linear.weight}, and each layer's
 * slice is listed under its Hugging Face name ({@code w1} is {@code gate_proj}, {@code w3}
 * {@code up_proj}, {@code w2} {@code down_proj}). The Q/K rows keep the order of Meta's original
 * Llama code, which rotates adjacent pairs, so the config has {@link RopeLayout#INTERLEAVED}.
 */
public final class Llama2cTensorStore extends MappedTensorStore {

    private static final int HEADER_BYTES = 7 * 4;
    /** First bytes of the newer {@code export.py --version 1/2} files, which this reader does not read. */
    private static final int AK42_MAGIC = 0x616b3432;

    private final ModelConfig config;

    private Llama2cTensorStore(Path file, ModelConfig config) {
        super(file, DEFAULT_FP8_BLOCK);
        this.config = config;
    }

    /** Reads the header of {@code file} and lists its tensors; fails when the file size disagrees with the header. */
    public static Llama2cTensorStore open(Path file) {
        int[] header = readHeader(file);
        int dim = header[0];
        int hiddenDim = header[1];
        int layers = header[2];
        int heads = header[3];
        int kvHeads = header[4];
        int vocab = Math.abs(header[5]);
        int seqLen = header[6];
        boolean sharedClassifier = header[5] > 0;
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0
                || dim % heads != 0 || heads % kvHeads != 0) {
            throw new CheckpointException("file " + file + " is not a llama2.c checkpoint: its header (dim, hidden_dim,"
                    + " n_layers, n_heads, n_kv_heads, vocab_size, seq_len) is " + java.util.Arrays.toString(header));
        }
        int headSize = dim / heads;
        int kvDim = headSize * kvHeads;
        ModelConfig config = new ModelConfig(Architecture.LLAMA, vocab, dim, layers, heads, kvHeads, headSize, hiddenDim,
                1e-5f, seqLen, sharedClassifier, 1, List.of(2),
                new RopeConfig(10_000.0, RopeLayout.INTERLEAVED, headSize, null), null, null, null);

        Llama2cTensorStore store = new Llama2cTensorStore(file, config);
        Layout layout = store.new Layout(HEADER_BYTES, layers);
        layout.single("model.embed_tokens.weight", vocab, dim);
        layout.perLayer("input_layernorm.weight", dim);
        layout.perLayer("self_attn.q_proj.weight", dim, dim);
        layout.perLayer("self_attn.k_proj.weight", kvDim, dim);
        layout.perLayer("self_attn.v_proj.weight", kvDim, dim);
        layout.perLayer("self_attn.o_proj.weight", dim, dim);
        layout.perLayer("post_attention_layernorm.weight", dim);
        layout.perLayer("mlp.gate_proj.weight", hiddenDim, dim);
        layout.perLayer("mlp.down_proj.weight", dim, hiddenDim);
        layout.perLayer("mlp.up_proj.weight", hiddenDim, dim);
        layout.single("model.norm.weight", dim);
        layout.skip("freq_cis_real and freq_cis_imag", 2L * seqLen * (headSize / 2));
        if (!sharedClassifier) {
            layout.single("lm_head.weight", vocab, dim);
        }
        layout.checkFileSize();
        return store;
    }

    /** Returns the model shape from the header, with RoPE θ 10000, RMSNorm ε 1e-5, BOS 1 and EOS 2 as llama2.c's run.c uses them. */
    public ModelConfig config() {
        return config;
    }

    private static int[] readHeader(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() < HEADER_BYTES) {
                throw new CheckpointException("file " + file + " has " + channel.size() + " bytes, fewer than the "
                        + HEADER_BYTES + "-byte llama2.c header; the file is truncated");
            }
            HeaderReader in = new HeaderReader(file, channel, 0);
            int[] header = new int[7];
            for (int i = 0; i < header.length; i++) {
                header[i] = in.i32("the llama2.c header");
            }
            if (Integer.reverseBytes(header[0]) == AK42_MAGIC) {
                throw new CheckpointException("file " + file + " is a llama2.c checkpoint of export version 1 or 2"
                        + " (magic \"ak42\"); only the legacy version 0 layout is supported, so export it again with"
                        + " export.py --version 0");
            }
            return header;
        } catch (IOException e) {
            throw new CheckpointException("cannot read llama2.c checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Walks the F32 arrays in file order, listing each tensor at its offset. */
    private final class Layout {

        private final int layers;
        private long offset;
        private String lastName = "the header";

        Layout(long start, int layers) {
            this.offset = start;
            this.layers = layers;
        }

        void single(String name, long... shape) {
            list(name, shape);
        }

        void perLayer(String module, long... shape) {
            for (int layer = 0; layer < layers; layer++) {
                list("model.layers." + layer + "." + module, shape);
            }
        }

        void skip(String what, long floats) {
            offset += 4 * floats;
            lastName = what;
        }

        private void list(String name, long[] shape) {
            long elements = 1;
            for (long dim : shape) {
                elements *= dim;
            }
            long bytes = DType.F32.bytesFor(elements);
            Llama2cTensorStore.this.add(new TensorInfo(name, DType.F32, shape, location(), offset, bytes));
            offset += bytes;
            lastName = name;
        }

        void checkFileSize() {
            long size;
            try {
                size = java.nio.file.Files.size(location());
            } catch (IOException e) {
                throw new CheckpointException("cannot read the size of " + location() + ": " + e.getMessage(), e);
            }
            if (size < offset) {
                TensorInfo cut = tensorNames().stream().map(Llama2cTensorStore.this::info)
                        .filter(info -> info.offset() + info.byteSize() > size)
                        .findFirst().orElse(null);
                String what = cut == null ? lastName : "tensor '" + cut.name() + "'";
                throw new CheckpointException("llama2.c checkpoint " + location() + " is truncated: " + what
                        + " needs bytes up to " + (cut == null ? offset : cut.offset() + cut.byteSize())
                        + " but the file has " + size + " (the header promises " + offset + " bytes)");
            }
            if (size > offset) {
                throw new CheckpointException("llama2.c checkpoint " + location() + " has " + size + " bytes but its header"
                        + " describes " + offset + "; it is not a version 0 llama2.c file, or its vocab_size sign"
                        + " (negative means an unshared classifier follows) is wrong");
            }
        }
    }
}
