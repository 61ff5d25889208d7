package io.sparsemesh.deploy;

import java.util.List;

/**
 * One file of the rendered tree: its path relative to the output folder, a comment for its head,
 * and the objects it holds, written as YAML documents in order. Objects are fabric8 Kubernetes
 * objects, or plain maps for kinds fabric8 does not model (Kustomization).
 */
record ManifestFile(String path, String comment, List<?> objects) {

    ManifestFile {
        objects = List.copyOf(objects);
    }
}
