package io.sparsemesh.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The committed {@code k8s/} is exactly what the render command writes for the bundled model with
 * its defaults: same files, same bytes. When this fails, run {@code deploy-tools/render} and commit.
 */
class CommittedManifestsTest {

    @Test
    void committedTreeIsTheDefaultRender() throws IOException {
        List<ManifestFile> files = RenderCommand.render(Repository.defaultPlan(), Repository.dashboard());
        Map<String, String> rendered = new ManifestWriter("deploy-tools/render").toText(files);

        Path root = Repository.path("k8s");
        TreeSet<String> committed = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(Files::isRegularFile).forEach(file -> committed.add(root.relativize(file).toString()));
        }
        assertEquals(new TreeSet<>(rendered.keySet()), committed,
                "files under k8s/ differ from the render; run deploy-tools/render and commit the result");
        for (Map.Entry<String, String> file : rendered.entrySet()) {
            assertEquals(file.getValue(), Files.readString(root.resolve(file.getKey())),
                    "k8s/" + file.getKey() + " differs from the render; run deploy-tools/render and commit the result");
        }
    }
}
