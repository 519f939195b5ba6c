package dev.tollgate.console.api;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.console.security.ConsoleSecurity;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.web.client.OAuth2ClientHttpRequestInterceptor;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Calls one API (admin or billing) as the signed-in person: their access token as the bearer
 * (refreshed when it expires), the request's trace context as {@code traceparent}, every error
 * status as an {@link ApiProblem}. Answers come back as plain maps and lists, so that the console
 * shares no type with the services it talks to.
 */
public final class ApiClient {
    private static final ParameterizedTypeReference<Map<String, Object>> OBJECT = new ParameterizedTypeReference<>() {};
    private static final ParameterizedTypeReference<List<Map<String, Object>>> LIST = new ParameterizedTypeReference<>() {};
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final RestClient rest;
    private final ObjectMapper mapper;
    private final String name;

    public ApiClient(String name, String baseUrl, OAuth2AuthorizedClientManager tokens, OpenTelemetry openTelemetry, ObjectMapper mapper) {
        this.name = name;
        this.mapper = mapper;
        var bearer = new OAuth2ClientHttpRequestInterceptor(tokens);
        bearer.setClientRegistrationIdResolver(request -> ConsoleSecurity.REGISTRATION);
        var factory = new JdkClientHttpRequestFactory(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build());
        factory.setReadTimeout(TIMEOUT);
        this.rest = RestClient.builder().baseUrl(baseUrl).requestFactory(factory)
                .requestInterceptor(bearer)
                .requestInterceptor((request, body, execution) -> {
                    openTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), request.getHeaders(),
                            HttpHeaders::set);
                    return execution.execute(request, body);
                })
                .defaultStatusHandler(HttpStatusCode::isError, (request, response) -> {
                    throw problem(response);
                })
                .build();
    }

    public Map<String, Object> get(String path, Object... uriVariables) {
        return call(() -> rest.get().uri(path, uriVariables).accept(MediaType.APPLICATION_JSON).retrieve().body(OBJECT));
    }

    public List<Map<String, Object>> list(String path, Object... uriVariables) {
        return call(() -> rest.get().uri(path, uriVariables).accept(MediaType.APPLICATION_JSON).retrieve().body(LIST));
    }

    /** A POST or PUT with a JSON body; {@code idempotencyKey} (may be null) makes a resubmitted form do the change once. */
    public Map<String, Object> send(String method, String path, Object body, String idempotencyKey, Object... uriVariables) {
        return call(() -> {
            var spec = (method.equals("PUT") ? rest.put() : rest.post()).uri(path, uriVariables).contentType(MediaType.APPLICATION_JSON)
                    .accept(MediaType.APPLICATION_JSON).body(body);
            if (idempotencyKey != null) {
                spec = spec.header("Idempotency-Key", idempotencyKey);
            }
            return spec.retrieve().body(OBJECT);
        });
    }

    private interface Call<T> {
        T run();
    }

    private <T> T call(Call<T> call) {
        try {
            return call.run();
        } catch (ResourceAccessException e) {
            throw new ApiProblem(503, "unreachable", "The " + name + " API could not be reached.");
        }
    }

    private ApiProblem problem(ClientHttpResponse response) throws IOException {
        int status = response.getStatusCode().value();
        String code = null;
        String detail = null;
        try (InputStream body = response.getBody()) {
            JsonNode problem = mapper.readTree(body.readNBytes(64 * 1024));
            if (problem != null && problem.isObject()) {
                code = problem.path("code").isTextual() ? problem.path("code").asText() : null;
                detail = problem.path("detail").isTextual() ? problem.path("detail").asText() : null;
            }
        } catch (IOException e) {
            // not a problem document: the status alone says what happened
        }
        return new ApiProblem(status, code, detail);
    }
}
