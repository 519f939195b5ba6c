package dev.tollgate.gateway.surface;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Every API the gateway serves, in the order of the README's list (ADR 0029). */
public final class ApiSurfaces {
    public static final List<ApiSurface> ALL = List.of(OpenAiSurface.CHAT_COMPLETIONS, OpenAiSurface.COMPLETIONS,
            OpenAiSurface.EMBEDDINGS, Responses.INSTANCE, Messages.INSTANCE, Scoring.RERANK, Scoring.RERANK_V2,
            Scoring.SCORE, Audio.TRANSCRIPTIONS, Audio.TRANSLATIONS);

    /** Their paths. */
    public static final Set<String> PATHS = ALL.stream().map(ApiSurface::path).collect(Collectors.toUnmodifiableSet());

    private ApiSurfaces() {}

    /** True if requests to {@code path} (a surface's path or below it) may carry their key as {@code x-api-key}. */
    public static boolean acceptApiKeyHeader(String path) {
        for (ApiSurface surface : ALL) {
            if (surface.acceptsApiKeyHeader() && (path.equals(surface.path()) || path.startsWith(surface.path() + "/"))) {
                return true;
            }
        }
        return false;
    }
}
