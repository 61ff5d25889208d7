package io.sparsemesh.deploy;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code docker-compose.yml} as SnakeYAML reads it (anchors and merge keys resolved), with
 * Compose's variable interpolation applied to environment values: {@code ${NAME:-default}} takes
 * its default, and a required {@code ${NAME:?message}} or plain {@code ${NAME}} takes the value
 * the test supplies.
 */
final class ComposeFile {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z0-9_]+)(?:(:-|:\\?)([^}]*))?}");

    private final Map<String, Object> root;
    private final Map<String, String> variables;

    private ComposeFile(Map<String, Object> root, Map<String, String> variables) {
        this.root = root;
        this.variables = variables;
    }

    static ComposeFile load(String text, Map<String, String> variables) {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        return new ComposeFile(yaml.load(text), variables);
    }

    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> services() {
        return (Map<String, Map<String, Object>>) root.get("services");
    }

    Map<String, Object> service(String name) {
        Map<String, Object> service = services().get(name);
        if (service == null) {
            throw new AssertionError("docker-compose.yml has no service " + name);
        }
        return service;
    }

    /** The service's environment, interpolated. */
    @SuppressWarnings("unchecked")
    Map<String, String> environment(String name) {
        Map<String, String> env = new LinkedHashMap<>();
        Object raw = service(name).get("environment");
        if (raw instanceof Map<?, ?> map) {
            ((Map<String, Object>) map).forEach((key, value) -> env.put(key, interpolate(String.valueOf(value))));
        } else if (raw instanceof List<?> list) {
            for (Object entry : list) {
                String[] pair = String.valueOf(entry).split("=", 2);
                env.put(pair[0], interpolate(pair.length > 1 ? pair[1] : ""));
            }
        }
        return env;
    }

    /** The module an image of the mesh is built from: {@code sparsemesh/<module>:<tag>}, or null for other images. */
    static String module(String image) {
        if (image == null || !image.startsWith("sparsemesh/")) {
            return null;
        }
        return image.substring("sparsemesh/".length(), image.indexOf(':'));
    }

    String interpolate(String value) {
        Matcher matcher = VARIABLE.matcher(value);
        StringBuilder result = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1);
            String replacement;
            if (":-".equals(matcher.group(2))) {
                replacement = variables.getOrDefault(name, matcher.group(3));
            } else if (variables.containsKey(name)) {
                replacement = variables.get(name);
            } else {
                throw new AssertionError("docker-compose.yml needs variable " + name + ", which the test does not supply");
            }
            matcher.appendReplacement(result, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(result);
        return result.toString();
    }
}
