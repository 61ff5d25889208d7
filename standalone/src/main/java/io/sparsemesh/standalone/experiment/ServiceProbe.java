package io.sparsemesh.standalone.experiment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Reads one running service: its Prometheus metrics, the CPU time its process has used and its
 * resident set size (VmRSS from {@code /proc}, Linux only; 0 elsewhere).
 *
 * @param component the service's name in the mesh, e.g. {@code attention-0} or {@code router}
 */
public record ServiceProbe(String component, long pid, int managementPort) {

    private static final Logger log = LoggerFactory.getLogger(ServiceProbe.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** A reading of the service at one moment. */
    public record Reading(PrometheusText metrics, double cpuSeconds, long residentBytes) {
    }

    public Reading read() {
        return new Reading(scrape(), cpuSeconds(), residentBytes());
    }

    PrometheusText scrape() {
        URI uri = URI.create("http://127.0.0.1:" + managementPort + "/actuator/prometheus");
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                return PrometheusText.parse(response.body());
            }
            log.warn("Scraping {} at {} returned HTTP {}", component, uri, response.statusCode());
        } catch (IOException e) {
            log.warn("Scraping {} at {} failed: {}", component, uri, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return PrometheusText.empty();
    }

    double cpuSeconds() {
        return ProcessHandle.of(pid)
                .flatMap(handle -> handle.info().totalCpuDuration())
                .map(duration -> duration.toNanos() / 1e9)
                .orElse(Double.NaN);
    }

    long residentBytes() {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).strip().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the process has exited
        }
        return 0;
    }
}
