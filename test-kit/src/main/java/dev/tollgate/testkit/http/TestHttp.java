package dev.tollgate.testkit.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** One JSON call over HTTP/1.1 with an optional bearer token: what the fault tests do to every service. */
public final class TestHttp {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestHttp() {}

    /**
     * @param bearer null for none
     * @param json   null for no body
     * @throws IOException when the service cannot be reached (a fault test often expects that)
     */
    public static HttpResponse<String> call(String method, String url, String bearer, String json) throws IOException {
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (bearer != null) {
            request.header("authorization", "Bearer " + bearer);
        }
        if (json != null) {
            request.header("content-type", "application/json");
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** As {@link #call}, failing the test when the service cannot be reached. */
    public static HttpResponse<String> require(String method, String url, String bearer, String json) {
        try {
            return call(method, url, bearer, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
