package dev.tollgate.devstack;

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
}
