package io.sparsemesh.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.boot.context.properties.ConfigurationProperties;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The configuration properties a service accepts: those of its own {@code @ConfigurationProperties}
 * records, walked component by component, and those Spring Boot and Spring gRPC describe in their
 * configuration metadata. Each is matched against environment variable names the way Spring
 * Boot's relaxed binding maps them: upper case, dots to underscores, dashes dropped, and a list
 * index as {@code _<n>}.
 */
final class PropertyCatalog {

    /** A known property: its canonical name ({@code [*]} marks a list index or map key) and type. */
    record Property(String name, Type type) {

        /** The pattern of environment variable names that bind to this property. */
        Pattern environmentPattern() {
            StringBuilder regex = new StringBuilder();
            for (String part : name.split("\\.")) {
                if (!regex.isEmpty()) {
                    regex.append('_');
                }
                if (part.endsWith("[*]")) {
                    regex.append(Pattern.quote(envForm(part.substring(0, part.length() - 3)))).append("_[0-9]+");
                } else if (part.equals("*")) {
                    regex.append("[A-Z0-9_]+");
                } else {
                    regex.append(Pattern.quote(envForm(part)));
                }
            }
            return Pattern.compile(regex.toString());
        }

        private static String envForm(String part) {
            return part.replace("-", "").toUpperCase(Locale.ROOT);
        }
    }

    private final List<Property> properties;

    private PropertyCatalog(List<Property> properties) {
        this.properties = List.copyOf(properties);
    }

    /** The properties of the given records plus every property in the classpath's Spring metadata. */
    static PropertyCatalog of(Collection<Class<?>> propertyRecords) {
        List<Property> properties = new ArrayList<>();
        for (Class<?> type : propertyRecords) {
            ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
            if (annotation == null) {
                throw new IllegalArgumentException(type + " is not a @ConfigurationProperties class");
            }
            String prefix = annotation.value().isEmpty() ? annotation.prefix() : annotation.value();
            walk(prefix, type, properties);
        }
        properties.addAll(springMetadata());
        return new PropertyCatalog(properties);
    }

    /** The property an environment variable binds to, if any. */
    Optional<Property> match(String variable) {
        return properties.stream().filter(p -> p.environmentPattern().matcher(variable).matches()).findFirst();
    }

    private static void walk(String prefix, Class<?> type, List<Property> properties) {
        for (RecordComponent component : type.getRecordComponents()) {
            String name = prefix + "." + kebab(component.getName());
            Class<?> raw = component.getType();
            Type generic = component.getGenericType();
            if (raw.isRecord()) {
                walk(name, raw, properties);
            } else if (List.class.isAssignableFrom(raw) && generic instanceof ParameterizedType list
                    && list.getActualTypeArguments()[0] instanceof Class<?> element && element.isRecord()) {
                walk(name + "[*]", element, properties);
            } else if (List.class.isAssignableFrom(raw)) {
                properties.add(new Property(name, generic));
                properties.add(new Property(name + "[*]", elementType(generic)));
            } else if (Map.class.isAssignableFrom(raw)) {
                properties.add(new Property(name + ".*", String.class));
            } else {
                properties.add(new Property(name, generic));
            }
        }
    }

    private static Type elementType(Type list) {
        return list instanceof ParameterizedType parameterized ? parameterized.getActualTypeArguments()[0] : Object.class;
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Properties from every {@code META-INF/spring-configuration-metadata.json} on the class path. */
    private static List<Property> springMetadata() {
        List<Property> properties = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            Enumeration<URL> files = PropertyCatalog.class.getClassLoader()
                    .getResources("META-INF/spring-configuration-metadata.json");
            while (files.hasMoreElements()) {
                try (InputStream in = files.nextElement().openStream()) {
                    for (JsonNode property : json.readTree(in).path("properties")) {
                        properties.add(new Property(property.path("name").asText(), typeOf(property.path("type").asText())));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }

    private static Type typeOf(String name) {
        return switch (name) {
            case "java.time.Duration" -> Duration.class;
            case "java.lang.Integer" -> Integer.class;
            case "java.lang.Boolean" -> Boolean.class;
            case "java.nio.file.Path" -> Path.class;
            default -> String.class;
        };
    }
}
