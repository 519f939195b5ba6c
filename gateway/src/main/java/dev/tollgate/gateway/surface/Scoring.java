package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.gateway.metering.StreamMeter;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/**
 * Rerank and score, as vLLM serves them ({@code POST /v1/rerank} and Cohere's {@code /v2/rerank}: a
 * query and documents; {@code POST /v1/score}: {@code text_1} against {@code text_2}): whole answers only, nothing
 * generated, so the request reserves its prompt and no completion. Usage is the tokens the server
 * read: {@code usage.prompt_tokens}, or {@code usage.total_tokens} where the server gives only that
 * (vLLM's rerank), billed as input tokens of the model; and the documents ranked or scored (rerank's
 * {@code documents}, score's {@code text_2}: one per entry of a list, else one), which a price list can bill by the
 * document (ADR 0030).
 */
public final class Scoring extends NamedSurface {
    public static final Scoring RERANK = new Scoring(Endpoint.RERANK, "/v1/rerank");
    public static final Scoring SCORE = new Scoring(Endpoint.SCORE, "/v1/score");
    /** Cohere's rerank path, which vLLM also serves with the same answer. */
    public static final Scoring RERANK_V2 = new Scoring(Endpoint.RERANK, "/v2/rerank");

    /** The field that holds what a request ranks or scores. */
    private final String documentsField;

    private Scoring(Endpoint endpoint, String path) {
        super(endpoint, path, "rerank");
        this.documentsField = endpoint == Endpoint.SCORE ? "text_2" : "documents";
    }

    @Override
    public MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid {
        if (MeteredFields.bool(body, "stream", "stream")) {
            throw new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "unsupported_parameter",
                    path() + " does not stream.", "stream"));
        }
        Object documents = body.getValue(documentsField);
        long count = documents instanceof JsonArray list ? list.size() : documents == null ? 0 : 1;
        return new MeteredFields(false, false, 0, 1, count);
    }

    @Override
    public Optional<TokenUsage> usage(String answer) {
        JsonNode root = JsonEvents.parse(answer);
        JsonNode usage = root == null ? null : root.get("usage");
        if (usage == null || !usage.isObject()) {
            return Optional.empty();
        }
        long read = JsonEvents.count(usage.has("prompt_tokens") ? usage.get("prompt_tokens") : usage.get("total_tokens"));
        return read < 0 ? Optional.empty() : Optional.of(new TokenUsage(read, 0, 0));
    }

    /** Never used: these answers are never streamed. */
    @Override
    public SseMeter streamMeter() {
        return new StreamMeter();
    }
}
