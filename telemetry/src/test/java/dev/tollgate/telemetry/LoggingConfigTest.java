package dev.tollgate.telemetry;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The shipped logback configuration: JSON lines with the correlation fields, and levels changeable at run time. */
class LoggingConfigTest {
    private final PrintStream realOut = System.out;
    private LoggerContext context;

    @AfterEach
    void restore() {
        System.setOut(realOut);
        System.clearProperty("TOLLGATE_LOG_FORMAT");
        if (context != null) {
            context.stop();
        }
    }

    @Test
    void jsonLinesCarryTheCorrelationFieldsAsTopLevelFields() throws Exception {
        var captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        context = configure(getClass().getResource("/logback.xml"));
        var log = context.getLogger("dev.tollgate.example");
        MDC.put(LogFields.TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736");
        MDC.put(LogFields.TENANT_ID, "t_acme");
        try {
            log.info("request served");
        } finally {
            MDC.clear();
        }
        log.atWarn().addKeyValue(LogFields.REQUEST_ID, "req_1").addKeyValue(LogFields.KEY_ID, "key_1").log("refused");
        log.debug("not at INFO");
        context.stop();

        List<JsonNode> lines = new ArrayList<>();
        for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(new ObjectMapper().readTree(line));
            }
        }
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).get("message").asText()).isEqualTo("request served");
        assertThat(lines.get(0).get("level").asText()).isEqualTo("INFO");
        assertThat(lines.get(0).get("logger_name").asText()).isEqualTo("dev.tollgate.example");
        assertThat(lines.get(0).get("trace_id").asText()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(lines.get(0).get("tenant_id").asText()).isEqualTo("t_acme");
        assertThat(lines.get(0).has("@timestamp")).isTrue();
        assertThat(lines.get(1).get("request_id").asText()).isEqualTo("req_1");
        assertThat(lines.get(1).get("key_id").asText()).isEqualTo("key_1");
        assertThat(lines.get(1).has("trace_id")).as("MDC cleared after the first line").isFalse();
    }

    @Test
    void textFormatForTerminals() throws Exception {
        var captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        System.setProperty("TOLLGATE_LOG_FORMAT", "text");
        context = configure(getClass().getResource("/logback.xml"));
        context.getLogger("dev.tollgate.example").info("hello");
        context.stop();
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("INFO").contains("hello").doesNotContain("{\"");
    }

    /** A value with CR or LF (a model name from a request) cannot forge a log line in the text format (issue #19 item 12). */
    @Test
    void textFormatEscapesLineBreaksInMessagesAndFields() throws Exception {
        var captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        System.setProperty("TOLLGATE_LOG_FORMAT", "text");
        context = configure(getClass().getResource("/logback.xml"));
        var log = context.getLogger("dev.tollgate.example");
        log.atWarn().addKeyValue("model", "m\r\n12:00:00.000 INFO  forged").log("unknown model {}", "x\ny");
        context.stop();
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(out.lines().filter(line -> !line.isBlank())).hasSize(1);
        assertThat(out).contains("unknown model x\\ny").contains("m\\r\\n12:00:00.000 INFO  forged");
    }

    /** LOGGING_CONFIG names a file that includes the shipped appenders and is re-read while the service runs. */
    @Test
    void levelsChangeAtRunTimeThroughARescannedFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("logback.xml");
        Files.writeString(file, runtimeConfig("INFO"));
        context = configure(file.toUri().toURL());
        var log = context.getLogger("dev.tollgate.gateway");
        assertThat(log.getEffectiveLevel()).isEqualTo(Level.INFO);
        Thread.sleep(1_100); // the file's modification time must visibly change
        Files.writeString(file, runtimeConfig("DEBUG"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            log.info("tick"); // logback checks for changes as events pass
            assertThat(context.getLogger("dev.tollgate.gateway").getEffectiveLevel()).isEqualTo(Level.DEBUG);
        });
    }

    private static String runtimeConfig(String level) {
        return """
                <configuration scan="true" scanPeriod="200 milliseconds">
                  <include resource="dev/tollgate/telemetry/logback-json.xml"/>
                  <logger name="dev.tollgate.gateway" level="%s"/>
                  <root level="WARN"><appender-ref ref="console"/></root>
                </configuration>
                """.formatted(level);
    }

    private static LoggerContext configure(URL config) throws Exception {
        var context = new LoggerContext();
        context.setMDCAdapter(MDC.getMDCAdapter());
        var configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(config);
        context.start();
        return context;
    }
}
