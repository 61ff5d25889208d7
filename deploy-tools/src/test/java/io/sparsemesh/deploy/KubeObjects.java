package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The objects of a manifest tree, each parsed by fabric8 into its typed class, with the file it
 * came from.
 */
final class KubeObjects {

    record Parsed(String file, KubernetesResource object) {
    }

    private final List<Parsed> objects;

    private KubeObjects(List<Parsed> objects) {
        this.objects = List.copyOf(objects);
    }

    /** Parses every YAML file under {@code root}. */
    static KubeObjects load(Path root) {
        List<Parsed> parsed = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                parsed.addAll(parse(root.relativize(file).toString(), Files.readString(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new KubeObjects(parsed);
    }

    /** Parses the YAML documents of one file's text. */
    static List<Parsed> parse(String file, String text) {
        List<Parsed> parsed = new ArrayList<>();
        for (String document : text.split("(?m)^---$")) {
            if (document.lines().allMatch(line -> line.isBlank() || line.startsWith("#"))) {
                continue;
            }
            parsed.add(new Parsed(file, Serialization.unmarshal(document)));
        }
        return parsed;
    }

    List<Parsed> all() {
        return objects;
    }

    /** Objects of a class in the given file folder prefix (e.g. {@code base/}). */
    <T extends HasMetadata> List<T> of(Class<T> type, String prefix) {
        return objects.stream().filter(p -> p.file().startsWith(prefix) && type.isInstance(p.object()))
                .map(p -> type.cast(p.object())).toList();
    }

    <T extends HasMetadata> T named(Class<T> type, String prefix, String name) {
        return find(type, prefix, name).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named "
                + name + " under " + prefix));
    }

    <T extends HasMetadata> Optional<T> find(Class<T> type, String prefix, String name) {
        return of(type, prefix).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
    }

    /** Returns the first container of the Deployment or StatefulSet {@code name} under {@code prefix}. */
    Container container(String prefix, String name) {
        Optional<Deployment> deployment = find(Deployment.class, prefix, name);
        PodTemplateSpec template = deployment.isPresent() ? deployment.get().getSpec().getTemplate()
                : named(StatefulSet.class, prefix, name).getSpec().getTemplate();
        return template.getSpec().getContainers().getFirst();
    }

    /**
     * Returns the environment a container gets, as Kubernetes builds it: {@code envFrom} ConfigMaps first,
     * then {@code env}, with {@code configMapKeyRef} values looked up in this tree's ConfigMaps.
     * Variables from Secrets are left out, because the tree has no Secret.
     */
    Map<String, String> environment(Container container, String prefix) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource source : container.getEnvFrom()) {
            if (source.getConfigMapRef() != null) {
                env.putAll(named(ConfigMap.class, prefix, source.getConfigMapRef().getName()).getData());
            }
        }
        for (EnvVar variable : container.getEnv()) {
            if (variable.getValueFrom() == null) {
                env.put(variable.getName(), variable.getValue());
            } else if (variable.getValueFrom().getConfigMapKeyRef() != null) {
                var ref = variable.getValueFrom().getConfigMapKeyRef();
                String value = named(ConfigMap.class, prefix, ref.getName()).getData().get(ref.getKey());
                if (value == null) {
                    throw new AssertionError("ConfigMap " + ref.getName() + " has no key " + ref.getKey()
                            + " for variable " + variable.getName());
                }
                env.put(variable.getName(), value);
            }
        }
        return env;
    }
}
