package dev.tollgate.testkit.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Real recorded API request/response pairs, copied unchanged, for tests of what an upstream really sends: SSE framing,
 * usage chunks, extra fields, error bodies. Two sources (provenance and licence in each folder's README):
 * go-vcr v2 cassettes of the OpenAI API recorded by the Envoy AI Gateway project (Apache-2.0) under
 * {@code cassettes/openai/}, and VCR.py cassettes of OpenAI's Responses API and Anthropic's Messages API recorded by the
 * OpenTelemetry Python instrumentations (Apache-2.0) under {@code cassettes/otel/}.
 */
public final class Cassettes {
    /** The cassettes shipped, by name (file name without {@code .yaml}; {@code otel/} for the second source). */
    public static final List<String> NAMES = List.of("chat-bad-request", "chat-basic", "chat-multiturn",
            "chat-streaming", "chat-tools", "chat-unknown-model", "completion-basic", "completion-streaming",
            "embeddings-basic", "audio-transcription-basic", "audio-translation-basic", "otel/responses-reasoning",
            "otel/responses-streaming", "otel/messages-basic", "otel/messages-streaming");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Cassettes() {}

    /** One recorded exchange. */
    public record Interaction(String method, String url, String requestBody, int status, String contentType,
                              String responseBody) {
        /** True when the response is an SSE stream. */
        public boolean streamed() {
            return contentType != null && contentType.startsWith("text/event-stream");
        }
    }

    /** The first interaction of the named cassette, in either format (go-vcr's or VCR.py's). */
    public static Interaction load(String name) {
        String resource = name.startsWith("otel/") ? "/cassettes/" + name + ".yaml" : "/cassettes/openai/" + name + ".yaml";
        try (InputStream in = Cassettes.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no cassette " + name);
            }
            JsonNode interaction = YAML.readTree(in).path("interactions").get(0);
            JsonNode request = interaction.path("request");
            JsonNode response = interaction.path("response");
            JsonNode contentType = response.path("headers").path("Content-Type").path(0);
            boolean vcrPy = response.path("status").isObject(); // go-vcr writes "status: 200 OK" and "code: 200"
            return new Interaction(request.path("method").asText(), request.path(vcrPy ? "uri" : "url").asText(),
                    request.path("body").asText(), vcrPy ? response.path("status").path("code").asInt() : response.path("code").asInt(),
                    contentType.isMissingNode() ? null : contentType.asText(),
                    vcrPy ? response.path("body").path("string").asText() : response.path("body").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
