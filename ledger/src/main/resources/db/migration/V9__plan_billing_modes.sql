-- Plans carry a billing mode (ADR 0027): its history, from each definition's time on (empty: POSTPAID throughout, as every
-- plan was before). tenant_view.billing_modes now holds the tenant's own choices ({mode, effectiveFrom}, a null mode
-- following the plan's again), plan_assignments every assignment with the time it was recorded (a backfilled one decides the
-- mode only from then on); tenants.state.v1 carries the effective history computed from all three. Assignments made before
-- count as recorded when they took effect: no plan had a mode then, so nothing they decided changes.
ALTER TABLE plan_view ADD COLUMN billing_modes JSONB NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE tenant_view ADD COLUMN plan_assignments JSONB NOT NULL DEFAULT '[]'::jsonb;
UPDATE tenant_view SET plan_assignments = COALESCE((SELECT jsonb_agg(jsonb_build_object('planId', p -> 'planId', 'effectiveFrom',
    p -> 'effectiveFrom', 'recordedAt', p -> 'effectiveFrom')) FROM jsonb_array_elements(plans) p), '[]'::jsonb);
