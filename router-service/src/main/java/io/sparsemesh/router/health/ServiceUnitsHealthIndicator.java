package io.sparsemesh.router.health;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The health of one kind of service behind the router (the tokenizer, the attention replicas or
 * the expert shards), read from the {@link BackendProbe}'s report. It is DOWN when some unit of
 * that kind has no reachable replica, and its details name every unit and the outcome for
 * each of its replicas. When that part of the model runs in the router process, it is UP.
 */
public final class ServiceUnitsHealthIndicator implements HealthIndicator {

    private final BackendProbe probe;
    private final Function<BackendReport, List<BackendReport.Unit>> units;

    /**
     * @param units selects this indicator's units from a report, e.g. {@link BackendReport#expertShards()}
     */
    public ServiceUnitsHealthIndicator(BackendProbe probe, Function<BackendReport, List<BackendReport.Unit>> units) {
        this.probe = probe;
        this.units = units;
    }

    @Override
    public Health health() {
        BackendReport report = probe.report();
        List<BackendReport.Unit> checked = units.apply(report);
        if (checked.isEmpty()) {
            return Health.up().withDetail("location", "router process").build();
        }
        Health.Builder health = checked.stream().allMatch(BackendReport.Unit::available) ? Health.up() : Health.down();
        for (BackendReport.Unit unit : checked) {
            health.withDetail(unit.name(), details(unit));
        }
        return health.withDetail("checkedAt", report.checkedAt().toString()).build();
    }

    /** Returns a unit's status and, per replica target, {@code UP} or the reason it is unreachable. */
    private static Map<String, Object> details(BackendReport.Unit unit) {
        Map<String, String> replicas = new LinkedHashMap<>();
        for (BackendReport.Replica replica : unit.replicas()) {
            replicas.put(replica.target(), replica.reachable() ? Status.UP.getCode() : replica.error());
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("status", (unit.available() ? Status.UP : Status.DOWN).getCode());
        details.put("replicas", replicas);
        return details;
    }
}
