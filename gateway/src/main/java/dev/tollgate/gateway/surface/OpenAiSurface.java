package dev.tollgate.gateway.surface;

import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.gateway.metering.StreamMeter;
import dev.tollgate.gateway.metering.UsageExtractor;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/**
 * OpenAI's chat completions, text completions and embeddings: one shape of request fields
 * ({@link MeteredFields#read}), of usage ({@code usage.prompt_tokens}, {@link UsageExtractor}) and of
 * stream ({@code data:} chunks ending with {@code [DONE]}, {@link StreamMeter}), at three paths. A
 * stream is asked for its usage chunk ({@code stream_options.include_usage}); the relay leaves that
 * chunk out when the client did not ask for it.
 */
public final class OpenAiSurface extends NamedSurface {
    public static final OpenAiSurface CHAT_COMPLETIONS = new OpenAiSurface(Endpoint.CHAT_COMPLETIONS, "/v1/chat/completions", "chat");
    public static final OpenAiSurface COMPLETIONS = new OpenAiSurface(Endpoint.COMPLETIONS, "/v1/completions", "text_completion");
    public static final OpenAiSurface EMBEDDINGS = new OpenAiSurface(Endpoint.EMBEDDINGS, "/v1/embeddings", "embeddings");

    private OpenAiSurface(Endpoint endpoint, String path, String operation) {
        super(endpoint, path, operation);
    }

    @Override
    public MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid {
        return MeteredFields.read(body, maxTokensCeiling);
    }

    @Override
    public void prepare(JsonObject body, MeteredFields fields) {
        if (fields.stream()) {
            JsonObject options = body.getValue("stream_options") instanceof JsonObject o ? o.copy() : new JsonObject();
            body.put("stream_options", options.put("include_usage", true));
        }
    }

    @Override
    public Optional<TokenUsage> usage(String answer) {
        return UsageExtractor.fromJson(answer);
    }

    @Override
    public SseMeter streamMeter() {
        return new StreamMeter();
    }
}
