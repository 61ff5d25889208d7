package io.sparsemesh.standalone.experiment;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Expands a plan into the points to measure, engine baselines first. */
public final class Sweep {

    private Sweep() {
    }

    /**
     * Returns the cross product of the plan's axes as mesh points, preceded, when the plan asks for
     * a baseline, by one single-process engine point per load and request shape (with the model's
     * own index settings).
     */
    public static List<SweepPoint> points(ExperimentPlan plan) {
        ExperimentPlan.Axes axes = plan.axes();
        List<SweepPoint> mesh = new ArrayList<>();
        for (int shards : axes.shards()) {
            for (int replicas : axes.replicas()) {
                for (int attention : axes.attentionReplicas()) {
                    for (String wire : axes.wireDtype()) {
                        for (boolean pingPong : axes.pingPong()) {
                            for (Integer fullEvery : axes.indexFullEvery()) {
                                for (Integer topk : axes.indexTopk()) {
                                    for (int prompt : axes.promptTokens()) {
                                        for (int output : axes.outputTokens()) {
                                            for (double load : axes.load()) {
                                                mesh.add(new SweepPoint(SweepPoint.Kind.MESH, shards, replicas, attention,
                                                        wire, pingPong, fullEvery, topk, load, prompt, output));
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if (!plan.baseline()) {
            return mesh;
        }
        Set<SweepPoint> engine = new LinkedHashSet<>();
        for (SweepPoint point : mesh) {
            engine.add(engineFor(point));
        }
        List<SweepPoint> all = new ArrayList<>(engine);
        all.addAll(mesh);
        return all;
    }

    /** The engine baseline a mesh point's throughput is compared with: same load and request shape. */
    public static SweepPoint engineFor(SweepPoint point) {
        return new SweepPoint(SweepPoint.Kind.ENGINE, 0, 0, 0, "f32", false, null, null, point.load(),
                point.promptTokens(), point.outputTokens());
    }
}
