package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract between infra's monitoring (Grafana dashboards and Prometheus alert rules) and the
 * services: every metric a dashboard panel or an alert rule reads must be exported by the service it
 * is about, checked against the {@code /metrics} of services that really run. Dashboard
 * {@code tollgate-<service>.json} and rule group {@code tollgate-<service>} belong to {@code <service>}.
 */
final class MonitoringContract {
    static final Path MONITORING = Path.of("..", "infra", "k8s", "base", "monitoring");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "inf", "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\\w:])(?!\\s*\\()");

    private MonitoringContract() {}

    /** @param scrapes per service ({@code gateway}, {@code ledger}, {@code billing}), its Prometheus exposition */
    static void assertEveryMetricIsExported(Map<String, String> scrapes) {
        Map<String, Set<String>> exported = new TreeMap<>();
        scrapes.forEach((service, text) -> exported.put(service, exportedNames(text)));
        Map<String, List<String>> uses = uses();
        assertThat(uses.keySet()).as("dashboards and rules exist for every service").containsAll(scrapes.keySet());
        List<String> missing = new ArrayList<>();
        uses.forEach((service, usages) -> {
            assertThat(usages).as("%s: the monitoring reads some metrics", service).isNotEmpty();
            for (String usage : usages) {
                String metric = usage.substring(0, usage.indexOf(' '));
                if (!exported.getOrDefault(service, Set.of()).contains(metric)) {
                    missing.add(service + ": " + usage);
                }
            }
        });
        assertThat(missing).as("metrics the dashboards or alert rules use but the running service does not export").isEmpty();
    }

    /** Per service, every use: {@code "<metric> in <file>: <panel or alert>"}. */
    static Map<String, List<String>> uses() {
        Map<String, List<String>> uses = new TreeMap<>();
        try (var files = Files.list(MONITORING.resolve("dashboards"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                String service = file.getFileName().toString().replaceFirst("^tollgate-", "").replaceFirst("\\.json$", "");
                for (JsonNode panel : JSON.readTree(file.toFile()).path("panels")) {
                    for (JsonNode target : panel.path("targets")) {
                        for (String metric : metricNames(target.path("expr").asText())) {
                            uses.computeIfAbsent(service, s -> new ArrayList<>())
                                    .add(metric + " in " + file.getFileName() + ": panel '" + panel.path("title").asText() + "'");
                        }
                    }
                }
            }
            JsonNode rules = YAML.readTree(MONITORING.resolve("prometheus-rules.yaml").toFile());
            for (JsonNode group : rules.path("spec").path("groups")) {
                String service = group.path("name").asText().replaceFirst("^tollgate-", "");
                for (JsonNode rule : group.path("rules")) {
                    for (String metric : metricNames(rule.path("expr").asText())) {
                        uses.computeIfAbsent(service, s -> new ArrayList<>())
                                .add(metric + " in prometheus-rules.yaml: alert " + rule.path("alert").asText());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return uses;
    }

    /** The metric names a PromQL expression reads (functions, keywords, labels, durations and strings left out). */
    static Set<String> metricNames(String promql) {
        String s = promql.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^\\]]*]", " ")
                .replaceAll("(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        var names = new TreeSet<String>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            if (!KEYWORDS.contains(m.group(1).toLowerCase(Locale.ROOT))) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** The metric names of a Prometheus text exposition. */
    static Set<String> exportedNames(String exposition) {
        var names = new TreeSet<String>();
        for (String line : exposition.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }
}
