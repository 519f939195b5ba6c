package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PrivatePostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration OUTAGE = Duration.ofSeconds(20);

    @Test
    void ledgerAndBillingRecoverWithoutAnOperatorAndEveryEventIsBilledOnce(@TempDir Path dataDir) throws Exception {
        assumeThat(PrivatePostgres.binaries()).as("PostgreSQL binaries under /usr/lib/postgresql").isPresent();
        try (PrivatePostgres postgres = PrivatePostgres.create()) {
            Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0",
                    "gateway-port", "0", "billing-port", "0", "upstream-port", "0", "pg-host", "127.0.0.1",
                    "pg-port", String.valueOf(postgres.port()), "embedded-postgres", "never", "ttft-ms", "5", "inter-token-ms", "1",
                    "completion-tokens", "8");
            try (DevStack stack = DevStack.start(options)) {
                var served = ConcurrentHashMap.<String>newKeySet();
                var failed = new AtomicInteger();
                var loading = new AtomicBoolean(true);
                Thread load = Thread.ofPlatform().name("load").start(() -> {
                    while (loading.get()) { // 4 requests a second: below the demo plan's 600 a minute
                        try {
                            HttpResponse<String> answer = call("POST", stack.gatewayUrl() + "/v1/chat/completions", stack.apiKey(),
                                    "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                            if (answer.statusCode() == 200) {
                                served.add(answer.headers().firstValue("x-request-id").orElseThrow());
                            } else {
                                failed.incrementAndGet();
                            }
                            Thread.sleep(250);
                        } catch (InterruptedException e) {
                            return;
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                });
                await().atMost(Duration.ofMinutes(1)).until(() -> billedRows(postgres) >= 10);

                postgres.crash();
                long crashed = System.nanoTime();
                int servedAtCrash = served.size();
                HttpResponse<String> issueDuringOutage = call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                        "{\"name\":\"during-outage\",\"scopes\":[\"inference\"]}");
                HttpResponse<String> invoicesDuringOutage = call("GET", stack.billingUrl() + "/billing/v1/tenants/demo/invoices",
                        stack.adminToken(), null);
                Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - crashed) / 1_000_000));
                int servedDuringOutage = served.size() - servedAtCrash;
                postgres.start();
                long restarted = System.nanoTime();

                // The ledger takes commands again, and what it publishes reaches the gateway.
                String[] newKey = new String[1];
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    HttpResponse<String> issued = call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                            "{\"name\":\"after-restart\",\"scopes\":[\"inference\"]}");
                    if (issued.statusCode() != 201) {
                        return false;
                    }
                    newKey[0] = EventCodec.mapper().readTree(issued.body()).path("apiKey").asText();
                    return true;
                });
                double ledgerBack = (System.nanoTime() - restarted) / 1e9;
                await().atMost(Duration.ofMinutes(2)).until(() -> call("GET", stack.gatewayUrl() + "/v1/models", newKey[0], null).statusCode() == 200);
                double keyAtGateway = (System.nanoTime() - restarted) / 1e9;
                Thread.sleep(3_000);
                loading.set(false);
                load.interrupt();
                load.join(10_000);

                // Every usage event of the run billed exactly once.
                await().atMost(Duration.ofMinutes(1)).until(() -> usageEventIds(stack.kafkaBootstrapServers()).size() >= served.size());
                Set<String> produced = usageEventIds(stack.kafkaBootstrapServers());
                try {
                    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() -> billedRows(postgres) >= produced.size());
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    System.out.printf("billing did not catch up: %d billed of %d produced; threads:%n", billedRows(postgres), produced.size());
                    Thread.getAllStackTraces().forEach((thread, frames) -> {
                        if (thread.getName().contains("invoice") || thread.getName().contains("StreamThread") || thread.getName().contains("projector")) {
                            System.out.println(thread.getName() + " " + thread.getState());
                            for (StackTraceElement frame : frames) {
                                System.out.println("    at " + frame);
                            }
                        }
                    });
                    throw e;
                }
                double billingCaughtUp = (System.nanoTime() - restarted) / 1e9;
                Set<String> billed = billedIds(postgres);
                var lost = new HashSet<>(produced);
                lost.removeAll(billed);
                HttpResponse<String> invoices = call("GET", stack.billingUrl() + "/billing/v1/tenants/demo/invoices", stack.adminToken(), null);
                JsonNode invoiceList = EventCodec.mapper().readTree(invoices.body());

                System.out.printf("[fault] PostgreSQL crashed for %d s under load: gateway served %d requests (%d during the outage, %d failed); "
                                + "during the outage the admin API answered %d, the billing API %d; after the restart the ledger took "
                                + "commands after %.1f s, a new key worked at the gateway after %.1f s, billing caught up after %.1f s; "
                                + "usage events produced %d, billed %d, lost %d, duplicated %d%n",
                        OUTAGE.toSeconds(), served.size(), servedDuringOutage, failed.get(), issueDuringOutage.statusCode(),
                        invoicesDuringOutage.statusCode(), ledgerBack, keyAtGateway, billingCaughtUp, produced.size(), billed.size(),
                        lost.size(), billedRows(postgres) - billed.size());
                assertThat(failed.get()).as("gateway requests that failed").isZero();
                assertThat(servedDuringOutage).as("served while PostgreSQL was down").isPositive();
                for (HttpResponse<String> duringOutage : List.of(issueDuringOutage, invoicesDuringOutage)) {
                    assertThat(duringOutage.statusCode()).as(duringOutage.body()).isEqualTo(503);
                    assertThat(duringOutage.headers().firstValue("content-type")).hasValueSatisfying(
                            type -> assertThat(type).startsWith("application/problem+json"));
                    assertThat(duringOutage.headers().firstValue("retry-after")).isPresent();
                    assertThat(EventCodec.mapper().readTree(duringOutage.body()).path("code").asText()).isEqualTo("store_unavailable");
                }
                assertThat(produced).hasSizeGreaterThanOrEqualTo(served.size());
                assertThat(lost).as("usage events never billed").isEmpty();
                assertThat(billed).isEqualTo(produced);
                assertThat(invoices.statusCode()).isEqualTo(200);
                assertThat(invoiceList.get(0).path("eventCount").asLong()).isEqualTo(produced.size());
            }
        }
    }

    private static HttpResponse<String> call(String method, String url, String token, String json) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .header("authorization", "Bearer " + token);
        if (json != null) {
            request.header("content-type", "application/json");
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Ids of the demo tenant's billable usage events on usage.v1 (not the accepted/rejected markers). */
    private static Set<String> usageEventIds(String bootstrap) {
        var ids = new HashSet<String>();
        TopicReader.readAll(bootstrap, Topics.USAGE.name()).forEach(record -> {
            var event = EventCodec.decode(record.value());
            if ("demo".equals(event.tenantid()) && dev.tollgate.billing.UsageBilling.of(event).isPresent()) {
                ids.add(event.id());
            }
        });
        return ids;
    }

    private static long billedRows(PrivatePostgres postgres) {
        try (var connection = DriverManager.getConnection(postgres.server().jdbcUrl(LocalBilling.DEFAULT_DATABASE), "postgres", "");
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select count(*) from billed_usage")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            return -1;
        }
    }

    private static Set<String> billedIds(PrivatePostgres postgres) throws Exception {
        var ids = new HashSet<String>();
        try (var connection = DriverManager.getConnection(postgres.server().jdbcUrl(LocalBilling.DEFAULT_DATABASE), "postgres", "");
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select event_id from billed_usage")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }
}
