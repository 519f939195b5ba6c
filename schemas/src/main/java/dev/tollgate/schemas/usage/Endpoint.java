package dev.tollgate.schemas.usage;

/** The OpenAI-compatible API a request was made to. */
public enum Endpoint {
    /** {@code POST /v1/chat/completions} */
    CHAT_COMPLETIONS,
    /** {@code POST /v1/completions} */
    COMPLETIONS,
    /** {@code POST /v1/embeddings} */
    EMBEDDINGS
}
