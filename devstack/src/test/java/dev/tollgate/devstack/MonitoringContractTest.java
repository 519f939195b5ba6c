package dev.tollgate.devstack;

import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MonitoringContractTest {
    @Test
    void metricNamesLeaveOutFunctionsLabelsDurationsAndNumbers() {
        assertThat(MonitoringContract.metricNames("histogram_quantile(0.99, sum by (le, gen_ai_request_model) "
                + "(rate(gen_ai_server_request_duration_seconds_bucket{http_response_status_code=~\"5..\",job=\"$job\"}[$__rate_interval])))"))
                .containsExactly("gen_ai_server_request_duration_seconds_bucket");
        assertThat(MonitoringContract.metricNames("sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) > 0.05"))
                .containsExactly("a_total", "b_total");
        assertThat(MonitoringContract.metricNames("min by (pool, endpoint) (tollgate_gateway_upstream_healthy) == 0 "
                + "and on(pool) tollgate_gateway_upstream_queued offset 5m > bool 3"))
                .containsExactly("tollgate_gateway_upstream_healthy", "tollgate_gateway_upstream_queued");
    }

    @Test
    void exportedNamesAreTheSeriesNames() {
        assertThat(MonitoringContract.exportedNames("""
                # HELP x_total help
                # TYPE x_total counter
                x_total{a="b"} 1.0
                y 2
                """)).containsExactly("x_total", "y");
    }

    /** The contract cannot pass vacuously: a dashboard metric no service exports is named. */
    @Test
    void aMetricNoServiceExportsIsNamed() {
        var uses = MonitoringContract.uses();
        assertThat(uses).containsKeys("gateway", "ledger", "billing");
        Assertions.assertThatThrownBy(() -> MonitoringContract.assertEveryMetricIsExported(
                        Map.of("gateway", "", "ledger", "", "billing", "")))
                .hasMessageContaining("gen_ai_server_request_duration_seconds_bucket");
    }
}
