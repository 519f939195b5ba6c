package dev.tollgate.gateway.surface;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.testkit.upstream.Cassettes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the Responses and Messages surfaces read from requests, answers and streams (ADR 0029). */
class SurfaceMeteringTest {
    private static void feed(SseMeter meter, String... events) {
        for (String event : events) {
            byte[] bytes = event.getBytes(StandardCharsets.UTF_8);
            meter.onData(bytes, 0, bytes.length);
        }
    }

    @Test
    void aResponsesAnswerBillsInputCachedOutputAndTheReasoningPartOfIt() {
        Optional<TokenUsage> usage = Responses.INSTANCE.usage("""
                {"id":"resp_1","object":"response","usage":{"input_tokens":120,"input_tokens_details":{"cached_tokens":100},
                 "output_tokens":50,"output_tokens_details":{"reasoning_tokens":30},"total_tokens":170}}""");
        assertThat(usage).contains(new TokenUsage(120, 50, 100, 0, 30, 0, 0));
        assertThat(Responses.INSTANCE.usage("{\"usage\":{\"input_tokens\":-1,\"output_tokens\":5}}")).isEmpty();
        assertThat(Responses.INSTANCE.usage("{\"usage\":null}")).isEmpty();
        assertThat(Responses.INSTANCE.usage("not json")).isEmpty();
    }

    @Test
    void aResponsesStreamCountsDeltasAndEndsWithItsTerminalEvent() {
        SseMeter meter = Responses.INSTANCE.streamMeter();
        feed(meter, "{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"usage\":null}}",
                "{\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Hel\"}",
                "{\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":2,\"delta\":\"{\"}",
                "{\"type\":\"response.output_text.done\",\"sequence_number\":3,\"text\":\"Hel\"}");
        assertThat(meter.contentChunks()).isEqualTo(2);
        assertThat(meter.done()).isFalse();
        assertThat(meter.upstreamUsage()).isEmpty();
        feed(meter, "{\"type\":\"response.incomplete\",\"sequence_number\":4,\"response\":{\"usage\":"
                + "{\"input_tokens\":9,\"output_tokens\":2,\"input_tokens_details\":{\"cached_tokens\":0}}}}");
        assertThat(meter.done()).as("an answer cut at max_output_tokens is still whole").isTrue();
        assertThat(meter.upstreamUsage()).contains(new TokenUsage(9, 2, 0));
        assertThat(meter.events()).isEqualTo(5);
        assertThat(meter.sawUsageOnlyChunk()).isFalse();
    }

    @Test
    void aMessagesAnswerPutsCacheReadsAndWritesBackIntoThePrompt() {
        Optional<TokenUsage> usage = Messages.INSTANCE.usage("""
                {"type":"message","usage":{"input_tokens":20,"cache_read_input_tokens":100,"cache_creation_input_tokens":30,
                 "output_tokens":7}}""");
        assertThat(usage).contains(new TokenUsage(150, 7, 100, 30, 0, 0, 0));
        assertThat(Messages.INSTANCE.usage("{\"usage\":{\"input_tokens\":3,\"cache_read_input_tokens\":null,\"output_tokens\":1}}"))
                .contains(new TokenUsage(3, 1, 0));
        assertThat(Messages.INSTANCE.usage("{\"usage\":{\"input_tokens\":1.5,\"output_tokens\":1}}")).isEmpty();
        assertThat(Messages.INSTANCE.usage("{\"usage\":{\"input_tokens\":" + Long.MAX_VALUE + ",\"cache_read_input_tokens\":1}}"))
                .as("a sum past a long is not believed").isEmpty();
    }

    @Test
    void aMessagesStreamTakesThePromptFromTheStartAndTheOutputFromTheDelta() {
        SseMeter meter = Messages.INSTANCE.streamMeter();
        feed(meter, "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,"
                        + "\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}",
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
                "{\"type\":\"ping\"}",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"b\"}}",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"c\"}}");
        assertThat(meter.contentChunks()).isEqualTo(3);
        assertThat(meter.upstreamUsage()).as("before message_delta: the start's prompt, the deltas delivered")
                .contains(new TokenUsage(15, 3, 5));
        feed(meter, "{\"type\":\"content_block_stop\",\"index\":0}",
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}");
        assertThat(meter.upstreamUsage()).as("the server's final output count wins").contains(new TokenUsage(15, 4, 5));
        assertThat(meter.done()).isFalse();
        feed(meter, "{\"type\":\"message_stop\"}");
        assertThat(meter.done()).isTrue();
    }

    @Test
    void requestFieldsAreReadStrictlyAndStatefulResponsesRefused() throws Exception {
        assertThat(Responses.INSTANCE.read(new JsonObject("{\"model\":\"m\",\"stream\":true,\"max_output_tokens\":300}"), 1000))
                .isEqualTo(new MeteredFields(true, true, 300, 1));
        assertThat(Messages.INSTANCE.read(new JsonObject("{\"model\":\"m\",\"max_tokens\":64}"), 1000))
                .isEqualTo(new MeteredFields(false, true, 64, 1));
        for (String body : new String[] {"{\"stream\":\"true\"}", "{\"max_output_tokens\":1001}", "{\"store\":true}",
                "{\"previous_response_id\":\"resp_1\"}", "{\"conversation\":\"conv_1\"}", "{\"background\":true}"}) {
            assertThatThrownBy(() -> Responses.INSTANCE.read(new JsonObject(body), 1000)).as(body)
                    .isInstanceOfSatisfying(MeteredFields.Invalid.class, e -> assertThat(e.error().status()).isEqualTo(400));
        }
        for (String body : new String[] {"{}", "{\"max_tokens\":0}", "{\"max_tokens\":\"64\"}", "{\"max_tokens\":64,\"stream\":1}"}) {
            assertThatThrownBy(() -> Messages.INSTANCE.read(new JsonObject(body), 1000)).as(body)
                    .isInstanceOf(MeteredFields.Invalid.class);
        }
        var body = new JsonObject("{\"model\":\"m\",\"input\":\"hi\"}");
        Responses.INSTANCE.prepare(body, Responses.INSTANCE.read(body, 1000));
        assertThat(body.getBoolean("store")).isFalse();
    }

    @Test
    void errorsTakeTheShapeAndStatusOfTheirApi() {
        var capacity = new GatewayError(503, "server_error", "upstream_capacity", "busy", null);
        assertThat(ErrorShape.of("/v1/messages")).isEqualTo(ErrorShape.ANTHROPIC);
        assertThat(ErrorShape.of("/v1/messages/count_tokens")).isEqualTo(ErrorShape.ANTHROPIC);
        assertThat(ErrorShape.of("/v1/messagesx")).isEqualTo(ErrorShape.OPENAI);
        assertThat(ErrorShape.of("/v1/responses")).isEqualTo(ErrorShape.OPENAI);
        assertThat(ErrorShape.ANTHROPIC.status(capacity)).isEqualTo(529);
        assertThat(ErrorShape.ANTHROPIC.body(capacity).encode())
                .isEqualTo("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}");
        assertThat(ErrorShape.OPENAI.status(capacity)).isEqualTo(503);
        assertThat(ErrorShape.anthropicType(402)).isEqualTo("billing_error");
        assertThat(ErrorShape.anthropicType(429)).isEqualTo("rate_limit_error");
        assertThat(ErrorShape.anthropicType(400)).isEqualTo("invalid_request_error");
        assertThat(Responses.INSTANCE.streamError(new GatewayError(429, "insufficient_quota", "insufficient_quota", "cut", null), 7))
                .isEqualTo("event: error\ndata: {\"type\":\"error\",\"code\":\"insufficient_quota\",\"message\":\"cut\",\"param\":null,"
                        + "\"sequence_number\":7}\n\n");
    }

    @Test
    void rerankAndScoreBillWhatTheServerReadAsPrompt() {
        assertThat(Scoring.RERANK.usage("{\"results\":[],\"usage\":{\"total_tokens\":42}}")).contains(new TokenUsage(42, 0, 0));
        assertThat(Scoring.SCORE.usage("{\"data\":[],\"usage\":{\"prompt_tokens\":40,\"total_tokens\":40,\"completion_tokens\":0}}"))
                .contains(new TokenUsage(40, 0, 0));
        assertThat(Scoring.RERANK.usage("{\"usage\":{\"total_tokens\":\"42\"}}")).isEmpty();
        assertThat(Scoring.RERANK.usage("{\"results\":[]}")).isEmpty();
    }

    @Test
    void rerankAndScoreCountTheDocumentsTheRequestRanks() throws Exception {
        assertThat(Scoring.RERANK.read(new JsonObject("{\"model\":\"m\",\"query\":\"q\",\"documents\":[\"a\",\"b\",\"c\"]}"), 1000)
                .documents()).isEqualTo(3);
        assertThat(Scoring.RERANK_V2.read(new JsonObject("{\"model\":\"m\",\"query\":\"q\",\"documents\":[{\"text\":\"a\"}],"
                + "\"top_n\":1}"), 1000).documents()).isEqualTo(1);
        assertThat(Scoring.SCORE.read(new JsonObject("{\"model\":\"m\",\"text_1\":\"q\",\"text_2\":[\"a\",\"b\"]}"), 1000)
                .documents()).isEqualTo(2);
        assertThat(Scoring.SCORE.read(new JsonObject("{\"model\":\"m\",\"text_1\":\"q\",\"text_2\":\"a\"}"), 1000).documents())
                .isEqualTo(1);
        assertThat(Responses.INSTANCE.read(new JsonObject("{\"model\":\"m\",\"input\":\"hi\"}"), 1000).documents()).isZero();
    }

    @Test
    void aMessagesStreamReportsThePromptWrittenToTheCache() {
        SseMeter meter = Messages.INSTANCE.streamMeter();
        feed(meter, "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,"
                        + "\"cache_creation_input_tokens\":40,\"output_tokens\":1}}}",
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}");
        assertThat(meter.upstreamUsage()).contains(new TokenUsage(55, 4, 5, 40, 0, 0, 0));
    }

    @Test
    void aResponsesStreamReportsTheReasoningPartOfItsOutput() {
        SseMeter meter = Responses.INSTANCE.streamMeter();
        feed(meter, "{\"type\":\"response.completed\",\"sequence_number\":9,\"response\":{\"usage\":{\"input_tokens\":9,"
                + "\"output_tokens\":20,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens_details\":{\"reasoning_tokens\":12}}}}");
        assertThat(meter.upstreamUsage()).contains(new TokenUsage(9, 20, 0, 0, 12, 0, 0));
    }

    @Test
    void audioIsMeteredBySecondsOrTokensAndAJsonTranslationIsServedAsVerbose() throws Exception {
        assertThat(Audio.TRANSCRIPTIONS.usage(Cassettes.load("audio-transcription-basic").responseBody()))
                .as("recorded from OpenAI").contains(new TokenUsage(0, 0, 0, 0, 0, 7, 0));
        assertThat(Audio.TRANSLATIONS.usage(Cassettes.load("audio-translation-basic").responseBody()))
                .as("a recorded json translation carries no usage").isEmpty();
        assertThat(Audio.TRANSLATIONS.usage("{\"task\":\"translate\",\"duration\":8.47,\"text\":\"t\"}"))
                .contains(new TokenUsage(0, 0, 0, 0, 0, 9, 0));
        assertThat(Audio.TRANSCRIPTIONS.usage("{\"text\":\"t\",\"usage\":{\"type\":\"tokens\",\"input_tokens\":14,\"output_tokens\":45}}"))
                .contains(new TokenUsage(14, 45, 0));
        assertThat(Audio.TRANSCRIPTIONS.usage("{\"text\":\"t\",\"usage\":{\"type\":\"duration\",\"seconds\":-3}}")).isEmpty();

        var json = new JsonObject().put("model", "m");
        ApiSurface served = Audio.TRANSLATIONS.forRequest(json);
        served.prepare(json, served.read(json, 1000));
        assertThat(json.getString("response_format")).isEqualTo("verbose_json");
        assertThat(served.answer(Buffer.buffer("{\"task\":\"translate\",\"duration\":1.5,\"text\":\"hello\"}"), 200).toString())
                .isEqualTo("{\"text\":\"hello\"}");
        var verbose = new JsonObject().put("model", "m").put("response_format", "verbose_json");
        assertThat(Audio.TRANSLATIONS.forRequest(verbose)).isSameAs(Audio.TRANSLATIONS);
        assertThat(Audio.TRANSCRIPTIONS.forRequest(json)).isSameAs(Audio.TRANSCRIPTIONS);
        assertThatThrownBy(() -> Audio.TRANSCRIPTIONS.read(new JsonObject().put("response_format", "vtt"), 1000))
                .isInstanceOf(MeteredFields.Invalid.class);
    }
}
