-- The webhook of a tenant's budget alerts. Its signing secret is derived, never stored (ADR 0005).
ALTER TABLE tenant_view ADD COLUMN webhook_url VARCHAR(2000);
ALTER TABLE tenant_view ADD COLUMN webhook_secret_version INTEGER;
