package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.net.TcpProxy;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.stripe.FakeStripe;
import dev.tollgate.testkit.upstream.FakeUpstream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs Tollgate locally on one machine: an in-JVM Kafka broker (KRaft) with every catalog topic,
 * the fake OpenAI-compatible GPU upstream, the ledger (admin API) on the local PostgreSQL, seeded
 * with a demo tenant, plan, price list and API key, the gateway in front of the fake upstream, and
 * the billing projector (quota state);
 * writes the credentials to
 * {@code <data-dir>/dev-credentials.json}. Data survives restarts. Stops everything on Ctrl-C.
 *
 * <p>Options: {@code --kafka-port 9092 --upstream-port 8000 --ledger-port 8081 --gateway-port 8080 --console-port 8083 --idp-port 8084 --data-dir .tollgate
 * --billing-port 8082 --ledger-database tollgate_dev_ledger --billing-database tollgate_dev_billing --pg-host 127.0.0.1 --pg-port 5432 --embedded-postgres auto|never
 * --upstreams FILE} (real GPU servers instead of the fake upstream; same format as the gateway's).
 * --ttft-ms 100 --inter-token-ms 20 --completion-tokens 64} (a port of 0 picks a free one), and for fault tests
 * {@code --kafka-via-proxy true} (the services reach Kafka through a proxy that {@link #partitionKafka} can cut).
 */
public final class DevStack implements AutoCloseable {
    /** The models the fake upstream serves. */
    public static final List<String> FAKE_MODELS = List.of("fake-chat", "fake-embed");

    private final Deque<AutoCloseable> running = new ArrayDeque<>();
    private final Path dataDir;
    private boolean kafkaStopped;
    private EmbeddedKafka kafka;
    private TcpProxy kafkaProxy;
    private int kafkaExternalPort;
    private FakeUpstream upstream;
    private FakeStripe stripe;
    private LocalLedger ledger;
    private LocalBilling billing;
    private LocalGateway gateway;
    private DevIdentityProvider idp;
    private LocalConsole console;
    private String adminToken;
    private DemoSeed.ApiKey apiKey;
    private List<String> models;

    private DevStack(Path dataDir) {
        this.dataDir = dataDir;
    }

    /** Starts every component; on failure stops what had started and rethrows. */
    public static DevStack start(Map<String, String> options) {
        Path dataDir = Path.of(options.getOrDefault("data-dir", ".tollgate")).toAbsolutePath();
        var stack = new DevStack(dataDir);
        try {
            Files.createDirectories(dataDir);
            String servicesBootstrap;
            if (Boolean.parseBoolean(options.getOrDefault("kafka-via-proxy", "false"))) {
                // Fault tests: the services reach Kafka through a proxy that can partition them from it.
                int externalPort = LocalPorts.free();
                stack.kafkaExternalPort = externalPort;
                stack.kafkaProxy = TcpProxy.start(externalPort);
                stack.running.push(stack.kafkaProxy);
                stack.kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), intOption(options, "kafka-port", 9092), false, externalPort,
                        stack.kafkaProxy.port());
                servicesBootstrap = stack.kafkaProxy.address();
            } else {
                stack.kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), intOption(options, "kafka-port", 9092), false);
                servicesBootstrap = stack.kafka.bootstrapServers();
            }
            stack.running.push(stack::stopKafka);
            FakeBehaviour behaviour = FakeBehaviour.DEFAULT
                    .withTimeToFirstTokenMs(intOption(options, "ttft-ms", 100))
                    .withInterTokenDelayMs(intOption(options, "inter-token-ms", 20))
                    .withCompletionTokens(intOption(options, "completion-tokens", 64));
            String upstreamFile = options.get("upstreams");
            UpstreamConfig upstreams;
            if (upstreamFile == null) {
                stack.upstream = FakeUpstream.start(intOption(options, "upstream-port", 8000), FAKE_MODELS, behaviour);
                stack.running.push(stack.upstream);
                upstreams = LocalGateway.fakeUpstreams(stack.upstream.baseUrl(), FAKE_MODELS);
            } else {
                upstreams = UpstreamConfig.load(Path.of(upstreamFile)); // real GPU servers; no fake upstream
            }
            stack.models = upstreams.modelNames();
            DevSecrets secrets = DevSecrets.loadOrCreate(dataDir);
            // The console's port first: the identity provider registers its redirect URI before either starts.
            int consolePort = LocalPorts.orFree(intOption(options, "console-port", 8083));
            stack.idp = DevIdentityProvider.start(intOption(options, "idp-port", 8084), "http://127.0.0.1:" + consolePort,
                    secrets.consoleClientSecret(), dataDir);
            stack.running.push(stack.idp);
            PostgresDatabase.Server env = PostgresDatabase.Server.fromEnvironment();
            var postgres = new PostgresDatabase.Server(options.getOrDefault("pg-host", env.host()),
                    intOption(options, "pg-port", env.port()), env.user(), env.password());
            String embedded = options.getOrDefault("embedded-postgres", "auto");
            if (!embedded.equals("auto") && !embedded.equals("never")) {
                throw new IllegalArgumentException("--embedded-postgres must be auto or never, was '" + embedded + "'");
            }
            stack.ledger = LocalLedger.start(intOption(options, "ledger-port", 8081),
                    options.getOrDefault("ledger-database", LocalLedger.DEFAULT_DATABASE), servicesBootstrap,
                    stack.kafka.freshlyFormatted(), secrets, stack.idp, postgres, dataDir, embedded.equals("auto"));
            stack.running.push(stack.ledger);
            stack.adminToken = DemoSeed.adminToken(stack.idp);
            Path credentials = dataDir.resolve("dev-credentials.json");
            stack.apiKey = new DemoSeed(stack.ledger.url(), stack.adminToken).seed(DemoSeed.previousKey(credentials), stack.models);
            // Stripe cannot be reached from here: the strict fake stands in (checkout sessions it "pays", invoices).
            stack.stripe = FakeStripe.start();
            stack.running.push(stack.stripe);
            stack.billing = LocalBilling.start(intOption(options, "billing-port", 8082),
                    options.getOrDefault("billing-database", LocalBilling.DEFAULT_DATABASE), stack.ledger.server(),
                    servicesBootstrap, stack.kafka.freshlyFormatted(), secrets, stack.idp, dataDir, stack.stripe.apiBase(),
                    "http://127.0.0.1:" + consolePort);
            stack.running.push(stack.billing);
            stack.stripe.sendEventsTo(stack.billing.stripeWebhookUrl(), secrets.stripeWebhookSecret());
            stack.gateway = LocalGateway.start(intOption(options, "gateway-port", 8080), servicesBootstrap,
                    upstreams, dataDir.resolve("gateway-spool"));
            stack.running.push(stack.gateway);
            stack.console = LocalConsole.start(consolePort, stack.ledger.url(), stack.billing.url(), stack.gateway.url(), stack.idp, secrets);
            stack.running.push(stack.console);
            DemoSeed.writeCredentials(credentials, stack.credentials());
            return stack;
        } catch (IOException e) {
            stack.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        } catch (Exception e) {
            stack.close();
            throw new IllegalStateException("the dev stack could not start: " + e.getMessage(), e);
        }
    }

    /**
     * Fault injection (tests, demos): stops the Kafka node while every service keeps running, as a
     * cluster outage looks to them. {@link #startKafka()} brings it back.
     */
    public synchronized void stopKafka() {
        if (!kafkaStopped) {
            kafka.close();
            kafkaStopped = true;
        }
    }

    /**
     * Fault injection (tests): cuts the network between every service and Kafka, as {@code cut} says,
     * without closing anything; {@link #healKafkaPartition()} ends it. Needs {@code --kafka-via-proxy true}.
     */
    public void partitionKafka(TcpProxy.Cut cut) {
        if (kafkaProxy == null) {
            throw new IllegalStateException("start the dev stack with --kafka-via-proxy true to partition it from Kafka");
        }
        kafkaProxy.partition(cut);
    }

    /** Ends a {@link #partitionKafka} partition: the connections that lost bytes are reset, traffic flows again. */
    public void healKafkaPartition() {
        kafkaProxy.heal();
    }

    /** Starts the stopped Kafka node again on the same port with the same data. */
    public synchronized void startKafka() {
        if (kafkaStopped) {
            int port = Integer.parseInt(kafka.bootstrapServers().substring(kafka.bootstrapServers().lastIndexOf(':') + 1));
            kafka = kafkaProxy == null ? EmbeddedKafka.start(dataDir.resolve("kafka"), port, false)
                    : EmbeddedKafka.start(dataDir.resolve("kafka"), port, false, kafkaExternalPort, kafkaProxy.port());
            kafkaStopped = false;
        }
    }

    /** The fake Stripe billing talks to (its checkout pages pay, its events reach the billing webhook). */
    public FakeStripe stripe() {
        return stripe;
    }

    /** Kafka's {@code bootstrap.servers}. */
    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The fake upstream's base URL (append {@code /v1}); null when real upstreams are configured. */
    public String upstreamUrl() {
        return upstream == null ? null : upstream.baseUrl();
    }

    /** True if the ledger runs on the embedded PostgreSQL fallback. */
    public boolean embeddedPostgres() {
        return ledger.embeddedPostgres();
    }

    /** The admin API's base URL. */
    public String adminUrl() {
        return ledger.url();
    }

    /** The billing API's base URL. */
    public String billingUrl() {
        return billing.url();
    }

    /** The gateway's base URL (append {@code /v1} for an OpenAI client). */
    public String gatewayUrl() {
        return gateway.url();
    }

    /** The console's base URL: sign in there through the dev identity provider. */
    public String consoleUrl() {
        return console.url();
    }

    /** The dev identity provider's issuer URL (its sign-in page is {@code /login}). */
    public String identityProviderUrl() {
        return idp.issuer();
    }

    /**
     * A bearer token for the admin and billing APIs signed by the dev identity provider, as the console's own
     * tokens are: {@code tenant} binds a tenant-admin.
     */
    public String token(String subject, List<String> roles, String tenant) {
        return idp.mint(subject, roles, tenant, Duration.ofHours(1));
    }

    /** A platform-admin bearer token for the admin API. */
    public String adminToken() {
        return adminToken;
    }

    /** The demo tenant's API key (full bearer token). */
    public String apiKey() {
        return apiKey.token();
    }

    /** The demo key's id. */
    public String apiKeyId() {
        return apiKey.keyId();
    }

    private ObjectNode credentials() {
        var node = DemoSeed.newObject();
        node.put("gatewayUrl", gateway.url() + "/v1");
        node.put("adminUrl", ledger.url());
        node.put("billingUrl", billing.url());
        node.put("consoleUrl", console.url());
        node.put("identityProviderUrl", idp.issuer());
        node.put("adminToken", adminToken);
        node.put("tenantId", DemoSeed.TENANT);
        node.put("keyId", apiKey.keyId());
        node.put("apiKey", apiKey.token());
        node.put("upstreamUrl", upstream == null ? null : upstream.baseUrl() + "/v1");
        node.put("kafkaBootstrapServers", kafka.bootstrapServers());
        return node;
    }

    /** What runs where, for a human. */
    public String banner() {
        return String.format("""

                Tollgate dev stack is up (Ctrl-C stops it)
                  console                 %s   open it, choose "demo tenant admin" or "platform admin" (dev sign-in)
                  Kafka (KRaft, in-JVM)   %s   started in %d ms, data in %s
                  topics                  %s
                  GPU upstream            %s   models: %s
                  gateway                 %s/v1   (OpenAI-compatible; the demo key below works)
                  ledger admin API        %s/admin/v1   (OpenAPI: %s/admin/v1/openapi.json)
                  identity provider       %s   (OpenID Connect, dev only; the APIs trust its keys)
                  demo tenant             demo, plan "dev", API key %s
                  credentials             %s

                  try the gateway (metered; usage events go to usage.v1):
                    curl -s %s/v1/chat/completions -H "authorization: Bearer $(jq -r .apiKey %s)" \\
                      -H 'content-type: application/json' -d '{"model":"fake-chat","messages":[{"role":"user","content":"hi"}]}'
                  try the admin API:
                    curl -s %s/admin/v1/tenants/demo/keys -H "authorization: Bearer $(jq -r .adminToken %s)"
                  billing API             %s/billing/v1   (projector: usage windows, quota state, invoices)
                    curl -s %s/billing/v1/tenants/demo/usage -H "authorization: Bearer $(jq -r .adminToken %s)"
                    curl -s %s/billing/v1/tenants/demo/invoices -H "authorization: Bearer $(jq -r .adminToken %s)"

                  quotas: the dev plan allows 600 requests and 200,000 tokens a minute, 5,000,000 tokens a day and 50 USD
                  a month (soft); the gateway enforces them with the projector's quota state (ADR 0009).
                  audit: ./tollgate-audit replay --period <YYYY-MM> --bootstrap-servers %s \
                    --database-url jdbc:postgresql://127.0.0.1:5432/tollgate_dev_billing
                """,
                console.url(), kafka.bootstrapServers(), kafka.startupTime().toMillis(), dataDir.resolve("kafka"),
                String.join(", ", Topics.all().stream().map(TopicSpec::name).toList()),
                upstream == null ? "(not started: real upstreams from --upstreams)" : upstream.baseUrl(),
                String.join(", ", models), gateway.url(), ledger.url(), ledger.url(), idp.issuer(), apiKey.keyId(),
                dataDir.resolve("dev-credentials.json"), gateway.url(), dataDir.resolve("dev-credentials.json"),
                ledger.url(), dataDir.resolve("dev-credentials.json"), billing.url(), billing.url(), dataDir.resolve("dev-credentials.json"),
                billing.url(), dataDir.resolve("dev-credentials.json"), kafka.bootstrapServers());
    }

    @Override
    public void close() {
        while (!running.isEmpty()) {
            try {
                running.pop().close();
            } catch (Exception e) {
                System.err.println("while stopping the dev stack: " + e);
            }
        }
    }

    public static void main(String[] args) throws InterruptedException {
        DevStack stack = start(parse(args));
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            stopped.countDown();
        }, "devstack-stop"));
        System.out.println(stack.banner());
        stopped.await();
    }

    private static int intOption(Map<String, String> options, String name, int fallback) {
        String value = options.get(name);
        try {
            return value == null ? fallback : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, was '" + value + "'");
        }
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: tollgate-dev [--option value]..., got " + String.join(" ", args));
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }
}
