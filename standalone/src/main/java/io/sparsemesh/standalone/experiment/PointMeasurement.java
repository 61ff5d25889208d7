package io.sparsemesh.standalone.experiment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Drives one point on a running deployment and turns the request samples and the services'
 * readings before and after the measured window into a {@link PointResult}.
 */
final class PointMeasurement {

    /** How often attention caches and resident memory are sampled during the window. */
    private static final long SAMPLE_PERIOD_MILLIS = 500;

    private final ExperimentPlan.Arrival arrival;
    private final LoadGenerator.Api api;
    private final int layers;
    private final int experts;

    /**
     * @param layers  the model's layers, for the per-hop figures
     * @param experts the model's routed experts, 0 for a dense model
     */
    PointMeasurement(ExperimentPlan.Arrival arrival, LoadGenerator.Api api, int layers, int experts) {
        this.arrival = arrival;
        this.api = api;
        this.layers = layers;
        this.experts = experts;
    }

    PointResult measure(Deployment deployment, SweepPoint point, int repetition, List<RequestShape> warmup,
                        List<RequestShape> requests) throws InterruptedException {
        try (LoadGenerator load = new LoadGenerator(api, deployment.routerPort(), deployment.routerGrpcPort(),
                Deployment.MODEL_ID)) {
            return measure(load, deployment, point, repetition, warmup, requests);
        }
    }

    private PointResult measure(LoadGenerator load, Deployment deployment, SweepPoint point, int repetition,
                                List<RequestShape> warmup, List<RequestShape> requests) throws InterruptedException {
        if (!warmup.isEmpty()) {
            load.closedLoop(warmup, (int) Math.max(1, Math.min(point.load(), warmup.size())));
        }

        List<ServiceProbe> probes = deployment.probes();
        List<ServiceProbe.Reading> before = probes.stream().map(ServiceProbe::read).toList();
        GaugeSampler sampler = new GaugeSampler(probes);
        Thread samplerThread = Thread.ofPlatform().daemon().name("experiment-sampler").start(sampler);
        long windowStart = System.nanoTime();
        List<RequestSample> samples;
        try {
            samples = arrival == ExperimentPlan.Arrival.CLOSED
                    ? load.closedLoop(requests, (int) point.load())
                    : load.openLoop(requests, point.load());
        } finally {
            samplerThread.interrupt();
            samplerThread.join(5_000);
        }
        double wall = (System.nanoTime() - windowStart) / 1e9;
        List<ServiceProbe.Reading> after = probes.stream().map(ServiceProbe::read).toList();
        return summarize(point, repetition, samples, wall, probes, before, after, sampler);
    }

    private PointResult summarize(SweepPoint point, int repetition, List<RequestSample> samples, double wall,
                                  List<ServiceProbe> probes, List<ServiceProbe.Reading> before,
                                  List<ServiceProbe.Reading> after, GaugeSampler sampler) {
        List<RequestSample> ok = samples.stream().filter(RequestSample::ok).toList();
        String firstError = samples.stream().filter(s -> !s.ok()).map(RequestSample::error).findFirst().orElse(null);
        long outputTokens = ok.stream().mapToLong(RequestSample::outputTokens).sum();
        double[] ttft = ok.stream().mapToDouble(RequestSample::ttftMillis).toArray();
        double[] tpot = ok.stream().mapToDouble(RequestSample::tpotMillis).filter(v -> !Double.isNaN(v)).toArray();

        Deltas deltas = new Deltas(probes, before, after);
        double steps = deltas.router("sparsemesh_router_step_duration_seconds_count");
        double stepMs = steps > 0 ? deltas.router("sparsemesh_router_step_duration_seconds_sum") / steps * 1e3 : Double.NaN;
        double attentionCalls = deltas.services("attention", "sparsemesh_attention_layer_seconds_count");
        double attentionMs = attentionCalls > 0
                ? deltas.services("attention", "sparsemesh_attention_layer_seconds_sum") / attentionCalls * 1e3 : Double.NaN;
        double expertCalls = deltas.services("expert", "sparsemesh_expert_request_latency_seconds_count");
        double expertMs = expertCalls > 0
                ? deltas.services("expert", "sparsemesh_expert_request_latency_seconds_sum") / expertCalls * 1e3 : Double.NaN;
        boolean mesh = point.kind() == SweepPoint.Kind.MESH;
        double hopMs = mesh ? stepMs / (2.0 * layers) : Double.NaN;
        double attentionHopMs = deltas.routerHopMs("attention");
        double expertHopMs = deltas.routerHopMs("experts", "dense");
        double overheadMs;
        if (!mesh) {
            overheadMs = Double.NaN;
        } else if (!Double.isNaN(attentionHopMs) && !Double.isNaN(expertHopMs)) {
            // the router's own round-trip timers, minus the compute the services time themselves
            overheadMs = ((attentionHopMs - attentionMs) + (expertHopMs - expertMs)) / 2;
        } else {
            overheadMs = (stepMs - layers * (attentionMs + (Double.isNaN(expertMs) ? 0 : expertMs))) / (2.0 * layers);
        }

        double[] expertTokens = deltas.routerByIndex("sparsemesh_router_expert_tokens_total", "expert", experts);
        double[][] layerExpertTokens = deltas.routerLayerExpertTokens(layers, experts);
        double[] shardTokens = mesh
                ? deltas.servicesByIndex("expert", "sparsemesh_expert_routed_tokens_total", "shard", point.shards())
                : new double[0];
        double indexerRuns = mesh ? deltas.services("attention", "sparsemesh_attention_indexer_runs_total") : Double.NaN;
        double indexerReuses = mesh ? deltas.services("attention", "sparsemesh_attention_indexer_reuses_total") : Double.NaN;

        List<PointResult.ComponentUsage> components = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) {
            double cpu = after.get(i).cpuSeconds() - before.get(i).cpuSeconds();
            long rss = Math.max(after.get(i).residentBytes(), sampler.peakResident(i));
            components.add(new PointResult.ComponentUsage(probes.get(i).component(), cpu, cpu / wall, rss));
        }
        String bottleneck = components.stream().max(Comparator.comparingDouble(PointResult.ComponentUsage::busy))
                .map(PointResult.ComponentUsage::name).orElse("");

        return new PointResult(point.id(), point.kind().name().toLowerCase(java.util.Locale.ROOT), point.shards(),
                point.replicas(), point.attentionReplicas(), point.wireDtype(), point.pingPong(), point.indexVariant(),
                point.load(), point.promptTokens(), point.outputTokens(), repetition, samples.size(), samples.size() - ok.size(), wall,
                outputTokens / wall, ok.size() / wall,
                Stats.percentile(ttft, 50), Stats.percentile(ttft, 90), Stats.percentile(ttft, 99),
                Stats.percentile(tpot, 50), Stats.percentile(tpot, 90), Stats.percentile(tpot, 99),
                stepMs, hopMs, attentionHopMs, expertHopMs, attentionMs, expertMs, overheadMs, indexerRuns, indexerReuses, sampler.kvBytesPerToken(),
                expertTokens, layerExpertTokens, shardTokens, Stats.imbalance(expertTokens), Stats.imbalance(shardTokens), components,
                bottleneck, MachineInfo.loadAverage1m(), firstError);
    }

    /** Counter differences between two readings of every service. */
    private record Deltas(List<ServiceProbe> probes, List<ServiceProbe.Reading> before, List<ServiceProbe.Reading> after) {

        private int routerIndex() {
            for (int i = 0; i < probes.size(); i++) {
                if (probes.get(i).component().equals("router")) {
                    return i;
                }
            }
            throw new IllegalStateException("no router among " + probes);
        }

        double router(String metric) {
            int router = routerIndex();
            return after.get(router).metrics().sum(metric) - before.get(router).metrics().sum(metric);
        }

        /**
         * Returns the mean of the router's {@code sparsemesh_router_hop_duration_seconds} over the
         * given components and every layer, in ms, or NaN when the router has no such timer.
         */
        double routerHopMs(String... components) {
            int router = routerIndex();
            double seconds = 0;
            double count = 0;
            for (String component : components) {
                java.util.function.Predicate<String> tagged = key -> component.equals(PrometheusText.label(key, "component"));
                seconds += after.get(router).metrics().sum("sparsemesh_router_hop_duration_seconds_sum", tagged)
                        - before.get(router).metrics().sum("sparsemesh_router_hop_duration_seconds_sum", tagged);
                count += after.get(router).metrics().sum("sparsemesh_router_hop_duration_seconds_count", tagged)
                        - before.get(router).metrics().sum("sparsemesh_router_hop_duration_seconds_count", tagged);
            }
            return count > 0 ? seconds / count * 1e3 : Double.NaN;
        }

        double[][] routerLayerExpertTokens(int layers, int experts) {
            int router = routerIndex();
            return LayerExpertLoad.between(before.get(router).metrics(), after.get(router).metrics(), layers, experts);
        }

        double[] routerByIndex(String metric, String label, int size) {
            int router = routerIndex();
            return subtract(after.get(router).metrics().byIndex(metric, label, size),
                    before.get(router).metrics().byIndex(metric, label, size));
        }

        /** Sums {@code metric} over every service whose name starts with {@code prefix}. */
        double services(String prefix, String metric) {
            double total = 0;
            for (int i = 0; i < probes.size(); i++) {
                if (probes.get(i).component().startsWith(prefix)) {
                    total += after.get(i).metrics().sum(metric) - before.get(i).metrics().sum(metric);
                }
            }
            return total;
        }

        double[] servicesByIndex(String prefix, String metric, String label, int size) {
            double[] total = new double[size];
            for (int i = 0; i < probes.size(); i++) {
                if (probes.get(i).component().startsWith(prefix)) {
                    double[] delta = subtract(after.get(i).metrics().byIndex(metric, label, size),
                            before.get(i).metrics().byIndex(metric, label, size));
                    for (int j = 0; j < size; j++) {
                        total[j] += delta[j];
                    }
                }
            }
            return total;
        }

        private static double[] subtract(double[] a, double[] b) {
            double[] d = Arrays.copyOf(a, a.length);
            for (int i = 0; i < d.length; i++) {
                d[i] -= b[i];
            }
            return d;
        }
    }

    /** Samples attention cache gauges and resident memory while the workload runs. */
    private static final class GaugeSampler implements Runnable {

        private final List<ServiceProbe> probes;
        private final long[] peakResident;
        private final AtomicReference<Double> kvBytesPerToken = new AtomicReference<>(Double.NaN);

        GaugeSampler(List<ServiceProbe> probes) {
            this.probes = probes;
            this.peakResident = new long[probes.size()];
        }

        @Override
        public void run() {
            while (!Thread.currentThread().isInterrupted()) {
                double bytes = 0;
                double tokens = 0;
                for (int i = 0; i < probes.size(); i++) {
                    ServiceProbe probe = probes.get(i);
                    synchronized (peakResident) {
                        peakResident[i] = Math.max(peakResident[i], probe.residentBytes());
                    }
                    if (probe.component().startsWith("attention")) {
                        PrometheusText metrics = probe.scrape();
                        bytes += metrics.sum("sparsemesh_attention_cache_bytes");
                        tokens += metrics.sum("sparsemesh_attention_cached_tokens");
                    }
                }
                if (tokens > 0) {
                    double ratio = bytes / tokens;
                    kvBytesPerToken.updateAndGet(old -> Double.isNaN(old) ? ratio : Math.max(old, ratio));
                }
                try {
                    Thread.sleep(SAMPLE_PERIOD_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long peakResident(int index) {
            synchronized (peakResident) {
                return peakResident[index];
            }
        }

        double kvBytesPerToken() {
            return kvBytesPerToken.get();
        }
    }
}
