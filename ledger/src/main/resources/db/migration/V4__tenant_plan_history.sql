-- Every plan assignment of a tenant with its effective time, past and scheduled (tenants.state.v1
-- carries it so that usage is priced by the plan in force at its time; ADR 0017). Tenants assigned
-- before this column existed start their history with their plan from their creation, which is what
-- the services assumed until now.
ALTER TABLE tenant_view ADD COLUMN plans JSONB NOT NULL DEFAULT '[]'::jsonb;
UPDATE tenant_view SET plans = jsonb_build_array(jsonb_build_object('planId', plan_id,
        'effectiveFrom', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
    WHERE plan_id IS NOT NULL;
