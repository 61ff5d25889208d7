package io.sparsemesh.deploy;

import io.sparsemesh.core.moe.ExpertShard.DensePlacement;

import java.nio.file.Path;

/**
 * A deployment to render: a model split over expert shards, and how the shards scale.
 *
 * @param model                 the checkpoint on this machine, measured to size the components
 * @param modelMountPath        where the model volume is mounted in every container
 * @param shards                expert shards the model is spread over
 * @param replicas              replicas each shard starts with, and the least its autoscaler keeps
 * @param maxReplicas           most replicas a shard's autoscaler may start
 * @param densePlacement        where dense FFNs run (SHARDS spreads them over the expert shards)
 * @param targetTokensPerSecond routed tokens per second one expert replica should carry; the
 *                              autoscaler adds replicas when the shard's average rises above it
 * @param attentionReplicas     attention replicas; sequences are pinned to one, so this is fixed, not autoscaled
 * @param maxCachedTokens       token positions one attention replica may cache (sizes its heap)
 * @param namespace             Kubernetes namespace of the mesh
 * @param imagePrefix           image names are {@code <imagePrefix><module>:<imageTag>}, as Jib builds them
 * @param imageTag              tag of the service images
 */
public record MeshPlan(Path model, String modelMountPath, int shards, int replicas, int maxReplicas,
                       DensePlacement densePlacement, long targetTokensPerSecond, int attentionReplicas,
                       long maxCachedTokens,
                       String namespace, String imagePrefix, String imageTag) {

    /** The bundled model, the default render committed under {@code k8s/}. */
    public static final String DEFAULT_MODEL = "models/stories260K/stories260K.gguf";

    public MeshPlan {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, got " + shards);
        }
        if (replicas < 1 || maxReplicas < replicas) {
            throw new IllegalArgumentException("replicas (" + replicas + ") must be at least 1 and at most max-replicas ("
                    + maxReplicas + ")");
        }
        if (targetTokensPerSecond < 1) {
            throw new IllegalArgumentException("target tokens per second must be positive, got " + targetTokensPerSecond);
        }
        if (attentionReplicas < 1) {
            throw new IllegalArgumentException("attention replicas must be at least 1, got " + attentionReplicas);
        }
        if (maxCachedTokens < 1) {
            throw new IllegalArgumentException("max cached tokens must be positive, got " + maxCachedTokens);
        }
    }

    /** Returns the model's path inside the containers: its file or folder name under the mount path. */
    public String containerModelPath() {
        return modelMountPath + "/" + model.getFileName();
    }

    /** Returns this plan with the checkpoint at another path (the same model seen from another folder). */
    public MeshPlan withModel(Path other) {
        return new MeshPlan(other, modelMountPath, shards, replicas, maxReplicas, densePlacement, targetTokensPerSecond,
                attentionReplicas, maxCachedTokens, namespace, imagePrefix, imageTag);
    }

    /** Image of a service module. */
    public String image(String module) {
        return imagePrefix + module + ":" + imageTag;
    }
}
