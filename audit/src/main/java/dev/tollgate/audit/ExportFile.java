package dev.tollgate.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * An offline copy of the event log: gzip'd JSON lines, a header line first
 * ({@code {"format":"tollgate-audit-export/v1","period":..,"exportedAt":..,"counts":{topic:n}}}),
 * then one line per record {@code {"t":topic,"p":partition,"o":offset,"k":key,"v":"<the raw value>"}}
 * in each partition's order. The raw value is kept as a string so that a byte altered in the file
 * is an altered event, exactly as in the log.
 */
public final class ExportFile implements LogSource {
    public static final String FORMAT = "tollgate-audit-export/v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    public ExportFile(Path file) {
        this.file = file;
    }

    /** Writes every record of {@code topics} read from {@code source}. */
    public static long write(Path file, String period, LogSource source, List<String> topics, Progress progress) throws IOException {
        long written = 0;
        try (var out = new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(file), 1 << 16),
                StandardCharsets.UTF_8))) {
            ObjectNode header = JSON.createObjectNode().put("format", FORMAT).put("period", period).put("exportedAt", Instant.now().toString());
            ObjectNode counts = header.putObject("counts");
            for (String topic : topics) {
                counts.put(topic, source.size(topic));
            }
            out.write(JSON.writeValueAsString(header));
            out.newLine();
            long[] count = {0};
            for (String topic : topics) {
                source.read(topic, record -> {
                    ObjectNode line = JSON.createObjectNode().put("t", record.topic()).put("p", record.partition()).put("o", record.offset())
                            .put("k", record.key()).put("v", record.value() == null ? null : new String(record.value(), StandardCharsets.UTF_8));
                    try {
                        out.write(JSON.writeValueAsString(line));
                        out.newLine();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    count[0]++;
                }, progress);
            }
            written = count[0];
        }
        return written;
    }

    /** The header line. */
    public JsonNode header() throws IOException {
        try (var in = reader()) {
            return JSON.readTree(in.readLine());
        }
    }

    private BufferedReader reader() throws IOException {
        return new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(file), 1 << 16), StandardCharsets.UTF_8));
    }

    @Override
    public long size(String topic) throws IOException {
        return header().path("counts").path(topic).asLong();
    }

    @Override
    public void read(String topic, Consumer<SourceRecord> sink, Progress progress) throws IOException {
        try (var in = reader()) {
            JsonNode header = JSON.readTree(in.readLine());
            if (!FORMAT.equals(header.path("format").asText())) {
                throw new IOException(file + " is not a " + FORMAT + " file");
            }
            long done = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                JsonNode node = JSON.readTree(line);
                if (!topic.equals(node.path("t").asText())) {
                    continue;
                }
                JsonNode value = node.get("v");
                sink.accept(new SourceRecord(topic, node.path("p").asInt(), node.path("o").asLong(),
                        node.hasNonNull("k") ? node.get("k").asText() : null,
                        value == null || value.isNull() ? null : value.asText().getBytes(StandardCharsets.UTF_8)));
                if (progress != null && (++done & 1023) == 0) {
                    progress.update(done);
                }
            }
        }
    }
}
