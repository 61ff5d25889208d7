package io.sparsemesh.deploy;

import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code render}: measures a model and writes the Kubernetes tree for it, one file per expert shard.
 * The committed {@code k8s/} is this command's output for the bundled model with its defaults.
 */
@Command(name = "render", mixinStandardHelpOptions = true,
        description = "Renders the Kubernetes manifests of a sparsemesh deployment for a model, shard count and replicas.")
public final class RenderCommand implements Callable<Integer> {

    @Option(names = "--model", defaultValue = MeshPlan.DEFAULT_MODEL,
            description = "Checkpoint to measure (GGUF file, llama2.c .bin or Hugging Face folder). Default: ${DEFAULT-VALUE}")
    Path model;

    @Option(names = "--model-mount", defaultValue = "/models",
            description = "Where the model volume is mounted in the containers; the model is <mount>/<file or folder name>. Default: ${DEFAULT-VALUE}")
    String modelMount;

    @Option(names = "--shards", defaultValue = "2", description = "Expert shards. Default: ${DEFAULT-VALUE}")
    int shards;

    @Option(names = "--replicas", defaultValue = "2",
            description = "Replicas per shard at start, and the autoscaler's minimum. Default: ${DEFAULT-VALUE}")
    int replicas;

    @Option(names = "--max-replicas", defaultValue = "8", description = "Autoscaler's maximum per shard. Default: ${DEFAULT-VALUE}")
    int maxReplicas;

    @Option(names = "--dense-placement", defaultValue = "SHARDS",
            description = "Where dense FFNs run: SHARDS or ROUTER. Default: ${DEFAULT-VALUE}")
    DensePlacement densePlacement;

    @Option(names = "--target-tokens-per-second", defaultValue = "2000",
            description = "Routed tokens per second one expert replica should carry. Default: ${DEFAULT-VALUE}")
    long targetTokensPerSecond;

    @Option(names = "--attention-replicas", defaultValue = "1",
            description = "Attention replicas (a StatefulSet; the router lists each one). Default: ${DEFAULT-VALUE}")
    int attentionReplicas;

    @Option(names = "--max-cached-tokens", defaultValue = "262144",
            description = "Token positions one attention replica may cache. Default: ${DEFAULT-VALUE}")
    long maxCachedTokens;

    @Option(names = "--namespace", defaultValue = "sparsemesh", description = "Namespace. Default: ${DEFAULT-VALUE}")
    String namespace;

    @Option(names = "--image-prefix", defaultValue = "sparsemesh/",
            description = "Images are <prefix><module>:<tag>. Default: ${DEFAULT-VALUE}")
    String imagePrefix;

    @Option(names = "--image-tag", defaultValue = "0.1.0-SNAPSHOT", description = "Image tag. Default: ${DEFAULT-VALUE}")
    String imageTag;

    @Option(names = "--dashboard", defaultValue = "deploy/grafana/dashboards/sparsemesh.json",
            description = "Grafana dashboard to ship in the monitoring component. Default: ${DEFAULT-VALUE}")
    Path dashboard;

    @Option(names = "--output", defaultValue = "k8s", description = "Folder to write. Default: ${DEFAULT-VALUE}")
    Path output;

    public static void main(String[] args) {
        System.exit(new CommandLine(new RenderCommand()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        MeshPlan plan = plan();
        List<ManifestFile> files = render(plan, Files.readString(dashboard));
        new ManifestWriter(commandLine()).write(output, files);
        System.out.println("Wrote " + files.size() + " files for " + plan.shards() + " expert shards of " + model
                + " under " + output);
        return 0;
    }

    MeshPlan plan() {
        return new MeshPlan(model, modelMount, shards, replicas, maxReplicas, densePlacement, targetTokensPerSecond,
                attentionReplicas, maxCachedTokens, namespace, imagePrefix, imageTag);
    }

    static List<ManifestFile> render(MeshPlan plan, String dashboardJson) {
        ModelFootprint footprint = ModelFootprint.measure(plan.model(), plan.shards(), plan.densePlacement());
        return new MeshRenderer(plan, footprint, dashboardJson).render();
    }

    /** Returns the command that reproduces this render, with only the options that differ from their defaults. */
    String commandLine() {
        RenderCommand defaults = new RenderCommand();
        new CommandLine(defaults).parseArgs();
        List<String> args = new ArrayList<>(List.of("deploy-tools/render"));
        addIfChanged(args, "--model", model, defaults.model);
        addIfChanged(args, "--model-mount", modelMount, defaults.modelMount);
        addIfChanged(args, "--shards", shards, defaults.shards);
        addIfChanged(args, "--replicas", replicas, defaults.replicas);
        addIfChanged(args, "--max-replicas", maxReplicas, defaults.maxReplicas);
        addIfChanged(args, "--dense-placement", densePlacement, defaults.densePlacement);
        addIfChanged(args, "--target-tokens-per-second", targetTokensPerSecond, defaults.targetTokensPerSecond);
        addIfChanged(args, "--attention-replicas", attentionReplicas, defaults.attentionReplicas);
        addIfChanged(args, "--max-cached-tokens", maxCachedTokens, defaults.maxCachedTokens);
        addIfChanged(args, "--namespace", namespace, defaults.namespace);
        addIfChanged(args, "--image-prefix", imagePrefix, defaults.imagePrefix);
        addIfChanged(args, "--image-tag", imageTag, defaults.imageTag);
        return String.join(" ", args);
    }

    private static void addIfChanged(List<String> args, String option, Object value, Object defaultValue) {
        if (!value.equals(defaultValue)) {
            args.add(option + " " + value);
        }
    }
}
