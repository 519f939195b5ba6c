package dev.tollgate.gateway.surface;

import dev.tollgate.schemas.usage.Endpoint;

/** What names a surface: its endpoint, its path and its GenAI operation. */
abstract class NamedSurface implements ApiSurface {
    private final Endpoint endpoint;
    private final String path;
    private final String operation;

    NamedSurface(Endpoint endpoint, String path, String operation) {
        this.endpoint = endpoint;
        this.path = path;
        this.operation = operation;
    }

    @Override
    public final Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public final String path() {
        return path;
    }

    @Override
    public final String operation() {
        return operation;
    }
}
