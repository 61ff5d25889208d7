package io.sparsemesh.deploy;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.FileSystemResource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A service module's configuration: its {@code @ConfigurationProperties} records and its
 * YAML defaults ({@code application.yaml} and the {@code sparsemesh-<module>.yaml} it imports).
 * Binds environment variables the way the service would at start-up: the environment first, then
 * the YAML defaults.
 */
record ServiceSettings(String module, List<Class<?>> propertyRecords) {

    /** Properties records of the service modules whose images the deployments run. */
    private static final Map<String, List<String>> RECORDS = Map.of(
            "tokenizer-service", List.of("io.sparsemesh.tokenizer.TokenizerProperties"),
            "attention-service", List.of("io.sparsemesh.attention.AttentionProperties"),
            "expert-service", List.of("io.sparsemesh.expert.ExpertServiceProperties"),
            "router-service", List.of("io.sparsemesh.router.RouterProperties", "io.sparsemesh.router.openai.OpenAiProperties",
                    "io.sparsemesh.router.log.RouterLogProperties", "io.sparsemesh.log.spring.MeshLogProperties"),
            "gateway", List.of("io.sparsemesh.gateway.GatewayProperties", "io.sparsemesh.log.spring.MeshLogProperties"));

    /** Returns the settings of {@code module}, or fails when the module or its classes are unknown to the tests. */
    static ServiceSettings of(String module) {
        List<String> classes = RECORDS.get(module);
        if (classes == null) {
            throw new AssertionError("no properties records are registered for module " + module);
        }
        List<Class<?>> records = new ArrayList<>();
        for (String name : classes) {
            try {
                records.add(Class.forName(name));
            } catch (ClassNotFoundException e) {
                throw new AssertionError("the properties class " + name + " of module " + module + " is not on the"
                        + " test class path; add the module as a test dependency of deploy-tools", e);
            }
        }
        return new ServiceSettings(module, records);
    }

    PropertyCatalog catalog() {
        return PropertyCatalog.of(propertyRecords);
    }

    /**
     * Creates a binder over {@code environment} and the module's YAML defaults. The environment
     * source carries Spring's system-environment name, because only then are
     * {@code SPARSEMESH_EXPERT_SHARDCOUNT}-style names mapped to properties.
     */
    Binder binder(Map<String, String> environment) {
        MutablePropertySources sources = new MutablePropertySources();
        sources.addLast(new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new LinkedHashMap<>(environment)));
        // application.yaml imports the module's defaults from sparsemesh-<module>.yaml, a name unique on the class path
        for (String file : List.of("sparsemesh-" + module + ".yaml", "application.yaml")) {
            Path yaml = Repository.path(module + "/src/main/resources/" + file);
            if (!Files.exists(yaml)) {
                continue;
            }
            try {
                for (PropertySource<?> source : new YamlPropertySourceLoader().load(file, new FileSystemResource(yaml))) {
                    sources.addLast(source);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new Binder(ConfigurationPropertySources.from(sources), new PropertySourcesPlaceholdersResolver(sources));
    }

    /** Binds every properties record of the service, as the service's start-up would; returns them by class. */
    Map<Class<?>, Object> bindRecords(Binder binder) {
        Map<Class<?>, Object> bound = new LinkedHashMap<>();
        for (Class<?> type : propertyRecords) {
            var annotation = type.getAnnotation(org.springframework.boot.context.properties.ConfigurationProperties.class);
            String prefix = annotation.value().isEmpty() ? annotation.prefix() : annotation.value();
            bound.put(type, binder.bindOrCreate(prefix, Bindable.of(type)));
        }
        return bound;
    }
}
