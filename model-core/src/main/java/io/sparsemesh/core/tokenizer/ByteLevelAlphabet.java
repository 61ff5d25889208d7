package io.sparsemesh.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's byte-to-character map ({@code bytes_to_unicode}), which byte-level BPE vocabularies
 * (GPT-2, Llama 3, DeepSeek-V3, GLM) use to write arbitrary bytes as printable characters.
 * The 188 printable bytes {@code '!'..'~'}, {@code 0xA1..0xAC} and {@code 0xAE..0xFF} stand for
 * themselves; the other 68 bytes, in increasing order, get U+0100 to U+0143. So a space (0x20)
 * is written {@code Ġ} (U+0120) and a newline (0x0A) {@code Ċ} (U+010A).
 */
public final class ByteLevelAlphabet {

    private static final char[] CHAR_OF_BYTE = new char[256];
    /** Inverse of {@link #CHAR_OF_BYTE}, indexed by char; -1 for chars outside the alphabet. */
    private static final int[] BYTE_OF_CHAR = new int[256 + 68];

    static {
        Arrays.fill(BYTE_OF_CHAR, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            CHAR_OF_BYTE[b] = c;
            BYTE_OF_CHAR[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** Returns the character that stands for byte {@code value} (0..255). */
    public static char charOf(int value) {
        return CHAR_OF_BYTE[value];
    }

    /** Returns the byte that {@code c} stands for, or -1 when {@code c} is not in the alphabet. */
    public static int byteOf(char c) {
        return c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
    }

    /** Writes {@code bytes} as alphabet characters, as the ByteLevel pre-tokenizer does. */
    public static String encode(byte[] bytes) {
        StringBuilder text = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            text.append(CHAR_OF_BYTE[b & 0xFF]);
        }
        return text.toString();
    }

    /**
     * Returns the bytes a token string stands for, as Hugging Face's ByteLevel decoder computes
     * them: each character mapped back to its byte, or, when any character is outside the
     * alphabet (as in added tokens such as DeepSeek's {@code "<｜begin▁of▁sentence｜>"}), the token's own UTF-8 bytes.
     */
    public static byte[] decode(String token) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); i++) {
            int value = byteOf(token.charAt(i));
            if (value < 0) {
                return token.getBytes(StandardCharsets.UTF_8);
            }
            bytes.write(value);
        }
        return bytes.toByteArray();
    }
}
