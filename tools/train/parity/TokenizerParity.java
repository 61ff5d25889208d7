import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Encodes each case of a cases file with Hugging Face tokenizers (through DJL) and compares the
 * ids with the ones the Python encoder wrote. A case line is: base64(UTF-8 text), a tab, then
 * the expected ids separated by spaces. Prints one line per mismatch and exits 1 if any.
 * Truncation is off because DJL truncates to 512 tokens by default.
 */
public class TokenizerParity {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: TokenizerParity TOKENIZER_JSON CASES_FILE");
            System.exit(2);
        }
        List<String> lines = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
        int mismatches = 0;
        int tokens = 0;
        try (HuggingFaceTokenizer tokenizer =
                HuggingFaceTokenizer.newInstance(Path.of(args[0]), Map.of("addSpecialTokens", "false", "truncation", "false"))) {
            for (int i = 0; i < lines.size(); i++) {
                String[] parts = lines.get(i).split("\t", -1);
                String text = new String(Base64.getDecoder().decode(parts[0]), StandardCharsets.UTF_8);
                long[] expected = parts[1].isEmpty() ? new long[0]
                        : Arrays.stream(parts[1].split(" ")).mapToLong(Long::parseLong).toArray();
                Encoding encoding = tokenizer.encode(text);
                long[] actual = encoding.getIds();
                tokens += actual.length;
                if (!Arrays.equals(expected, actual)) {
                    mismatches++;
                    System.out.printf("case %d differs: python %s, tokenizers %s%n", i,
                            Arrays.toString(expected), Arrays.toString(actual));
                }
                String decoded = tokenizer.decode(actual, false);
                if (!decoded.equals(text)) {
                    mismatches++;
                    System.out.printf("case %d does not round-trip: decoded %s%n", i, decoded);
                }
            }
        }
        System.out.printf("%d cases, %d tokens, %d mismatches%n", lines.size(), tokens, mismatches);
        System.exit(mismatches == 0 ? 0 : 1);
    }
}
