package dev.tollgate.schemas.key;

import dev.tollgate.schemas.usage.Endpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an API key's {@code scopes} allow: which gateway endpoints it may call. (Which models it may
 * use is {@code allowedModels}.) The names, checked by the ledger when a key is issued and enforced by
 * the gateway:
 * <ul>
 *   <li>{@code inference}: every inference endpoint, today's and those added later, and the model list;</li>
 *   <li>{@code chat.completions}, {@code completions}, {@code embeddings}, {@code responses},
 *       {@code messages}, {@code rerank}, {@code score}, {@code audio.transcriptions}, {@code audio.translations}: that
 *       one endpoint;</li>
 *   <li>{@code models.read}: {@code GET /v1/models} (every endpoint scope implies it, since clients list
 *       models before calling them).</li>
 * </ul>
 * A key with no scopes at all may call every endpoint, as keys issued before scopes were enforced did.
 */
public final class KeyScopes {
    public static final String INFERENCE = "inference";
    public static final String MODELS_READ = "models.read";
    private static final Map<Endpoint, String> BY_ENDPOINT = Map.of(
            Endpoint.CHAT_COMPLETIONS, "chat.completions",
            Endpoint.COMPLETIONS, "completions",
            Endpoint.EMBEDDINGS, "embeddings",
            Endpoint.RESPONSES, "responses",
            Endpoint.MESSAGES, "messages",
            Endpoint.RERANK, "rerank",
            Endpoint.SCORE, "score",
            Endpoint.AUDIO_TRANSCRIPTIONS, "audio.transcriptions",
            Endpoint.AUDIO_TRANSLATIONS, "audio.translations");
    /** The scope names of single endpoints (also how an upstream pool names the APIs it speaks). */
    public static final Set<String> ENDPOINTS = Set.copyOf(BY_ENDPOINT.values());
    /** Every scope name there is. */
    public static final Set<String> KNOWN = known();

    private KeyScopes() {}

    private static Set<String> known() {
        var names = new ArrayList<>(BY_ENDPOINT.values());
        names.add(INFERENCE);
        names.add(MODELS_READ);
        return Set.copyOf(names);
    }

    /** The scope that names {@code endpoint} alone. */
    public static String of(Endpoint endpoint) {
        return BY_ENDPOINT.get(endpoint);
    }

    /** True if a key with {@code scopes} may call {@code endpoint}. */
    public static boolean allows(List<String> scopes, Endpoint endpoint) {
        return scopes.isEmpty() || scopes.contains(INFERENCE) || scopes.contains(of(endpoint));
    }

    /** True if a key with {@code scopes} may list the models. */
    public static boolean allowsModelList(List<String> scopes) {
        return scopes.isEmpty() || scopes.stream().anyMatch(KNOWN::contains);
    }

    /** The names in {@code scopes} that are not scopes, in their order. */
    public static List<String> unknown(List<String> scopes) {
        return scopes.stream().filter(s -> !KNOWN.contains(s)).toList();
    }
}
