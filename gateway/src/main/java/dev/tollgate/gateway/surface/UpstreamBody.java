package dev.tollgate.gateway.surface;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * What a request sends to the model server, once per try (a retry sends it again): the JSON body of every API, or, for an
 * audio upload, a multipart form streamed from the file the gateway spooled to disk, never held in heap (ADR 0031).
 */
public interface UpstreamBody {
    /** The {@code content-type} of the body. */
    String contentType();

    /** Sends the body on {@code request} and gives its answer. */
    Future<HttpClientResponse> send(HttpClientRequest request, FileSystem files);

    /** A JSON body, encoded once for every try. */
    static UpstreamBody json(JsonObject body) {
        Buffer encoded = Buffer.buffer(body.encode());
        return new UpstreamBody() {
            @Override
            public String contentType() {
                return "application/json";
            }

            @Override
            public Future<HttpClientResponse> send(HttpClientRequest request, FileSystem files) {
                return request.send(encoded);
            }
        };
    }

    /**
     * A multipart form: every field of {@code fields} as a part (an array as one part per element, in order), then the
     * upload as the part {@code file}, read from disk as it is sent.
     */
    static UpstreamBody multipart(JsonObject fields, FileUpload upload) {
        String boundary = "tollgate-" + UUID.randomUUID();
        var head = new StringBuilder();
        fields.forEach(field -> {
            Iterable<?> values = field.getValue() instanceof JsonArray array ? array : List.of(field.getValue());
            for (Object value : values) {
                head.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(quoted(field.getKey()))
                        .append("\"\r\n\r\n").append(value).append("\r\n");
            }
        });
        head.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
                .append(quoted(upload.fileName())).append("\"\r\nContent-Type: ")
                .append(upload.contentType() == null ? "application/octet-stream" : oneLine(upload.contentType())).append("\r\n\r\n");
        Buffer before = Buffer.buffer(head.toString().getBytes(StandardCharsets.UTF_8));
        Buffer after = Buffer.buffer(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return new UpstreamBody() {
            @Override
            public String contentType() {
                return "multipart/form-data; boundary=" + boundary;
            }

            @Override
            public Future<HttpClientResponse> send(HttpClientRequest request, FileSystem files) {
                request.putHeader("content-length", Long.toString(before.length() + upload.size() + after.length()));
                return files.open(upload.uploadedFileName(), new OpenOptions().setRead(true).setWrite(false).setCreate(false))
                        .compose(file -> request.write(before)
                                .compose(written -> file.pipe().endOnComplete(false).to(request))
                                .eventually(() -> file.close())
                                .compose(piped -> request.end(after)))
                        .compose(ended -> request.response());
            }
        };
    }

    /** A header parameter value as a quoted string may hold it: no line breaks, quotes and backslashes escaped. */
    private static String quoted(String value) {
        return oneLine(value == null ? "" : value).replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String oneLine(String value) {
        return value.replace("\r", "").replace("\n", "");
    }
}
