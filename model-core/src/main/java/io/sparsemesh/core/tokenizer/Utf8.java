package io.sparsemesh.core.tokenizer;

/** UTF-8 helpers for incremental decoding. */
final class Utf8 {

    private Utf8() {
    }

    /**
     * Returns the length of the longest prefix of {@code bytes} that does not end inside a
     * multi-byte character. Invalid bytes count as complete (they decode to U+FFFD).
     */
    static int completePrefixLength(byte[] bytes) {
        int n = bytes.length;
        // A character is at most 4 bytes, so only the last 3 can start an unfinished one.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = bytes[n - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue;
            }
            int expected = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return expected > back ? n - back : n;
        }
        return n;
    }
}
