package io.sparsemesh.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpoolTest {

    private static final long MAX_BYTES = 256 * 1024;

    @TempDir
    Path directory;

    @Test
    void peekReturnsRecordsInAppendOrder() throws IOException {
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            for (int i = 0; i < 10; i++) {
                assertTrue(spool.append(bytes("key-" + i), bytes("value-" + i)));
            }
            List<SpooledRecord> records = spool.peek(100);
            assertEquals(10, records.size());
            for (int i = 0; i < 10; i++) {
                assertEquals("key-" + i, text(records.get(i).key()));
                assertEquals("value-" + i, text(records.get(i).value()));
            }
            assertEquals(10, spool.pendingRecords());
        }
    }

    @Test
    void commitConsumesPrefixOnly() throws IOException {
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            for (int i = 0; i < 5; i++) {
                spool.append(bytes("k"), bytes("v" + i));
            }
            List<SpooledRecord> first = spool.peek(3);
            spool.commit(first.get(2), 3);

            List<SpooledRecord> rest = spool.peek(100);
            assertEquals(List.of("v3", "v4"), rest.stream().map(r -> text(r.value())).toList());
            assertEquals(2, spool.pendingRecords());
            assertEquals(2L * (8 + 2 + 1 + 2), spool.pendingBytes());
        }
    }

    @Test
    void reopenResumesAtCursor() throws IOException {
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            for (int i = 0; i < 6; i++) {
                spool.append(bytes("k" + i), bytes("v" + i));
            }
            List<SpooledRecord> sent = spool.peek(4);
            spool.commit(sent.get(3), 4);
        }
        try (Spool reopened = Spool.open(directory, MAX_BYTES)) {
            assertEquals(2, reopened.pendingRecords());
            assertEquals(List.of("v4", "v5"), reopened.peek(100).stream().map(r -> text(r.value())).toList());
            reopened.append(bytes("k6"), bytes("v6"));
            assertEquals(List.of("v4", "v5", "v6"), reopened.peek(100).stream().map(r -> text(r.value())).toList());
        }
    }

    @Test
    void tornTailIsCutOffOnReopen() throws IOException {
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            spool.append(bytes("k0"), bytes("complete"));
            spool.append(bytes("k1"), bytes("also complete"));
        }
        Path segment = segments().getFirst();
        long intact = Files.size(segment);
        // A crash mid-append leaves a header that promises more bytes than follow.
        Files.write(segment, new byte[] {0, 0, 0, 40, 1, 2, 3, 4, 0, 2, 'k'}, StandardOpenOption.APPEND);

        try (Spool reopened = Spool.open(directory, MAX_BYTES)) {
            assertEquals(2, reopened.pendingRecords());
            assertEquals(List.of("complete", "also complete"),
                    reopened.peek(100).stream().map(r -> text(r.value())).toList());
            assertEquals(intact, Files.size(segment));
        }
    }

    @Test
    void corruptRecordFailsChecksum() throws IOException {
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            spool.append(bytes("k0"), bytes("first"));
            spool.append(bytes("k1"), bytes("second"));
        }
        Path segment = segments().getFirst();
        byte[] content = Files.readAllBytes(segment);
        content[content.length - 1] ^= 0x20;
        Files.write(segment, content);

        try (Spool reopened = Spool.open(directory, MAX_BYTES)) {
            assertEquals(List.of("first"), reopened.peek(100).stream().map(r -> text(r.value())).toList());
        }
    }

    @Test
    void appendRejectsRecordBeyondBound() throws IOException {
        byte[] value = new byte[1000];
        int accepted = 0;
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            while (spool.append(bytes("k"), value)) {
                accepted++;
            }
            long frame = 8 + 2 + 1 + 1000;
            assertEquals(MAX_BYTES / frame, accepted);
            assertEquals(accepted * frame, spool.pendingBytes());
            assertFalse(spool.append(bytes("k"), value));

            List<SpooledRecord> sent = spool.peek(10);
            spool.commit(sent.getLast(), 10);
            assertTrue(spool.append(bytes("k"), value), "room again after a commit");
        }
    }

    @Test
    void segmentsRollAndSentOnesAreDeleted() throws IOException {
        byte[] value = new byte[4000];
        try (Spool spool = Spool.open(directory, 1024 * 1024)) {
            for (int i = 0; i < 100; i++) {
                value[0] = (byte) i;
                assertTrue(spool.append(bytes("k"), value));
            }
            assertTrue(segments().size() > 3, "1 MiB bound rolls 64 KiB segments, so 400 KB takes several: " + segments());

            List<SpooledRecord> all = new ArrayList<>();
            while (spool.pendingRecords() > 0) {
                List<SpooledRecord> batch = spool.peek(7);
                all.addAll(batch);
                spool.commit(batch.getLast(), batch.size());
            }
            assertEquals(100, all.size());
            for (int i = 0; i < 100; i++) {
                assertEquals((byte) i, all.get(i).value()[0]);
            }
            assertEquals(1, segments().size(), "only the segment under the cursor remains");
            assertEquals(0, spool.pendingBytes());
        }
    }

    @Test
    void emptyKeyRoundTrips() throws IOException {
        try (Spool spool = Spool.open(directory, MAX_BYTES)) {
            spool.append(new byte[0], bytes("v"));
            SpooledRecord record = spool.peek(1).getFirst();
            assertArrayEquals(new byte[0], record.key());
            assertEquals("v", text(record.value()));
        }
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
