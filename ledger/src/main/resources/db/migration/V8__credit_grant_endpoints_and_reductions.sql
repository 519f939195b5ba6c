-- Credit grants restricted to endpoints, and partial refunds (ADR 0027): the admin API lists both; tenants.state.v1 carries
-- them in each grant of TenantState.credits. Grants made before could pay at every endpoint and were never reduced, which
-- empty lists say.
ALTER TABLE credit_grant_view ADD COLUMN endpoints JSONB NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE credit_grant_view ADD COLUMN reductions JSONB NOT NULL DEFAULT '[]'::jsonb;
