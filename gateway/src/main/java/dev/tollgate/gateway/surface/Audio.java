package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.gateway.metering.StreamMeter;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Speech to text, as OpenAI and vLLM serve it ({@code POST /v1/audio/transcriptions} and {@code /v1/audio/translations}; ADR
 * 0031): a multipart form with the audio as the part {@code file} and the other fields as text parts. The upload is spooled
 * to disk by the router, bounded by {@link #MAX_UPLOAD_BYTES}, and streamed from there to the model server, so that no
 * audio file is ever held in heap.
 *
 * <p>Metered from the answer: the seconds of audio ({@code usage} of type {@code duration}, as vLLM and whisper answer, or
 * the {@code duration} of {@code verbose_json}, rounded up to whole seconds), or the tokens of a model that counts them
 * ({@code usage} of type {@code tokens}: {@code input_tokens}, {@code output_tokens}). Answers that carry neither cannot be
 * metered, so the formats that never do ({@code text}, {@code srt}, {@code vtt}) and streamed transcription are refused
 * with a 400 that says why. A translation's {@code json} answer carries no usage either (neither OpenAI's nor vLLM's, see
 * the recorded {@code audio-translation-basic}): one asked for as {@code json} is sent as {@code verbose_json}, metered by
 * its {@code duration}, and answered with its {@code text} alone, which is what {@code json} is.
 */
public final class Audio extends NamedSurface {
    public static final Audio TRANSCRIPTIONS = new Audio(Endpoint.AUDIO_TRANSCRIPTIONS, "/v1/audio/transcriptions", "transcription");
    public static final Audio TRANSLATIONS = new Audio(Endpoint.AUDIO_TRANSLATIONS, "/v1/audio/translations", "translation");
    /** A translation asked for as {@code json}, served as {@code verbose_json} to be metered. */
    private static final Audio TRANSLATIONS_METERED_AS_VERBOSE = new Audio(Endpoint.AUDIO_TRANSLATIONS, "/v1/audio/translations",
            "translation", true);
    /** Their paths. */
    public static final Set<String> PATHS = Set.of(TRANSCRIPTIONS.path(), TRANSLATIONS.path());
    /** The largest upload, as OpenAI's API bounds it: 25 MiB. */
    public static final long MAX_UPLOAD_BYTES = 25L * 1024 * 1024;
    /** The fields of a form, at most (each at most 8 KiB: the server's form limit, GatewayServer.FORM_FIELD_BYTES). */
    static final int MAX_FIELDS = 64;
    private static final Set<String> METERED_FORMATS = Set.of("json", "verbose_json");

    private final boolean asksVerbose;

    private Audio(Endpoint endpoint, String path, String operation) {
        this(endpoint, path, operation, false);
    }

    private Audio(Endpoint endpoint, String path, String operation, boolean asksVerbose) {
        super(endpoint, path, operation);
        this.asksVerbose = asksVerbose;
    }

    @Override
    public ApiSurface forRequest(JsonObject body) {
        Object format = body.getValue("response_format");
        return this == TRANSLATIONS && (format == null || "json".equals(format)) ? TRANSLATIONS_METERED_AS_VERBOSE : this;
    }

    @Override
    public void prepare(JsonObject body, MeteredFields fields) {
        if (asksVerbose) {
            body.put("response_format", "verbose_json");
        }
    }

    /** A translation served as {@code verbose_json} for a client that asked for {@code json}: its text alone. */
    @Override
    public Buffer answer(Buffer upstreamAnswer, int status) {
        if (!asksVerbose || status >= 300) {
            return upstreamAnswer;
        }
        JsonNode root = JsonEvents.parse(upstreamAnswer.toString(StandardCharsets.UTF_8));
        JsonNode text = root == null ? null : root.get("text");
        return text == null || !text.isTextual() ? upstreamAnswer : Buffer.buffer(new JsonObject().put("text", text.asText()).encode());
    }

    @Override
    public boolean multipart() {
        return true;
    }

    /**
     * The form's text fields as JSON (a field sent more than once, as {@code timestamp_granularities[]} is, as an array), once
     * the one upload named {@code file} is there.
     */
    @Override
    public JsonObject formFields(RoutingContext ctx) throws MeteredFields.Invalid {
        List<FileUpload> uploads = ctx.fileUploads();
        if (uploads.size() != 1 || !"file".equals(uploads.getFirst().name())) {
            throw new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "invalid_file",
                    "Send the audio as one multipart/form-data part named 'file'.", "file"));
        }
        var fields = new JsonObject();
        var entries = ctx.request().formAttributes().entries();
        if (entries.size() > MAX_FIELDS) {
            throw new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "too_many_fields",
                    "The form has more than " + MAX_FIELDS + " fields.", null));
        }
        for (Map.Entry<String, String> entry : entries) {
            Object previous = fields.getValue(entry.getKey());
            if (previous == null) {
                fields.put(entry.getKey(), entry.getValue());
            } else {
                JsonArray values = previous instanceof JsonArray array ? array : new JsonArray().add(previous);
                fields.put(entry.getKey(), values.add(entry.getValue()));
            }
        }
        return fields;
    }

    @Override
    public MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid {
        if ("true".equalsIgnoreCase(String.valueOf(body.getValue("stream")))) {
            throw new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "unsupported_parameter",
                    "Streamed " + operation() + "s are not served here yet; send the request without 'stream'.", "stream"));
        }
        Object format = body.getValue("response_format");
        if (format != null && !METERED_FORMATS.contains(String.valueOf(format))) {
            throw new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "unsupported_parameter",
                    "response_format '" + GatewayError.echoed(String.valueOf(format)) + "' carries no usage, so it cannot be metered here;"
                            + " use 'json' or 'verbose_json'.", "response_format"));
        }
        return new MeteredFields(false, false, 0, 1);
    }

    @Override
    public UpstreamBody upstreamBody(RoutingContext ctx, JsonObject body) {
        return UpstreamBody.multipart(body, ctx.fileUploads().getFirst());
    }

    @Override
    public Optional<TokenUsage> usage(String answer) {
        JsonNode root = JsonEvents.parse(answer);
        if (root == null || !root.isObject()) {
            return Optional.empty();
        }
        JsonNode usage = root.path("usage");
        if ("tokens".equals(usage.path("type").asText())) {
            long input = JsonEvents.count(usage.path("input_tokens"));
            long output = JsonEvents.count(usage.path("output_tokens"));
            return input < 0 || output < 0 ? Optional.empty() : Optional.of(new TokenUsage(input, output, 0));
        }
        JsonNode seconds = "duration".equals(usage.path("type").asText()) ? usage.path("seconds") : root.path("duration");
        long audio = wholeSeconds(seconds);
        return audio < 0 ? Optional.empty() : Optional.of(new TokenUsage(0, 0, 0, 0, 0, audio, 0));
    }

    /** A count of seconds rounded up, or -1 if it is not a non-negative number. */
    private static long wholeSeconds(JsonNode seconds) {
        if (!seconds.isNumber() || seconds.asDouble() < 0 || seconds.asDouble() > Integer.MAX_VALUE) {
            return -1;
        }
        return seconds.isIntegralNumber() ? seconds.asLong() : (long) Math.ceil(seconds.asDouble());
    }

    /** Never used: these answers are never streamed. */
    @Override
    public SseMeter streamMeter() {
        return new StreamMeter();
    }
}
