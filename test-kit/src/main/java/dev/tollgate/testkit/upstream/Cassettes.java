package dev.tollgate.testkit.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Real OpenAI API request/response pairs (go-vcr v2 cassettes recorded by the Envoy AI Gateway
 * project, Apache-2.0, copied unchanged under {@code cassettes/openai/}), for tests of what an
 * upstream really sends: SSE framing, usage chunks, extra fields, error bodies.
 */
public final class Cassettes {
    /** The cassettes shipped, by name (file name without {@code .yaml}). */
    public static final List<String> NAMES = List.of("chat-bad-request", "chat-basic", "chat-multiturn",
            "chat-streaming", "chat-tools", "chat-unknown-model", "completion-basic", "completion-streaming",
            "embeddings-basic", "audio-transcription-basic", "audio-translation-basic");

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

    /** The first interaction of the named cassette. */
    public static Interaction load(String name) {
        try (InputStream in = Cassettes.class.getResourceAsStream("/cassettes/openai/" + name + ".yaml")) {
            if (in == null) {
                throw new IllegalArgumentException("no cassette " + name);
            }
            JsonNode interaction = YAML.readTree(in).path("interactions").get(0);
            JsonNode request = interaction.path("request");
            JsonNode response = interaction.path("response");
            JsonNode contentType = response.path("headers").path("Content-Type").path(0);
            return new Interaction(request.path("method").asText(), request.path("url").asText(),
                    request.path("body").asText(), response.path("code").asInt(),
                    contentType.isMissingNode() ? null : contentType.asText(), response.path("body").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
