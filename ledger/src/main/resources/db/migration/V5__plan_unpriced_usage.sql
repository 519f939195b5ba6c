-- Whether tenants on a plan may call models it has no price for (ledger.plan.defined's
-- allowUnpricedUsage; ADR 0019). Plans defined before default to no: the gateway refuses such calls.
ALTER TABLE plan_view ADD COLUMN allow_unpriced_usage BOOLEAN NOT NULL DEFAULT FALSE;
