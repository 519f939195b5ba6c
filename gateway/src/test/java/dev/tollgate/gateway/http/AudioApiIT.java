package dev.tollgate.gateway.http;

import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.models.audio.AudioResponseFormat;
import com.openai.models.audio.transcriptions.Transcription;
import com.openai.models.audio.transcriptions.TranscriptionCreateParams;
import com.openai.models.audio.translations.TranslationCreateParams;
import com.openai.models.audio.translations.TranslationVerbose;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.CassetteUpstream;
import dev.tollgate.testkit.upstream.Cassettes;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import dev.tollgate.testkit.upstream.RecordedRequest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Speech to text through a running gateway with the official OpenAI SDK (issue #20, ADR 0031): the upload reaches the model
 * server byte for byte with the pool's credential, the audio seconds are billed from the answer, and what cannot be metered
 * or is too large is refused in OpenAI's shape.
 */
@ExtendWith(KafkaExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AudioApiIT {
    /** The fake upstream hears 32,000 bytes a second (16 kHz, 16-bit mono). */
    private static final int BYTES_PER_SECOND = 32_000;
    private final String tenant = "audio-" + UUID.randomUUID().toString().substring(0, 8);
    private FakeUpstream upstream;
    private TestGateway gateway;
    private ApiKeys.NewKey key;
    private String bootstrap;
    @TempDir
    Path files;

    @BeforeAll
    void start(EmbeddedKafka kafka) throws Exception {
        bootstrap = kafka.bootstrapServers();
        upstream = FakeUpstream.start(0, List.of("fake-whisper", "chat-only"), FakeBehaviour.DEFAULT);
        key = TestGateway.publishTenantWithKey(bootstrap, tenant);
        gateway = TestGateway.start(bootstrap, UpstreamConfig.parse("""
                pools:
                  speech: {credential: pool-secret, endpoints: [{url: "%1$s"}]}
                  chat: {apis: [chat.completions], endpoints: [{url: "%1$s"}]}
                models: {fake-whisper: {pool: speech}, chat-only: {pool: chat}}
                """.formatted(upstream.baseUrl())));
    }

    @AfterAll
    void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    private OpenAIClient openAi() {
        return gateway.openAi(key.token());
    }

    /** A file of {@code bytes} seeded random bytes. */
    private Path audio(String name, int bytes) throws Exception {
        var data = new byte[bytes];
        new Random(bytes).nextBytes(data);
        return Files.write(files.resolve(name), data);
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** The terminal events of the tenant's requests to {@code endpoint} on the topic so far, oldest first. */
    private List<RequestFinished> finished(Endpoint endpoint) {
        return TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                .filter(e -> e.tenantid().equals(tenant)).map(CloudEvent::data).filter(RequestFinished.class::isInstance)
                .map(RequestFinished.class::cast).filter(f -> f.endpoint() == endpoint).toList();
    }

    /** The terminal event of the request to {@code endpoint} after the {@code before} there were, once it is on the topic. */
    private RequestFinished next(Endpoint endpoint, int before) {
        await().atMost(Duration.ofSeconds(30)).until(() -> finished(endpoint).size() > before);
        return finished(endpoint).get(before);
    }

    @Test
    void aTranscriptionStreamsTheUploadToTheServerAndBillsItsSeconds() throws Exception {
        Path file = audio("meeting.wav", 7 * BYTES_PER_SECOND);
        int before = finished(Endpoint.AUDIO_TRANSCRIPTIONS).size();

        Transcription transcription = openAi().audio().transcriptions().create(TranscriptionCreateParams.builder()
                .file(file).model("fake-whisper").language("en").build()).asTranscription();

        assertThat(transcription.text()).startsWith("Heard 7 seconds of audio");
        RecordedRequest forwarded = upstream.requests().getLast();
        assertThat(forwarded.path()).isEqualTo("/v1/audio/transcriptions");
        assertThat(forwarded.header("authorization")).as("the pool's credential, never the tenant's key").isEqualTo("Bearer pool-secret");
        JsonObject received = new JsonObject(forwarded.body());
        assertThat(received.getJsonObject("file").getString("sha256")).as("byte for byte").isEqualTo(sha256(file));
        assertThat(received.getJsonObject("file").getString("name")).isEqualTo("meeting.wav");
        assertThat(received.getJsonObject("form").getString("model")).isEqualTo("fake-whisper");
        assertThat(received.getJsonObject("form").getString("language")).isEqualTo("en");

        RequestFinished done = next(Endpoint.AUDIO_TRANSCRIPTIONS, before);
        assertThat(done.usage()).isEqualTo(new TokenUsage(0, 0, 0, 0, 0, 7, 0));
        assertThat(done.upstreamUsage()).isEqualTo(done.usage());
    }

    @Test
    void aVerboseTranslationBillsItsSecondsRoundedUp() throws Exception {
        Path file = audio("interview.mp3", 3 * BYTES_PER_SECOND + BYTES_PER_SECOND / 2);
        int before = finished(Endpoint.AUDIO_TRANSLATIONS).size();

        TranslationVerbose translation = openAi().audio().translations().create(TranslationCreateParams.builder()
                .file(file).model("fake-whisper").responseFormat(TranslationCreateParams.ResponseFormat.VERBOSE_JSON).build()).asVerbose();

        assertThat(translation.duration()).isEqualTo(3.5);
        assertThat(translation.text()).startsWith("Translated 4 seconds");
        assertThat(next(Endpoint.AUDIO_TRANSLATIONS, before).usage().audioSeconds()).isEqualTo(4);
    }

    @Test
    void aJsonTranslationWhichCarriesNoUsageIsMeteredAsVerboseAndAnsweredAsJson() throws Exception {
        Path file = audio("lecture.wav", 5 * BYTES_PER_SECOND + 1);
        int before = finished(Endpoint.AUDIO_TRANSLATIONS).size();

        var translation = openAi().audio().translations().create(TranslationCreateParams.builder().file(file).model("fake-whisper")
                .build()).asTranslation();

        assertThat(translation.text()).startsWith("Translated 6 seconds");
        JsonObject received = new JsonObject(upstream.requests().getLast().body());
        assertThat(received.getJsonObject("form").getString("response_format")).isEqualTo("verbose_json");
        assertThat(next(Endpoint.AUDIO_TRANSLATIONS, before).usage().audioSeconds()).isEqualTo(6);
    }

    /** A real recorded OpenAI transcription (envoyproxy/ai-gateway, Apache 2.0): its answer byte for byte, its 7 seconds billed. */
    @Test
    void aRecordedTranscriptionReachesTheClientByteForByteAndBillsItsSeconds() throws Exception {
        Cassettes.Interaction recorded = Cassettes.load("audio-transcription-basic");
        Path file = audio("recorded.wav", BYTES_PER_SECOND);
        int before = finished(Endpoint.AUDIO_TRANSCRIPTIONS).size();
        try (var replay = CassetteUpstream.start(recorded, recorded.responseBody());
             var replaying = TestGateway.start(bootstrap, UpstreamConfig.parse("pools: {r: {endpoints: [{url: \"" + replay.baseUrl()
                     + "\"}]}}\nmodels: {whisper-1: {pool: r}}\n"))) {
            byte[] head = ("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--b\r\nContent-Disposition: form-data;"
                    + " name=\"file\"; filename=\"recorded.wav\"\r\nContent-Type: audio/wav\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(replaying.baseUrl()
                            + "/v1/audio/transcriptions")).header("authorization", "Bearer " + key.token())
                    .header("content-type", "multipart/form-data; boundary=b").POST(HttpRequest.BodyPublishers.ofByteArrays(List.of(head,
                            Files.readAllBytes(file), "\r\n--b--\r\n".getBytes(StandardCharsets.UTF_8)))).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).isEqualTo(recorded.responseBody());
        }
        RequestFinished done = next(Endpoint.AUDIO_TRANSCRIPTIONS, before);
        assertThat(done.model()).isEqualTo("whisper-1");
        assertThat(done.usage()).isEqualTo(new TokenUsage(0, 0, 0, 0, 0, 7, 0));
    }

    @Test
    void whatCannotBeMeteredOrIsNoUploadIsRefusedBeforeTheServer() throws Exception {
        Path file = audio("short.wav", BYTES_PER_SECOND);
        int forwarded = upstream.requests().size();

        assertThatThrownBy(() -> openAi().audio().transcriptions().create(TranscriptionCreateParams.builder().file(file)
                .model("fake-whisper").responseFormat(AudioResponseFormat.SRT).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.code()).contains("unsupported_parameter"));
        var http = HttpClient.newHttpClient();
        HttpResponse<String> json = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/audio/transcriptions"))
                .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-whisper\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(json.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(json.body()).getJsonObject("error").getString("code")).isEqualTo("invalid_content_type");
        HttpResponse<String> noFile = http.send(multipart("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-whisper\r\n--b--\r\n"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(noFile.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(noFile.body()).getJsonObject("error").getString("code")).isEqualTo("invalid_file");
        HttpResponse<String> streamed = http.send(multipart("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-whisper\r\n"
                + "--b\r\nContent-Disposition: form-data; name=\"stream\"\r\n\r\ntrue\r\n"
                + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(streamed.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(streamed.body()).getJsonObject("error").getString("param")).isEqualTo("stream");
        HttpResponse<String> chatOnly = http.send(multipart("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nchat-only\r\n"
                + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chatOnly.statusCode()).as("a pool that does not speak audio").isEqualTo(404);
        HttpResponse<String> longField = http.send(multipart("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-whisper\r\n"
                + "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n" + "x".repeat(70_000) + "\r\n"
                + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(longField.statusCode()).as(longField.body()).isEqualTo(400);
        assertThat(new JsonObject(longField.body()).getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");

        assertThat(upstream.requests()).as("nothing reached the model server").hasSize(forwarded);
    }

    @Test
    void anUploadPastTheLimitIsRefusedWith413() throws Exception {
        byte[] head = ("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-whisper\r\n--b\r\nContent-Disposition: form-data; "
                + "name=\"file\"; filename=\"long.wav\"\r\nContent-Type: audio/wav\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        var body = new byte[head.length + 26 * 1024 * 1024];
        System.arraycopy(head, 0, body, 0, head.length);

        HttpResponse<String> refused = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.baseUrl()
                        + "/v1/audio/transcriptions")).header("authorization", "Bearer " + key.token())
                .header("content-type", "multipart/form-data; boundary=b").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).isEqualTo("request_too_large");
    }

    private HttpRequest multipart(String body) {
        return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/audio/transcriptions"))
                .header("authorization", "Bearer " + key.token()).header("content-type", "multipart/form-data; boundary=b")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
