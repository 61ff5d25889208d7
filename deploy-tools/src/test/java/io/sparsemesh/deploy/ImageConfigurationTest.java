package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ContainerPort;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each service pom's Jib settings agree with the service and with the manifests: the main class
 * exists and has a {@code main}, the two exposed ports are the ports of the service's
 * application.yaml and of its Deployment, and the heap share is the one the memory sizing assumes.
 */
class ImageConfigurationTest {

    record Image(String module, String deployment, int heapPercent) {
    }

    static final Set<Image> IMAGES = Set.of(
            new Image("tokenizer-service", "tokenizer", Sizing.TOKENIZER_HEAP_PERCENT),
            new Image("attention-service", "attention", Sizing.ATTENTION_HEAP_PERCENT),
            new Image("expert-service", "expert-0", Sizing.EXPERT_HEAP_PERCENT),
            new Image("router-service", "router", Sizing.ROUTER_HEAP_PERCENT),
            new Image("gateway", "gateway", Sizing.GATEWAY_HEAP_PERCENT));

    @Test
    void jibSettingsMatchTheServicesAndManifests() throws Exception {
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        for (Image image : IMAGES) {
            Map<String, String> properties = pomProperties(image.module());
            Class<?> main = Class.forName(properties.get("jib.main.class"));
            Method entry = main.getMethod("main", String[].class);
            assertTrue(Modifier.isStatic(entry.getModifiers()), main + ".main");

            ServiceSettings settings = ServiceSettings.of(image.module());
            var binder = settings.binder(Map.of());
            Set<Integer> servicePorts = new TreeSet<>();
            for (String port : List.of("spring.grpc.server.port", "server.port", "management.server.port")) {
                binder.bind(port, Integer.class).ifBound(servicePorts::add);
            }
            assertEquals(servicePorts, new TreeSet<>(Set.of(Integer.parseInt(properties.get("jib.service.port")),
                    Integer.parseInt(properties.get("jib.management.port")))), image.module() + ": ports of the image");
            assertEquals(Integer.toString(image.heapPercent()), properties.get("jib.heap.percent"), image.module()
                    + ": the manifests size memory for this heap share");

            var container = objects.container("base/", image.deployment());
            assertTrue(container.getImage().startsWith("sparsemesh/" + image.module() + ":"), container.getImage());
            Set<Integer> ports = container.getPorts().stream().map(ContainerPort::getContainerPort)
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(servicePorts, ports, image.deployment() + " container ports");
        }
    }

    private static Map<String, String> pomProperties(String module) throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(Repository.path(module + "/pom.xml").toFile());
        Element properties = (Element) pom.getDocumentElement().getElementsByTagName("properties").item(0);
        Map<String, String> values = new java.util.LinkedHashMap<>();
        for (var node = properties.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element) {
                values.put(element.getTagName(), element.getTextContent().strip());
            }
        }
        return values;
    }
}
