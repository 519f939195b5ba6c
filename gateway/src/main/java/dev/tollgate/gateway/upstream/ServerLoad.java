package dev.tollgate.gateway.upstream;

/**
 * What a model server last said about its own load, from its Prometheus {@code /metrics}.
 *
 * @param running      requests it is running (vLLM {@code vllm:num_requests_running}); every gateway's, not only ours
 * @param waiting      requests in its own queue (vLLM {@code vllm:num_requests_waiting})
 * @param kvCacheUsage the fraction of its KV cache in use, 0 to 1 (vLLM {@code vllm:kv_cache_usage_perc}); 0 if not reported
 * @param atNanos      when it was read ({@link System#nanoTime()})
 */
public record ServerLoad(double running, double waiting, double kvCacheUsage, long atNanos) {

    /**
     * Reads the configured gauges from a Prometheus text exposition, summing each over its label sets
     * (vLLM labels them by model). Null when the running or waiting gauge is missing: the server does
     * not report what the pool's configuration names.
     */
    public static ServerLoad parse(String exposition, UpstreamConfig.LoadMetrics names, long atNanos) {
        double running = 0;
        double waiting = 0;
        double kvCache = 0;
        boolean sawRunning = false;
        boolean sawWaiting = false;
        for (String line : exposition.split("\n")) {
            if (line.isEmpty() || line.charAt(0) == '#') {
                continue;
            }
            String name = metricName(line);
            if (name.equals(names.runningOrDefault())) {
                running += value(line, name.length());
                sawRunning = true;
            } else if (name.equals(names.waitingOrDefault())) {
                waiting += value(line, name.length());
                sawWaiting = true;
            } else if (name.equals(names.kvCacheOrDefault())) {
                kvCache = Math.max(kvCache, value(line, name.length()));
            }
        }
        if (!sawRunning || !sawWaiting || !Double.isFinite(running) || !Double.isFinite(waiting)) {
            return null;
        }
        return new ServerLoad(Math.max(0, running), Math.max(0, waiting), Double.isFinite(kvCache) ? Math.min(1, Math.max(0, kvCache)) : 0,
                atNanos);
    }

    private static String metricName(String line) {
        int end = 0;
        while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
            end++;
        }
        return line.substring(0, end);
    }

    /** The sample value: the first field after the name (of {@code nameLength} characters) and labels (a timestamp may follow). */
    private static double value(String line, int nameLength) {
        int labelsEnd = nameLength < line.length() && line.charAt(nameLength) == '{' ? line.lastIndexOf('}') + 1 : nameLength;
        String[] fields = line.substring(labelsEnd).trim().split("\\s+");
        try {
            return Double.parseDouble(fields[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
