package io.sparsemesh.standalone.experiment;

/**
 * Counts of the records a replay read, by what became of them. Every record read is counted once among
 * {@code withPrompt}, {@code withLengths} and the skipped counts; {@code truncated} counts the
 * replayed prompts cut to fit the model's context.
 *
 * @param source                where the records came from, e.g. the topic, servers and offsets
 * @param withPrompt            records replayed with their own prompt (text or chat messages)
 * @param withLengths           records without prompt text replayed with corpus prompts of their length
 * @param skippedWithoutPrompt  records without prompt text left out ({@code without_prompt: skip})
 * @param skippedNoCompletion   records that generated no token (errors, early cancellations)
 * @param skippedUnknownVersion records of a {@code schema_version} this build does not read
 * @param skippedInvalid        values that are no valid record, or chat messages the template rejects
 */
public record ReplaySummary(String source, int read, int withPrompt, int withLengths, int skippedWithoutPrompt,
                            int skippedNoCompletion, int skippedUnknownVersion, int skippedInvalid, int truncated) {

    /** Returns the records that became requests. */
    public int replayed() {
        return withPrompt + withLengths;
    }
}
