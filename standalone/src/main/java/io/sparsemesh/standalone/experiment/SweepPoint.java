package io.sparsemesh.standalone.experiment;

import java.util.Locale;

/**
 * One point of a sweep: a topology of the mesh (or the single-process engine) driven at one load
 * with one request shape. Index settings are null where the model's own config is kept.
 *
 * @param pingPong the router's {@code sparsemesh.router.ping-pong} setting; false for the engine
 * @param load     clients (closed loop) or requests per second (open loop)
 */
public record SweepPoint(Kind kind, int shards, int replicas, int attentionReplicas, String wireDtype,
                         boolean pingPong, Integer indexFullEvery, Integer indexTopk, double load, int promptTokens,
                         int outputTokens) {

    /** What serves the requests: the multi-process mesh or the single-process engine baseline. */
    public enum Kind { MESH, ENGINE }

    /**
     * A stable name, used as the file name of the point's results and to resume a sweep. Ping-pong
     * adds {@code -pingpong} only when on, so points of sweeps from before the axis keep their names.
     */
    public String id() {
        String loadPart = load == Math.rint(load) ? Integer.toString((int) load) : Double.toString(load).replace('.', '_');
        String shape = "-l" + loadPart + "-p" + promptTokens + "-o" + outputTokens + indexPart();
        if (kind == Kind.ENGINE) {
            return "engine" + shape;
        }
        return "mesh-s" + shards + "-r" + replicas + "-a" + attentionReplicas + "-" + wireDtype
                + (pingPong ? "-pingpong" : "") + shape;
    }

    /** A short label for progress lines and plot legends. */
    public String label() {
        String topology = kind == Kind.ENGINE ? "engine"
                : "%d shard(s) x %d, %d attention, %s%s".formatted(shards, replicas, attentionReplicas, wireDtype,
                pingPong ? ", ping-pong" : "");
        return "%s, load %s, %d+%d tokens%s".formatted(topology, formatLoad(load), promptTokens, outputTokens,
                indexPart().replace("-", " "));
    }

    /** The index-sharing and top-k variant, e.g. {@code full1in2/topk8}, or {@code model}. */
    public String indexVariant() {
        if (indexFullEvery == null && indexTopk == null) {
            return "model";
        }
        return (indexFullEvery == null ? "" : "full1in" + indexFullEvery)
                + (indexFullEvery != null && indexTopk != null ? "/" : "")
                + (indexTopk == null ? "" : "topk" + indexTopk);
    }

    private String indexPart() {
        return (indexFullEvery == null ? "" : "-full1in" + indexFullEvery) + (indexTopk == null ? "" : "-topk" + indexTopk);
    }

    static String formatLoad(double load) {
        return load == Math.rint(load) ? Integer.toString((int) load) : String.format(Locale.ROOT, "%.2f", load);
    }
}
