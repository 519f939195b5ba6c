package dev.tollgate.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tollgate.gateway.GatewayMain;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes manifests (infra/k8s) parsed with the fabric8 model and held to what the services
 * really read: environment variable names (the gateway's list, the placeholders of the ledger's
 * application.yml and the billing service's billing.yml), ports, probe paths, the metrics path, the
 * topic catalog, and the wiring between resources (selectors, HPA target, overlay patches).
 */
class ManifestsTest {
    private static final Path K8S = Path.of("k8s");
    private static final Path TOPICS = K8S.resolve("base/kafka/topics.yaml");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final KubernetesSerialization KUBE = new KubernetesSerialization();
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]");

    private static List<HasMetadata> resources(Path file) throws IOException {
        var resources = new ArrayList<HasMetadata>();
        for (String document : Files.readString(file).split("(?m)^---\\s*$")) {
            if (!document.strip().isEmpty() && document.lines().anyMatch(l -> l.startsWith("kind:"))) {
                resources.add(KUBE.unmarshal(document, HasMetadata.class));
            }
        }
        return resources;
    }

    private static Map<String, HasMetadata> base() throws IOException {
        var all = new LinkedHashMap<String, HasMetadata>();
        JsonNode kustomization = YAML.readTree(K8S.resolve("base/kustomization.yaml").toFile());
        for (JsonNode resource : kustomization.path("resources")) {
            for (HasMetadata r : resources(K8S.resolve("base").resolve(resource.asText()))) {
                all.put(r.getKind() + "/" + r.getMetadata().getName(), r);
            }
        }
        return all;
    }

    private static Set<String> placeholders(String classpathResource) throws IOException {
        try (InputStream in = ManifestsTest.class.getClassLoader().getResourceAsStream(classpathResource)) {
            assertThat(in).as(classpathResource).isNotNull();
            Matcher m = PLACEHOLDER.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            var names = new TreeSet<String>();
            while (m.find()) {
                names.add(m.group(1));
            }
            return names;
        }
    }

    private static Container container(PodTemplateSpec template) {
        assertThat(template.getSpec().getContainers()).hasSize(1);
        return template.getSpec().getContainers().getFirst();
    }

    private static Map<String, String> env(Container container) {
        var env = new LinkedHashMap<String, String>();
        for (EnvVar var : container.getEnv()) {
            env.put(var.getName(), var.getValue());
        }
        return env;
    }

    /** The Strimzi KafkaTopic resources for the catalog, as {@code topics.yaml} must hold them. */
    static String generatedTopics() {
        var yaml = new StringBuilder("# Generated from dev.tollgate.schemas.topic.Topics by ManifestsTest (run it with\n"
                + "# -Dtollgate.regenerate=true after changing the catalog). Do not edit.\n");
        for (TopicSpec topic : Topics.all()) {
            yaml.append("---\napiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic\nmetadata:\n  name: ").append(topic.name())
                    .append("\n  labels: {strimzi.io/cluster: tollgate}\nspec:\n  topicName: ").append(topic.name())
                    .append("\n  partitions: ").append(topic.partitions()).append("\n  replicas: 3\n  config:\n");
            new TreeMap<>(topic.configsFor(3)).forEach((name, value) -> yaml.append("    ").append(name).append(": \"").append(value).append("\"\n"));
        }
        return yaml.toString();
    }

    @Test
    void theKafkaTopicsAreTheCatalogs() throws IOException {
        if (Boolean.getBoolean("tollgate.regenerate")) {
            Files.writeString(TOPICS, generatedTopics());
        }
        assertThat(Files.readString(TOPICS)).as("topics.yaml is stale: run ManifestsTest with -Dtollgate.regenerate=true")
                .isEqualTo(generatedTopics());
        List<HasMetadata> topics = resources(TOPICS);
        assertThat(topics).hasSize(Topics.all().size()).allSatisfy(t -> assertThat(t).isInstanceOf(GenericKubernetesResource.class));
    }

    @Test
    void everyManifestParsesAndEveryKustomizationReferenceExists() throws IOException {
        try (Stream<Path> files = Files.walk(K8S)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                if (file.getFileName().toString().equals("kustomization.yaml")) {
                    JsonNode kustomization = YAML.readTree(file.toFile());
                    for (String field : List.of("resources", "patches")) {
                        for (JsonNode ref : kustomization.path(field)) {
                            String path = ref.isTextual() ? ref.asText() : ref.path("path").asText();
                            assertThat(file.getParent().resolve(path)).as(file + " -> " + path).exists();
                        }
                    }
                    for (JsonNode generator : kustomization.path("configMapGenerator")) {
                        for (JsonNode entry : generator.path("files")) {
                            String path = entry.asText().contains("=") ? entry.asText().split("=", 2)[1] : entry.asText();
                            assertThat(file.getParent().resolve(path)).as(file + " -> " + path).exists();
                        }
                    }
                } else if (!file.getFileName().toString().equals("upstreams.yaml")) {
                    assertThat(resources(file)).as(file.toString()).isNotEmpty();
                }
            }
        }
        UpstreamConfig upstreams = UpstreamConfig.parse(Files.readString(K8S.resolve("base/gateway/upstreams.yaml")));
        assertThat(upstreams.modelNames()).isNotEmpty();
    }

    @Test
    void theGatewayGetsOnlyWhatItReadsOnThePortItListensOnWithItsProbes() throws IOException {
        var gateway = (StatefulSet) base().get("StatefulSet/gateway");
        Container c = container(gateway.getSpec().getTemplate());
        Map<String, String> env = env(c);
        assertThat(GatewayMain.ENVIRONMENT).containsAll(env.keySet());
        assertThat(env).containsKeys("TOLLGATE_KAFKA_BOOTSTRAP", "TOLLGATE_UPSTREAMS", "TOLLGATE_SPOOL_DIR", "TOLLGATE_GATEWAY_REPLICAS");
        assertThat(c.getPorts().getFirst().getContainerPort()).isEqualTo(Integer.parseInt(env.get("TOLLGATE_GATEWAY_PORT")));
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(env.get("TOLLGATE_SPOOL_DIR")).isEqualTo(m.getMountPath()));
        assertThat(c.getVolumeMounts()).as("audio uploads on a volume of their own (ADR 0031)")
                .anySatisfy(m -> assertThat(env.get("TOLLGATE_UPLOADS_DIR")).isEqualTo(m.getMountPath()));
        assertThat(env.get("TOLLGATE_UPSTREAMS")).startsWith(c.getVolumeMounts().stream()
                .filter(m -> m.getName().equals("upstreams")).findFirst().orElseThrow().getMountPath());
        var hpa = (HorizontalPodAutoscaler) base().get("HorizontalPodAutoscaler/gateway");
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("StatefulSet");
        assertThat(Integer.parseInt(env.get("TOLLGATE_GATEWAY_REPLICAS"))).as("without heartbeats a replica's share assumes the HPA's maximum (ADR 0020)")
                .isEqualTo(hpa.getSpec().getMaxReplicas());
        // The runtime logging file the gateway is pointed at is mounted, and logback takes it without an error.
        assertThat(env.get("LOGGING_CONFIG")).startsWith(c.getVolumeMounts().stream()
                .filter(m -> m.getName().equals("logging")).findFirst().orElseThrow().getMountPath());
        var logging = new ch.qos.logback.classic.LoggerContext();
        var configurator = new ch.qos.logback.classic.joran.JoranConfigurator();
        configurator.setContext(logging);
        try {
            configurator.doConfigure(K8S.resolve("base/gateway/logback.xml").toFile());
        } catch (ch.qos.logback.core.joran.spi.JoranException e) {
            throw new AssertionError(e);
        }
        assertThat(logging.getStatusManager().getCopyOfStatusList()).noneMatch(s -> s.getLevel() >= ch.qos.logback.core.status.Status.WARN);
        assertThat(logging.getLogger("dev.tollgate.gateway.access").getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO);
        logging.stop();
        var monitor = (GenericKubernetesResource) base().get("ServiceMonitor/gateway");
        @SuppressWarnings("unchecked")
        var endpoints = (List<Map<String, Object>>) ((Map<String, Object>) monitor.getAdditionalProperties().get("spec")).get("endpoints");
        assertThat(endpoints.getFirst()).containsEntry("path", "/metrics"); // GatewayServer's route
    }

    @Test
    void theLedgerAndTheBillingServiceGetOnlyWhatTheirConfigurationReads() throws IOException {
        Set<String> ledgerReads = new HashSet<>(placeholders("application.yml"));
        var ledger = (Deployment) base().get("Deployment/ledger");
        Container lc = container(ledger.getSpec().getTemplate());
        assertThat(ledgerReads).containsAll(env(lc).keySet());
        assertThat(lc.getPorts().getFirst().getContainerPort()).isEqualTo(Integer.parseInt(env(lc).get("TOLLGATE_LEDGER_PORT")));
        assertThat(lc.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/readiness");

        Set<String> billingReads = new HashSet<>(placeholders("billing.yml"));
        var billing = (StatefulSet) base().get("StatefulSet/billing");
        Container bc = container(billing.getSpec().getTemplate());
        assertThat(billingReads).containsAll(env(bc).keySet());
        assertThat(bc.getPorts().getFirst().getContainerPort()).isEqualTo(Integer.parseInt(env(bc).get("TOLLGATE_BILLING_PORT")));
        assertThat(bc.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/readiness");
        assertThat(bc.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo(env(bc).get("TOLLGATE_PROJECTOR_STATE_DIR")));
        var monitor = (GenericKubernetesResource) base().get("ServiceMonitor/billing");
        @SuppressWarnings("unchecked")
        var endpoints = (List<Map<String, Object>>) ((Map<String, Object>) monitor.getAdditionalProperties().get("spec")).get("endpoints");
        assertThat(endpoints.getFirst()).containsEntry("path", "/metrics");
    }

    @Test
    void theConsoleGetsOnlyWhatItsConfigurationReadsAndNeedsNoDatabase() throws IOException {
        Set<String> consoleReads = placeholders("console.yml");
        var console = (Deployment) base().get("Deployment/console");
        Container cc = container(console.getSpec().getTemplate());
        assertThat(consoleReads).containsAll(env(cc).keySet());
        assertThat(env(cc)).containsKeys("TOLLGATE_ADMIN_API_URL", "TOLLGATE_BILLING_API_URL", "TOLLGATE_CONSOLE_OIDC_ISSUER")
                .doesNotContainKeys("TOLLGATE_LEDGER_DB_URL", "TOLLGATE_BILLING_DB_URL", "TOLLGATE_KAFKA_BOOTSTRAP");
        assertThat(cc.getPorts().getFirst().getContainerPort()).isEqualTo(Integer.parseInt(env(cc).get("TOLLGATE_CONSOLE_PORT")));
        assertThat(cc.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/readiness");
    }

    @Test
    void servicesAndDisruptionBudgetsSelectThePodsTheyMeanAndOverlaysPatchWhatExists() throws IOException {
        Map<String, HasMetadata> base = base();
        var podLabels = new LinkedHashMap<String, Map<String, String>>();
        base.values().forEach(r -> {
            if (r instanceof StatefulSet s) {
                podLabels.put(s.getMetadata().getName(), s.getSpec().getTemplate().getMetadata().getLabels());
            } else if (r instanceof Deployment d) {
                podLabels.put(d.getMetadata().getName(), d.getSpec().getTemplate().getMetadata().getLabels());
            }
        });
        for (HasMetadata r : base.values()) {
            if (r instanceof Service s) {
                assertThat(podLabels.values()).as("service " + s.getMetadata().getName())
                        .anySatisfy(labels -> assertThat(labels).containsAllEntriesOf(s.getSpec().getSelector()));
            } else if (r instanceof PodDisruptionBudget pdb) {
                assertThat(podLabels.values()).as("pdb " + pdb.getMetadata().getName())
                        .anySatisfy(labels -> assertThat(labels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels()));
            }
        }
        for (String overlay : List.of("dev", "prod")) {
            JsonNode kustomization = YAML.readTree(K8S.resolve("overlays").resolve(overlay).resolve("kustomization.yaml").toFile());
            for (JsonNode patch : kustomization.path("patches")) {
                for (HasMetadata r : resources(K8S.resolve("overlays").resolve(overlay).resolve(patch.path("path").asText()))) {
                    assertThat(base).as(overlay + " patches " + r.getKind() + "/" + r.getMetadata().getName())
                            .containsKey(r.getKind() + "/" + r.getMetadata().getName());
                }
            }
        }
    }

    @Test
    void theComposeFileGivesEachServiceOnlyWhatItReads() throws IOException {
        JsonNode services = YAML.readTree(Path.of("compose.yaml").toFile()).path("services");
        Map<String, Set<String>> reads = Map.of("gateway", new HashSet<>(GatewayMain.ENVIRONMENT), "ledger", placeholders("application.yml"),
                "billing", placeholders("billing.yml"));
        reads.forEach((service, names) -> {
            var env = new TreeSet<String>();
            services.path(service).path("environment").fieldNames().forEachRemaining(env::add);
            assertThat(env).as(service).isNotEmpty();
            assertThat(names).as(service + " reads").containsAll(env);
        });
    }
}
