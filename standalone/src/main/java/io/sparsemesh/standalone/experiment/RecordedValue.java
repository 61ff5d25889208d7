package io.sparsemesh.standalone.experiment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON of one {@code sparsemesh.generations} record read for a replay.
 *
 * @param origin where it was read, for messages: {@code generations.jsonl line 4} or
 *               {@code sparsemesh.generations partition 0 offset 17}
 */
record RecordedValue(String origin, byte[] json) {

    /** Reads a JSONL export of the topic, one record per line; blank lines are skipped. */
    static List<RecordedValue> readLines(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read the replay file " + file, e);
        }
        List<RecordedValue> values = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.isEmpty()) {
                values.add(new RecordedValue(file.getFileName() + " line " + (i + 1), line.getBytes(StandardCharsets.UTF_8)));
            }
        }
        if (values.isEmpty()) {
            throw new ReplayException(file + " has no records; export some from the sparsemesh.generations topic");
        }
        return values;
    }
}
