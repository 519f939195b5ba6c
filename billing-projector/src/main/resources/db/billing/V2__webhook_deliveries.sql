-- The delivery log of budget alerts to tenants' webhooks: one row per alert (its CloudEvent id), so a
-- re-read alert is never delivered twice; retried with backoff until delivered or given up.
create table webhook_deliveries (
    alert_id        text primary key,
    tenant_id       text        not null,
    url             text,
    secret_version  int,
    payload         text        not null,
    status          text        not null,   -- PENDING, DELIVERED, FAILED, SKIPPED
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_status     int,
    last_error      text,
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'PENDING';
