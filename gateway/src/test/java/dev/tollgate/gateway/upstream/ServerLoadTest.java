package dev.tollgate.gateway.upstream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ServerLoadTest {
    /** The shape of vLLM's /metrics: HELP and TYPE lines, one series per model, histograms around. */
    private static final String VLLM = """
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0
            vllm:num_requests_running{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 5.0
            # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
            # TYPE vllm:num_requests_waiting gauge
            vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
            vllm:num_requests_waiting_by_reason{model_name="x",reason="capacity"} 99.0
            # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
            # TYPE vllm:kv_cache_usage_perc gauge
            vllm:kv_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.42
            vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="meta-llama/Llama-3.1-8B-Instruct"} 12.0
            """;

    @Test
    void readsVllmsGaugesSummedOverTheirSeries() {
        ServerLoad load = ServerLoad.parse(VLLM, UpstreamConfig.LoadMetrics.VLLM, 42);
        assertThat(load).isEqualTo(new ServerLoad(12, 3, 0.42, 42));
    }

    @Test
    void readsOtherServersByTheConfiguredNames() {
        var sglang = new UpstreamConfig.LoadMetrics(null, null, null, "sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage");
        String exposition = "sglang:num_running_reqs{model_name=\"m\"} 4\nsglang:num_queue_reqs{model_name=\"m\"} 1 1733130000000\n"
                + "sglang:token_usage{model_name=\"m\"} 0.25\n";
        assertThat(ServerLoad.parse(exposition, sglang, 0)).isEqualTo(new ServerLoad(4, 1, 0.25, 0));
    }

    @Test
    void aServerThatDoesNotReportTheGaugesGivesNoReport() {
        assertThat(ServerLoad.parse("# nothing here\nprocess_cpu_seconds_total 12.5\n", UpstreamConfig.LoadMetrics.VLLM, 0)).isNull();
        assertThat(ServerLoad.parse("vllm:num_requests_running 1\n", UpstreamConfig.LoadMetrics.VLLM, 0)).as("waiting missing").isNull();
        assertThat(ServerLoad.parse("vllm:num_requests_running NaN\nvllm:num_requests_waiting 0\n", UpstreamConfig.LoadMetrics.VLLM, 0))
                .isNull();
    }
}
