package io.sparsemesh.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository the tests run in. */
final class Repository {

    private Repository() {
    }

    /** Returns the first folder above the working directory that contains {@code testdata/} and {@code models/}. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("testdata")) && Files.isDirectory(dir.resolve("models"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
    }

    static Path path(String relative) {
        return root().resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the plan the committed {@code k8s/} was rendered from: the render command's defaults, run from the root. */
    static MeshPlan defaultPlan() {
        RenderCommand command = new RenderCommand();
        new picocli.CommandLine(command).parseArgs();
        MeshPlan plan = command.plan();
        return plan.withModel(root().resolve(plan.model()));
    }

    static String dashboard() {
        return read("deploy/grafana/dashboards/sparsemesh.json");
    }
}
