package dev.tollgate.schemas.usage;

/**
 * The API a request was made to. Values are only ever added (never renamed or removed): events carry
 * them by name, and a consumer must know every value a gateway may send before that gateway runs
 * (ADR 0029: deploy projectors, the ledger and the audit before gateways).
 */
public enum Endpoint {
    /** {@code POST /v1/chat/completions} */
    CHAT_COMPLETIONS,
    /** {@code POST /v1/completions} */
    COMPLETIONS,
    /** {@code POST /v1/embeddings} */
    EMBEDDINGS,
    /** {@code POST /v1/responses} (OpenAI Responses API) */
    RESPONSES,
    /** {@code POST /v1/messages} (Anthropic Messages API) */
    MESSAGES,
    /** {@code POST /v1/rerank} (vLLM's and Jina's shape) */
    RERANK,
    /** {@code POST /v1/score} (vLLM) */
    SCORE,
    /** {@code POST /v1/audio/transcriptions} (a multipart upload; ADR 0031) */
    AUDIO_TRANSCRIPTIONS,
    /** {@code POST /v1/audio/translations} (a multipart upload; ADR 0031) */
    AUDIO_TRANSLATIONS
}
