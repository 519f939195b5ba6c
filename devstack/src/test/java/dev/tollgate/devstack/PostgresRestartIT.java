package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.http.TestHttp;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.postgres.PrivatePostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * PostgreSQL (the ledger's event store and the billing database) crashes under load and comes
 * back: the gateway keeps serving and metering throughout (it needs no database), the admin and
 * billing APIs answer 5xx problem details while it is down, and then — with nobody touching
 * anything — the ledger takes commands again (a key issued after the restart reaches the gateway,
 * so its publisher recovered too) and the invoice writer catches up: every usage event produced
 * before, during and after the outage is billed, none twice.
 */
class PostgresRestartIT {
    /** 20 s; the {@code soak} profile makes it longer. */
    private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("tollgate.fault.postgres-outage-seconds", 20));

    @Test
    void ledgerAndBillingRecoverWithoutAnOperatorAndEveryEventIsBilledOnce(@TempDir Path dataDir) throws Exception {
        assumeThat(PrivatePostgres.binaries()).as("PostgreSQL binaries under /usr/lib/postgresql").isPresent();
        try (PrivatePostgres postgres = PrivatePostgres.create()) {
            Map<String, String> options = DevOptions.onPostgres(dataDir, postgres.port());
            try (DevStack stack = DevStack.start(options)) {
                PostgresDatabase.Server server = postgres.server();
                String billing = LocalBilling.DEFAULT_DATABASE;
                int servedDuringOutage;
                HttpResponse<String> issueDuringOutage;
                HttpResponse<String> invoicesDuringOutage;
                long restarted;
                double ledgerBack;
                double keyAtGateway;
                ChatLoad load = new ChatLoad(stack, 0);
                try {
                    await().atMost(Duration.ofMinutes(1)).until(() -> BilledUsage.rows(server, billing) >= 10);
                    postgres.crash();
                    long crashed = System.nanoTime();
                    int servedAtCrash = load.served();
                    issueDuringOutage = TestHttp.call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                            "{\"name\":\"during-outage\",\"scopes\":[\"inference\"]}");
                    invoicesDuringOutage = TestHttp.call("GET", stack.billingUrl() + "/billing/v1/tenants/demo/invoices", stack.adminToken(), null);
                    Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - crashed) / 1_000_000));
                    servedDuringOutage = load.served() - servedAtCrash;
                    postgres.start();
                    restarted = System.nanoTime();

                    // The ledger takes commands again, and what it publishes reaches the gateway.
                    String[] newKey = new String[1];
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                        HttpResponse<String> issued = TestHttp.call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                                "{\"name\":\"after-restart\",\"scopes\":[\"inference\"]}");
                        if (issued.statusCode() != 201) {
                            return false;
                        }
                        newKey[0] = EventCodec.mapper().readTree(issued.body()).path("apiKey").asText();
                        return true;
                    });
                    ledgerBack = (System.nanoTime() - restarted) / 1e9;
                    await().atMost(Duration.ofMinutes(2))
                            .until(() -> TestHttp.call("GET", stack.gatewayUrl() + "/v1/models", newKey[0], null).statusCode() == 200);
                    keyAtGateway = (System.nanoTime() - restarted) / 1e9;
                    Thread.sleep(3_000);
                } finally {
                    load.close();
                }

                // Every usage event of the run billed exactly once.
                BilledUsage.Tally tally = BilledUsage.awaitBilled(stack.kafkaBootstrapServers(), server, billing, "demo", load.served());
                double billingCaughtUp = (System.nanoTime() - restarted) / 1e9;
                Set<String> produced = tally.producedIds();
                Set<String> billed = tally.billedIds();
                Set<String> lost = tally.lost();
                HttpResponse<String> invoices = TestHttp.call("GET", stack.billingUrl() + "/billing/v1/tenants/demo/invoices", stack.adminToken(), null);
                JsonNode invoiceList = EventCodec.mapper().readTree(invoices.body());

                System.out.printf("[fault] PostgreSQL crashed for %d s under load: gateway served %d requests (%d during the outage, %d failed); "
                                + "during the outage the admin API answered %d, the billing API %d; after the restart the ledger took "
                                + "commands after %.1f s, a new key worked at the gateway after %.1f s, billing caught up after %.1f s; "
                                + "usage events produced %d, billed %d, lost %d, duplicated %d%n",
                        OUTAGE.toSeconds(), load.served(), servedDuringOutage, load.failed(), issueDuringOutage.statusCode(),
                        invoicesDuringOutage.statusCode(), ledgerBack, keyAtGateway, billingCaughtUp, produced.size(), billed.size(),
                        lost.size(), tally.duplicated());
                assertThat(load.failed()).as("gateway requests that failed: %s", load.failures()).isZero();
                assertThat(servedDuringOutage).as("served while PostgreSQL was down").isPositive();
                for (HttpResponse<String> duringOutage : List.of(issueDuringOutage, invoicesDuringOutage)) {
                    assertThat(duringOutage.statusCode()).as(duringOutage.body()).isEqualTo(503);
                    assertThat(duringOutage.headers().firstValue("content-type")).hasValueSatisfying(
                            type -> assertThat(type).startsWith("application/problem+json"));
                    assertThat(duringOutage.headers().firstValue("retry-after")).isPresent();
                    assertThat(EventCodec.mapper().readTree(duringOutage.body()).path("code").asText()).isEqualTo("store_unavailable");
                }
                assertThat(produced).hasSizeGreaterThanOrEqualTo(load.served());
                assertThat(lost).as("usage events never billed").isEmpty();
                assertThat(billed).isEqualTo(produced);
                assertThat(invoices.statusCode()).isEqualTo(200);
                assertThat(invoiceList.get(0).path("eventCount").asLong()).isEqualTo(produced.size());
            }
        }
    }
}
