package io.sparsemesh.standalone.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The plan fields that decide what a saved run measured, without appearing in its point id. A
 * sweep resumes only when these are unchanged. The axes, {@code repetitions} and {@code baseline}
 * are left out, because their values only add or remove points and repetitions: every axis value
 * is part of the point id, so a new value gets new result files. {@code name} and {@code quality}
 * change only the report.
 */
final class PlanFingerprint {

    private PlanFingerprint() {
    }

    /** Returns the measurement fields of {@code plan} by their name in the plan file. */
    static Map<String, String> of(ExperimentPlan plan) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("model", plan.model().toString());
        fields.put("warmup_requests", Integer.toString(plan.warmupRequests()));
        fields.put("requests", Integer.toString(plan.requests()));
        fields.put("workload.arrival", plan.workload().arrival().name().toLowerCase());
        fields.put("workload.corpus", plan.workload().corpus().toString());
        ExperimentPlan.Replay replay = plan.workload().replay();
        fields.put("workload.replay", replay == null ? "none" : describe(replay));
        return fields;
    }

    /** Describes a replay with the Kafka properties sorted, because {@link Map#copyOf} has no stable order. */
    private static String describe(ExperimentPlan.Replay replay) {
        if (replay.file() != null) {
            return "file " + replay.file() + ", without_prompt " + replay.withoutPrompt();
        }
        ExperimentPlan.KafkaTopic kafka = replay.kafka();
        return "kafka " + kafka.bootstrapServers() + " topic " + kafka.topic() + ", max_records " + kafka.maxRecords()
                + ", from " + kafka.from() + ", properties " + new TreeMap<>(kafka.properties())
                + ", without_prompt " + replay.withoutPrompt();
    }

    /** Returns one {@code field: saved -> current} entry for each measurement field that differs. */
    static List<String> differences(ExperimentPlan saved, ExperimentPlan current) {
        Map<String, String> before = of(saved);
        Map<String, String> after = of(current);
        List<String> changed = new ArrayList<>();
        for (Map.Entry<String, String> field : after.entrySet()) {
            String old = before.get(field.getKey());
            if (!Objects.equals(old, field.getValue())) {
                changed.add(field.getKey() + ": " + old + " -> " + field.getValue());
            }
        }
        return changed;
    }
}
