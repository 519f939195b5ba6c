-- When a tenant's next scheduled plan assignment takes effect (null: none scheduled). The ledger's
-- plan-switch sweep makes that plan current at that time and republishes the tenant's state, so that
-- the new plan's limits apply from then on, not only from the tenant's next change (ADR 0017).
-- Existing tenants: the first assignment effective after the row was last written (a switch that
-- passed since then is due at once).
ALTER TABLE tenant_view ADD COLUMN next_plan_switch_at TIMESTAMPTZ;
UPDATE tenant_view t SET next_plan_switch_at = (
    SELECT min((p ->> 'effectiveFrom')::timestamptz) FROM jsonb_array_elements(t.plans) p
    WHERE (p ->> 'effectiveFrom')::timestamptz > t.updated_at);
CREATE INDEX tenant_view_next_plan_switch ON tenant_view (next_plan_switch_at) WHERE next_plan_switch_at IS NOT NULL;
