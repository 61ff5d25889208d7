package io.sparsemesh.core.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads little-endian values one after another from a file through a small buffer, so parsing a
 * header reads only the header's bytes. Reading past the end of the file is a
 * {@link CheckpointException} that names the file, the offset and what was being read.
 */
final class HeaderReader {

    private static final int BUFFER_BYTES = 1 << 16;

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    /** File offset of {@code buffer}'s first byte. */
    private long bufferStart;

    HeaderReader(Path file, FileChannel channel, long startOffset) throws IOException {
        this.file = file;
        this.channel = channel;
        this.fileSize = channel.size();
        this.bufferStart = startOffset;
        buffer.limit(0);
    }

    /** File offset of the next byte to be read. */
    long position() {
        return bufferStart + buffer.position();
    }

    long fileSize() {
        return fileSize;
    }

    int u8(String what) throws IOException {
        require(1, what);
        return buffer.get() & 0xFF;
    }

    short i16(String what) throws IOException {
        require(2, what);
        return buffer.getShort();
    }

    int i32(String what) throws IOException {
        require(4, what);
        return buffer.getInt();
    }

    long i64(String what) throws IOException {
        require(8, what);
        return buffer.getLong();
    }

    float f32(String what) throws IOException {
        require(4, what);
        return buffer.getFloat();
    }

    double f64(String what) throws IOException {
        require(8, what);
        return buffer.getDouble();
    }

    /** Reads {@code length} bytes as UTF-8, failing before allocating when the file is too short. */
    String utf8(long length, String what) throws IOException {
        if (length < 0 || length > fileSize - position()) {
            throw truncated(what + " of " + Long.toUnsignedString(length) + " bytes");
        }
        byte[] bytes = new byte[(int) length];
        int done = 0;
        while (done < bytes.length) {
            require(1, what);
            int chunk = Math.min(buffer.remaining(), bytes.length - done);
            buffer.get(bytes, done, chunk);
            done += chunk;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Fails unless {@code count} more items of at least {@code bytesEach} bytes can follow in the file. */
    void requireRoom(long count, long bytesEach, String what) {
        if (count < 0 || (bytesEach > 0 && count > (fileSize - position()) / bytesEach)) {
            throw truncated(Long.toUnsignedString(count) + " " + what);
        }
    }

    private void require(int bytes, String what) throws IOException {
        if (buffer.remaining() >= bytes) {
            return;
        }
        bufferStart += buffer.position();
        buffer.compact();
        long wanted = Math.min(buffer.capacity(), fileSize - bufferStart);
        while (buffer.position() < wanted) {
            if (channel.read(buffer, bufferStart + buffer.position()) < 0) {
                break;
            }
        }
        buffer.flip();
        if (buffer.remaining() < bytes) {
            throw truncated(what);
        }
    }

    CheckpointException truncated(String what) {
        return new CheckpointException("file " + file + " ends at byte " + fileSize + " while reading " + what
                + " at offset " + position() + "; the file is truncated or not in the expected format");
    }
}
