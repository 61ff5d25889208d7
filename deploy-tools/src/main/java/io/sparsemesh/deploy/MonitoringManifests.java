package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitorBuilder;

import java.util.Map;

/**
 * The objects Prometheus, the Prometheus Adapter and Grafana need: a ServiceMonitor that scrapes every
 * management port of the mesh, the adapter rules that turn the routed-token counters into the
 * per-second rates the shards' autoscalers read, and the dashboard.
 */
final class MonitoringManifests {

    static final String MONITORING_NAMESPACE = "monitoring";
    static final String ADAPTER_RULES = "sparsemesh-adapter-rules";
    static final String DASHBOARD = "sparsemesh-dashboard";

    private MonitoringManifests() {
    }

    /** Scrapes {@code /actuator/prometheus} on the port named {@code management} of every mesh Service. */
    static ServiceMonitor serviceMonitor() {
        return new ServiceMonitorBuilder()
                .withMetadata(Workloads.metadata("sparsemesh", Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF)))
                .withNewSpec()
                .withNewSelector().addToMatchLabels(Workloads.PART_OF_LABEL, Workloads.PART_OF).endSelector()
                .addNewEndpoint().withPort(Workloads.MANAGEMENT_PORT_NAME).withPath("/actuator/prometheus")
                .withInterval("15s").withScrapeTimeout("10s").endEndpoint()
                .endSpec()
                .build();
    }

    /**
     * Prometheus Adapter rules (its {@code config.yaml}). The custom-metrics rule gives each expert
     * pod its own routed tokens per second; the external-metrics rule gives the tokens per second
     * all routers send to each shard, selectable by the {@code shard} label. Rates are over one
     * minute, a few scrapes, so that one slow scrape does not move the autoscaler.
     */
    static String adapterRules() {
        return """
                rules:
                  - seriesQuery: '%1$s{namespace!="",pod!=""}'
                    resources:
                      overrides:
                        namespace: {resource: namespace}
                        pod: {resource: pod}
                    name:
                      matches: "^%1$s$"
                      as: "%2$s"
                    metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
                externalRules:
                  - seriesQuery: '%3$s{namespace!="",shard!=""}'
                    resources:
                      overrides:
                        namespace: {resource: namespace}
                    name:
                      matches: "^%3$s$"
                      as: "%4$s"
                    metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (shard)'
                """.formatted(ExpertShardManifests.EXPERT_TOKENS_METRIC, ExpertShardManifests.EXPERT_TOKENS_RATE,
                ExpertShardManifests.ROUTER_SHARD_TOKENS_METRIC, ExpertShardManifests.ROUTER_SHARD_TOKENS_RATE);
    }

    static ConfigMap adapterRulesConfigMap() {
        return new ConfigMapBuilder()
                .withMetadata(Workloads.metadata(ADAPTER_RULES, Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF)))
                .addToData("config.yaml", adapterRules())
                .build();
    }

    /** Wraps the dashboard in a ConfigMap that Grafana's dashboard sidecar finds by its label. */
    static ConfigMap dashboardConfigMap(String dashboardJson) {
        return new ConfigMapBuilder()
                .withMetadata(Workloads.metadata(DASHBOARD, Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF,
                        "grafana_dashboard", "1")))
                .addToData("sparsemesh.json", dashboardJson)
                .build();
    }
}
