package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;
import io.sparsemesh.core.tensor.FloatMatrix;
import io.sparsemesh.core.tensor.Matrices;
import io.sparsemesh.core.tensor.Matrix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors of a GGUF file under Hugging Face names (see {@link GgufTensorNames}), each mapped
 * alone when requested. Shapes are in PyTorch order, the reverse of GGUF's innermost-first dims.
 *
 * <p>Stacked expert tensors {@code blk.N.ffn_{gate,up,down}_exps} ({@code [experts, rows, cols]})
 * are listed as one view per expert, {@code model.layers.N.mlp.experts.E.{gate,up,down}_proj.weight},
 * each at its own byte range inside the stack, so one expert's weights can be mapped alone.
 *
 * <p>Files written by current llama.cpp converters split DeepSeek's {@code kv_b_proj} into
 * {@code attn_k_b} ({@code [heads, kv_lora_rank, qk_nope_head_dim]}, the key half transposed) and
 * {@code attn_v_b} ({@code [heads, v_head_dim, kv_lora_rank]}). Both are listed as
 * {@code self_attn.k_b_proj.weight} and {@code self_attn.v_b_proj.weight}, and when the file has no
 * {@code attn_kv_b} this store also lists {@code self_attn.kv_b_proj.weight}, rebuilt on the heap
 * from the two halves when requested. Its {@link TensorInfo} has offset -1 because no file range contains it.
 *
 * <p>Tensors of ggml types this reader does not decode are listed by name, and requesting one
 * throws a {@link CheckpointException} that names the tensor, the type id and the file.
 */
public final class GgufTensorStore extends MappedTensorStore {

    private static final Logger log = LoggerFactory.getLogger(GgufTensorStore.class);

    private final GgufFile gguf;
    /** Hugging Face name → GGUF name. */
    private final Map<String, String> ggufNames = new LinkedHashMap<>();
    private final Map<String, TensorInfo> rebuiltKvB = new LinkedHashMap<>();
    private int unsupportedCount;

    public GgufTensorStore(GgufFile gguf) {
        super(gguf.path(), DEFAULT_FP8_BLOCK);
        this.gguf = gguf;
        for (GgufTensor tensor : gguf.tensors().values()) {
            if (GgufTensorNames.isStackedExperts(tensor.name())) {
                addExperts(tensor);
            } else {
                add(GgufTensorNames.toHuggingFace(tensor.name()), tensor, tensor.shape(), 0);
            }
        }
        listRebuiltKvB();
        log.debug("Opened {} with {} tensors ({} of unsupported types)", gguf, tensorNames().size(), unsupportedCount);
    }

    /** Opens the GGUF file at {@code path}. */
    public static GgufTensorStore open(Path path) {
        return new GgufTensorStore(GgufFile.read(path));
    }

    /** Returns the parsed header, for metadata such as {@code tokenizer.ggml.tokens}. */
    public GgufFile gguf() {
        return gguf;
    }

    private void add(String name, GgufTensor tensor, long[] shape, long extraOffset) {
        ggufNames.put(name, tensor.name());
        DType dtype = tensor.dtype();
        if (dtype == null) {
            unsupportedCount++;
            addUnreadable(name, gguf.path(), "tensor '" + name + "' (GGUF '" + tensor.name() + "') in " + gguf.path()
                    + " has ggml type " + tensor.ggmlType() + " (" + tensor.ggmlTypeName() + "), which this reader"
                    + " does not support; supported types: " + GgmlType.supportedNames()
                    + ". Requantise the model to one of them");
            return;
        }
        long elements = 1;
        for (long dim : shape) {
            elements *= dim;
        }
        long offset = gguf.dataOffset() + tensor.relativeOffset() + extraOffset;
        add(new TensorInfo(name, dtype, shape, gguf.path(), offset, dtype.bytesFor(elements)));
    }

    private void addExperts(GgufTensor stacked) {
        long[] shape = stacked.shape();
        if (shape.length != 3) {
            throw new CheckpointException("GGUF file " + gguf.path() + ": stacked expert tensor '" + stacked.name()
                    + "' has shape " + java.util.Arrays.toString(shape) + "; expected [experts, rows, cols]");
        }
        long[] expertShape = {shape[1], shape[2]};
        DType dtype = stacked.dtype();
        long expertBytes = dtype == null ? 0 : dtype.bytesFor(shape[1] * shape[2]);
        for (int expert = 0; expert < shape[0]; expert++) {
            add(GgufTensorNames.expertName(stacked.name(), expert), stacked, expertShape, expert * expertBytes);
        }
    }

    private void listRebuiltKvB() {
        for (String name : List.copyOf(tensorNames())) {
            TensorInfo keyHalf = listed(name);
            if (keyHalf == null || !name.endsWith(".self_attn.k_b_proj.weight")) {
                continue;
            }
            String prefix = name.substring(0, name.length() - "k_b_proj.weight".length());
            TensorInfo valueHalf = listed(prefix + "v_b_proj.weight");
            if (valueHalf == null || contains(prefix + "kv_b_proj.weight")) {
                continue;
            }
            long[] keyShape = keyHalf.shape();
            long heads = keyShape[0];
            long kvLoraRank = keyShape[1];
            long rows = heads * (keyShape[2] + valueHalf.shape()[1]);
            String kvB = prefix + "kv_b_proj.weight";
            rebuiltKvB.put(kvB, new TensorInfo(kvB, DType.F32, new long[] {rows, kvLoraRank}, gguf.path(), -1,
                    4 * rows * kvLoraRank));
            addName(kvB, gguf.path());
        }
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo rebuilt = rebuiltKvB.get(name);
        return rebuilt != null ? rebuilt : super.info(name);
    }

    @Override
    public Matrix matrix(String name, int rows, int cols) {
        TensorInfo rebuilt = rebuiltKvB.get(name);
        if (rebuilt == null) {
            return super.matrix(name, rows, cols);
        }
        checkShape(rebuilt, new long[] {rows, cols});
        String prefix = name.substring(0, name.length() - "kv_b_proj.weight".length());
        return joinKvB(info(prefix + "k_b_proj.weight"), info(prefix + "v_b_proj.weight"), rows, cols);
    }

    /**
     * Rebuilds {@code kv_b_proj} ({@code [heads·(nope + v), kv_lora_rank]}, per head the key rows
     * then the value rows) from llama.cpp's transposed key half and its value half.
     */
    private Matrix joinKvB(TensorInfo keyHalf, TensorInfo valueHalf, int rows, int kvLoraRank) {
        int heads = (int) keyHalf.shape()[0];
        int nope = (int) keyHalf.shape()[2];
        int valueDim = (int) valueHalf.shape()[1];
        float[] keys = decode(keyHalf);
        float[] values = decode(valueHalf);
        float[] out = new float[rows * kvLoraRank];
        int rowsPerHead = nope + valueDim;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < nope; i++) {
                int outRow = (h * rowsPerHead + i) * kvLoraRank;
                for (int c = 0; c < kvLoraRank; c++) {
                    out[outRow + c] = keys[(h * kvLoraRank + c) * nope + i];
                }
            }
            for (int j = 0; j < valueDim; j++) {
                System.arraycopy(values, (h * valueDim + j) * kvLoraRank,
                        out, (h * rowsPerHead + nope + j) * kvLoraRank, kvLoraRank);
            }
        }
        return new FloatMatrix(out, rows, kvLoraRank);
    }

    private float[] decode(TensorInfo info) {
        MemorySegment segment = segment(info);
        try {
            return Matrices.toFloats(info.dtype(), segment, info.elementCount());
        } catch (UnsupportedOperationException e) {
            throw new CheckpointException("cannot rebuild kv_b_proj from '" + info.name() + "' in " + info.file()
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    protected CheckpointException missing(String name) {
        return new CheckpointException("tensor '" + name + "' not found in GGUF file " + gguf.path()
                + " (architecture '" + gguf.getString(GgufFile.ARCHITECTURE_KEY, "unknown") + "'); closest names: "
                + SimilarNames.closestTo(name, tensorNames()));
    }

    /** Returns the llama.cpp name that Hugging Face name {@code name} was read from, or null. */
    public String ggufName(String name) {
        return ggufNames.get(name);
    }
}
