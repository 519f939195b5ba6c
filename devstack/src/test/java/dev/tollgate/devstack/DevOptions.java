package dev.tollgate.devstack;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Dev stack options for tests, as name/value pairs (more than {@code Map.of} takes). */
final class DevOptions {
    private DevOptions() {}

    static Map<String, String> of(String... pairs) {
        var options = new LinkedHashMap<String, String>();
        for (int i = 0; i < pairs.length; i += 2) {
            options.put(pairs[i], pairs[i + 1]);
        }
        return options;
    }

    /**
     * A stack for the PostgreSQL fault tests: every port free, the services on the PostgreSQL at
     * {@code 127.0.0.1:pgPort} (the test's own, or a proxy in front of it), a fast fake model server.
     */
    static Map<String, String> onPostgres(Path dataDir, int pgPort) {
        return of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0", "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0",
                "upstream-port", "0", "pg-host", "127.0.0.1", "pg-port", String.valueOf(pgPort), "embedded-postgres", "never",
                "ttft-ms", "5", "inter-token-ms", "1", "completion-tokens", "8");
    }
}
