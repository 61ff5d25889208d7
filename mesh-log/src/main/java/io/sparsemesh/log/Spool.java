package io.sparsemesh.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The records of one topic that are waiting for the broker, on disk, in the order they were
 * appended. Survives process restarts: reopening the directory resumes at the first record that
 * was not acknowledged.
 *
 * <p>Layout of the directory: segment files {@code <number>.seg} (20-digit, ascending) holding frames
 * {@code [int payloadLength][int crc32c(payload)][short keyLength][key][value]} (big-endian), and
 * {@code cursor} holding the segment number and byte position of the first unsent frame. The cursor
 * is replaced atomically after each acknowledged batch, and segments wholly before it are deleted
 * afterwards, so a crash at any point loses no unsent record; at worst records sent just before the
 * crash are sent again. A frame torn by a crash mid-append fails its length or CRC check on reopen
 * and is cut off with a warning.
 *
 * <p>Bound: {@link #append} rejects a record when the unsent bytes would exceed {@code maxBytes};
 * disk use stays below {@code maxBytes} plus one segment of sent records.
 *
 * <p>Thread safety: every method locks the spool; one thread appends while another sends.
 * NOTE: appends are not fsynced, so records reach the disk when the OS writes its page cache; a
 * power loss can lose the newest ones, a process crash cannot.
 */
final class Spool implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(Spool.class);

    private static final int HEADER_BYTES = 8;
    private static final String SEGMENT_SUFFIX = ".seg";
    private static final long MIN_SEGMENT_BYTES = 64 * 1024;
    private static final int SEGMENTS_PER_BOUND = 16;

    private final Path directory;
    private final Path cursorFile;
    private final long maxBytes;
    private final long segmentBytes;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();

    private long cursorSegment;
    private long cursorPosition;
    private long pendingBytes;
    private long pendingRecords;

    private Spool(Path directory, long maxBytes) {
        this.directory = directory;
        this.cursorFile = directory.resolve("cursor");
        this.maxBytes = maxBytes;
        this.segmentBytes = Math.max(MIN_SEGMENT_BYTES, maxBytes / SEGMENTS_PER_BOUND);
    }

    /**
     * Opens the spool in {@code directory}, creating it if needed, and checks the frames that are
     * still to be sent.
     *
     * @param maxBytes bound on the bytes of unsent frames
     */
    static Spool open(Path directory, long maxBytes) throws IOException {
        if (maxBytes < MIN_SEGMENT_BYTES) {
            throw new IllegalArgumentException("spool size " + maxBytes + " bytes is below the minimum of "
                    + MIN_SEGMENT_BYTES + " bytes; raise the spool size");
        }
        Files.createDirectories(directory);
        Spool spool = new Spool(directory, maxBytes);
        spool.recover();
        return spool;
    }

    /**
     * Appends a record at the end. Returns false, and leaves the spool unchanged, when the record
     * would take the unsent bytes above the bound.
     */
    synchronized boolean append(byte[] key, byte[] value) {
        int payloadLength = 2 + key.length + value.length;
        long frameLength = HEADER_BYTES + (long) payloadLength;
        if (key.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("record key of " + key.length + " bytes exceeds " + Short.MAX_VALUE + " bytes");
        }
        if (pendingBytes + frameLength > maxBytes) {
            return false;
        }
        ByteBuffer frame = ByteBuffer.allocate((int) frameLength);
        frame.putInt(payloadLength).putInt(0).putShort((short) key.length).put(key).put(value);
        CRC32C crc = new CRC32C();
        crc.update(frame.array(), HEADER_BYTES, payloadLength);
        frame.putInt(4, (int) crc.getValue());
        frame.flip();

        Segment segment = segmentFor(frameLength);
        try {
            long position = segment.size;
            while (frame.hasRemaining()) {
                position += segment.channel.write(frame, position);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("failed to append to spool segment " + segment.path, e);
        }
        segment.size += frameLength;
        pendingBytes += frameLength;
        pendingRecords++;
        return true;
    }

    /** Reads up to {@code maxRecords} unsent records from the cursor on, without consuming them. */
    synchronized List<SpooledRecord> peek(int maxRecords) {
        List<SpooledRecord> records = new ArrayList<>();
        long segmentNumber = cursorSegment;
        long position = cursorPosition;
        for (Segment segment : segments) {
            if (segment.number < segmentNumber) {
                continue;
            }
            if (segment.number > segmentNumber) {
                segmentNumber = segment.number;
                position = 0;
            }
            while (position < segment.size && records.size() < maxRecords) {
                SpooledRecord record = readFrame(segment, position);
                records.add(record);
                position = record.nextPosition();
            }
            if (records.size() == maxRecords) {
                break;
            }
        }
        return records;
    }

    /**
     * Moves the cursor past {@code last} and the records before it, which the broker acknowledged,
     * and deletes segments that hold no unsent record.
     *
     * @param count records from the cursor up to and including {@code last}
     */
    synchronized void commit(SpooledRecord last, int count) {
        long consumed = consumedBytes(last);
        cursorSegment = last.segment();
        cursorPosition = last.nextPosition();
        pendingBytes -= consumed;
        pendingRecords -= count;
        try {
            writeCursor();
            Iterator<Segment> older = segments.iterator();
            while (older.hasNext()) {
                Segment segment = older.next();
                if (segment.number >= cursorSegment) {
                    break;
                }
                segment.channel.close();
                Files.deleteIfExists(segment.path);
                older.remove();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("failed to advance the spool cursor in " + directory, e);
        }
    }

    /** Bytes of unsent frames. */
    synchronized long pendingBytes() {
        return pendingBytes;
    }

    /** Number of unsent records. */
    synchronized long pendingRecords() {
        return pendingRecords;
    }

    Path directory() {
        return directory;
    }

    @Override
    public synchronized void close() throws IOException {
        for (Segment segment : segments) {
            segment.channel.close();
        }
        segments.clear();
    }

    private long consumedBytes(SpooledRecord last) {
        long consumed = 0;
        for (Segment segment : segments) {
            if (segment.number < cursorSegment || segment.number > last.segment()) {
                continue;
            }
            long from = segment.number == cursorSegment ? cursorPosition : 0;
            long to = segment.number == last.segment() ? last.nextPosition() : segment.size;
            consumed += to - from;
        }
        return consumed;
    }

    private Segment segmentFor(long frameLength) {
        Segment last = segments.peekLast();
        if (last != null && (last.size == 0 || last.size + frameLength <= segmentBytes)) {
            return last;
        }
        long number = last == null ? cursorSegment : last.number + 1;
        try {
            Segment segment = Segment.open(directory.resolve(segmentName(number)), number);
            segments.addLast(segment);
            return segment;
        } catch (IOException e) {
            throw new UncheckedIOException("failed to create spool segment " + segmentName(number) + " in " + directory, e);
        }
    }

    private SpooledRecord readFrame(Segment segment, long position) {
        try {
            ByteBuffer header = readFully(segment.channel, position, HEADER_BYTES);
            int payloadLength = header.getInt();
            ByteBuffer payload = readFully(segment.channel, position + HEADER_BYTES, payloadLength);
            int keyLength = payload.getShort();
            byte[] key = new byte[keyLength];
            payload.get(key);
            byte[] value = new byte[payload.remaining()];
            payload.get(value);
            return new SpooledRecord(key, value, segment.number, position + HEADER_BYTES + payloadLength);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read spool segment " + segment.path + " at byte " + position, e);
        }
    }

    private void recover() throws IOException {
        List<Long> numbers;
        try (Stream<Path> files = Files.list(directory)) {
            numbers = files.map(path -> path.getFileName().toString())
                    .filter(name -> name.endsWith(SEGMENT_SUFFIX))
                    .map(name -> Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length())))
                    .sorted()
                    .toList();
        }
        readCursor();
        for (long number : numbers) {
            Path path = directory.resolve(segmentName(number));
            if (number < cursorSegment) {
                Files.delete(path);
                continue;
            }
            Segment segment = Segment.open(path, number);
            segments.addLast(segment);
        }
        if (segments.isEmpty() || segments.peekFirst().number > cursorSegment) {
            cursorSegment = segments.isEmpty() ? cursorSegment : segments.peekFirst().number;
            cursorPosition = 0;
        }
        for (Segment segment : segments) {
            long start = segment.number == cursorSegment ? Math.min(cursorPosition, segment.size) : 0;
            if (segment.number == cursorSegment) {
                cursorPosition = start;
            }
            scan(segment, start);
        }
        if (pendingRecords > 0) {
            log.info("Spool {} contains {} unsent records ({} bytes) from an earlier run", directory, pendingRecords, pendingBytes);
        }
    }

    /** Counts the valid frames of a segment from {@code start} and cuts off a torn or corrupt tail. */
    private void scan(Segment segment, long start) throws IOException {
        long position = start;
        while (position < segment.size) {
            long valid = validFrameLength(segment, position);
            if (valid < 0) {
                log.warn("Spool segment {} has an incomplete or corrupt record at byte {}; dropping its last {} bytes",
                        segment.path, position, segment.size - position);
                segment.channel.truncate(position);
                segment.size = position;
                break;
            }
            position += valid;
            pendingBytes += valid;
            pendingRecords++;
        }
    }

    private long validFrameLength(Segment segment, long position) throws IOException {
        if (segment.size - position < HEADER_BYTES) {
            return -1;
        }
        ByteBuffer header = readFully(segment.channel, position, HEADER_BYTES);
        int payloadLength = header.getInt();
        int expectedCrc = header.getInt();
        if (payloadLength < 2 || payloadLength > segment.size - position - HEADER_BYTES) {
            return -1;
        }
        ByteBuffer payload = readFully(segment.channel, position + HEADER_BYTES, payloadLength);
        CRC32C crc = new CRC32C();
        crc.update(payload.duplicate());
        int keyLength = payload.getShort();
        if ((int) crc.getValue() != expectedCrc || keyLength < 0 || keyLength > payloadLength - 2) {
            return -1;
        }
        return HEADER_BYTES + (long) payloadLength;
    }

    private void readCursor() throws IOException {
        if (!Files.exists(cursorFile)) {
            cursorSegment = 0;
            cursorPosition = 0;
            return;
        }
        ByteBuffer cursor = ByteBuffer.wrap(Files.readAllBytes(cursorFile));
        if (cursor.remaining() != 16) {
            throw new IOException("spool cursor " + cursorFile + " has " + cursor.remaining()
                    + " bytes, expected 16; delete the spool directory " + directory + " to start empty");
        }
        cursorSegment = cursor.getLong();
        cursorPosition = cursor.getLong();
    }

    private void writeCursor() throws IOException {
        Path temporary = directory.resolve("cursor.tmp");
        Files.write(temporary, ByteBuffer.allocate(16).putLong(cursorSegment).putLong(cursorPosition).array());
        Files.move(temporary, cursorFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new IOException("unexpected end of file at byte " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }

    private static String segmentName(long number) {
        return String.format("%020d%s", number, SEGMENT_SUFFIX);
    }

    /** One segment file and its size in bytes. */
    private static final class Segment {
        final long number;
        final Path path;
        final FileChannel channel;
        long size;

        private Segment(long number, Path path, FileChannel channel, long size) {
            this.number = number;
            this.path = path;
            this.channel = channel;
            this.size = size;
        }

        static Segment open(Path path, long number) throws IOException {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            return new Segment(number, path, channel, channel.size());
        }
    }
}
