-- Prepaid credits (ADR 0027). tenants.state.v1 carries a tenant's billing-mode history and its credit
-- grants (what the gateway and the projector need); credit_grant_view keeps what the admin API shows
-- besides (reason, payment, who voided it and why). Existing tenants are postpaid throughout.
ALTER TABLE tenant_view ADD COLUMN billing_modes JSONB NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE tenant_view ADD COLUMN credits JSONB NOT NULL DEFAULT '[]'::jsonb;

CREATE TABLE credit_grant_view (
    grant_id      TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenant_view (tenant_id),
    amount_micros BIGINT NOT NULL CHECK (amount_micros > 0),
    source        TEXT NOT NULL,
    reason        TEXT,
    granted_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    priority      INT NOT NULL,
    models        JSONB NOT NULL,
    external_id   TEXT,
    voided_at     TIMESTAMPTZ,
    void_reason   TEXT
);
CREATE INDEX credit_grant_view_tenant ON credit_grant_view (tenant_id, granted_at);
