-- Set-wide uniqueness claimed by command handlers in the same transaction as their events.
CREATE TABLE unique_claim (
    scope         VARCHAR(64)  NOT NULL,
    claimed_value VARCHAR(300) NOT NULL,
    owner         VARCHAR(200) NOT NULL,
    claimed_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, claimed_value)
);

-- Read model, maintained by the 'ledger-publisher' tracking processor (rebuilt on token reset).
CREATE TABLE plan_view (
    plan_id        VARCHAR(100) PRIMARY KEY,
    name           VARCHAR(200) NOT NULL,
    default_limits JSONB        NOT NULL,
    updated_at     TIMESTAMPTZ  NOT NULL
);

CREATE TABLE tenant_view (
    tenant_id         VARCHAR(63)  PRIMARY KEY,
    name              VARCHAR(200) NOT NULL,
    status            VARCHAR(16)  NOT NULL,
    plan_id           VARCHAR(100),
    billing_time_zone VARCHAR(64)  NOT NULL,
    currency          CHAR(3)      NOT NULL,
    own_limits        JSONB        NOT NULL,
    version           BIGINT       NOT NULL,
    created_at        TIMESTAMPTZ  NOT NULL,
    updated_at        TIMESTAMPTZ  NOT NULL
);
CREATE INDEX tenant_view_plan ON tenant_view (plan_id);

-- Only hashes of secrets, never a secret.
CREATE TABLE api_key_view (
    key_id         VARCHAR(16)  PRIMARY KEY,
    tenant_id      VARCHAR(63)  NOT NULL,
    name           VARCHAR(200) NOT NULL,
    status         VARCHAR(16)  NOT NULL,
    secrets        JSONB        NOT NULL,
    scopes         JSONB        NOT NULL,
    allowed_models JSONB        NOT NULL,
    limits         JSONB,
    expires_at     TIMESTAMPTZ,
    version        BIGINT       NOT NULL,
    created_at     TIMESTAMPTZ  NOT NULL,
    updated_at     TIMESTAMPTZ  NOT NULL
);
CREATE INDEX api_key_view_tenant ON api_key_view (tenant_id);
CREATE INDEX api_key_view_expiry ON api_key_view (expires_at) WHERE status = 'ACTIVE';

CREATE TABLE price_list_view (
    price_list_id  VARCHAR(100) PRIMARY KEY,
    plan_id        VARCHAR(100) NOT NULL,
    currency       CHAR(3)      NOT NULL,
    effective_from TIMESTAMPTZ  NOT NULL,
    backfill       BOOLEAN      NOT NULL,
    prices         JSONB        NOT NULL
);

-- Idempotency-Key records of the admin API: one per (caller, key), replayed for 24 hours.
CREATE TABLE idempotency_record (
    subject       VARCHAR(200) NOT NULL,
    idem_key      VARCHAR(200) NOT NULL,
    request_hash  CHAR(64)     NOT NULL,
    status        INTEGER,
    content_type  VARCHAR(100),
    response_body BYTEA,
    created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, idem_key)
);
