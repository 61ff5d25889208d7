package io.sparsemesh.log;

import java.time.Instant;
import java.util.Objects;

/**
 * Tokens the router sent to each routed expert of one MoE layer during one interval, written to
 * {@value #TOPIC} with the model id as key, so one model's intervals stay in order. A token routed
 * to k experts counts once for each of them. Schema:
 * {@code io/sparsemesh/log/schemas/sparsemesh.expert-load.schema.json}.
 *
 * @param schemaVersion   {@value #SCHEMA_VERSION}
 * @param model           id of the model
 * @param intervalStart   start of the interval (inclusive)
 * @param intervalEnd     end of the interval (exclusive)
 * @param layer           decoder layer index, from 0
 * @param tokensPerExpert tokens routed to each expert, indexed by expert id
 */
public record ExpertLoadRecord(int schemaVersion, String model, Instant intervalStart, Instant intervalEnd,
                               int layer, long[] tokensPerExpert) implements LogRecord {

    public static final String TOPIC = "sparsemesh.expert-load";
    public static final int SCHEMA_VERSION = 1;

    public ExpertLoadRecord {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(intervalStart, "intervalStart");
        Objects.requireNonNull(intervalEnd, "intervalEnd");
        tokensPerExpert = tokensPerExpert.clone();
    }

    /** Creates a record of the current schema version. */
    public ExpertLoadRecord(String model, Instant intervalStart, Instant intervalEnd, int layer, long[] tokensPerExpert) {
        this(SCHEMA_VERSION, model, intervalStart, intervalEnd, layer, tokensPerExpert);
    }

    @Override
    public long[] tokensPerExpert() {
        return tokensPerExpert.clone();
    }

    @Override
    public String topic() {
        return TOPIC;
    }

    @Override
    public String key() {
        return model;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ExpertLoadRecord that && schemaVersion == that.schemaVersion && layer == that.layer
                && model.equals(that.model) && intervalStart.equals(that.intervalStart)
                && intervalEnd.equals(that.intervalEnd) && java.util.Arrays.equals(tokensPerExpert, that.tokensPerExpert);
    }

    @Override
    public int hashCode() {
        return Objects.hash(schemaVersion, model, intervalStart, intervalEnd, layer, java.util.Arrays.hashCode(tokensPerExpert));
    }

    @Override
    public String toString() {
        return "ExpertLoadRecord[model=" + model + ", interval=" + intervalStart + ".." + intervalEnd + ", layer=" + layer
                + ", tokensPerExpert=" + java.util.Arrays.toString(tokensPerExpert) + "]";
    }
}
