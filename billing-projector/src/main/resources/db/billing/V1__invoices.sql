-- The billing service's tables (ADR 0008). Written by the invoice writer from usage.billed.v1
-- (idempotently: every insert is keyed), read by the billing API and the audit CLI.

-- One row per billed usage event: the event id is the primary key, so a record read twice
-- (a writer restart between the database commit and the offset commit) is stored once.
create table billed_usage (
    event_id              text primary key,
    tenant_id             text        not null,
    key_id                text,
    model                 text        not null,
    event_time            timestamptz not null,
    uncached_prompt       bigint      not null check (uncached_prompt >= 0),
    cached_prompt         bigint      not null check (cached_prompt >= 0),
    completion            bigint      not null check (completion >= 0),
    invoice_period        text        not null,   -- YYYY-MM, the invoice the event lands on
    adjusts_period        text,                   -- the closed period of a late event, else null
    currency              text,
    price_list_id         text,                   -- null: no price list in force priced it
    price_effective_from  timestamptz,
    input_micros          bigint,                 -- per million tokens
    cached_input_micros   bigint,
    output_micros         bigint,
    billed_partition      int         not null,   -- where the decision is on usage.billed.v1
    billed_offset         bigint      not null
);
create index billed_usage_invoice on billed_usage (tenant_id, invoice_period);

-- Every (tenant, period) that has usage; closed once the projector's close marker is read.
create table billing_periods (
    invoice_id          text primary key,
    tenant_id           text        not null,
    period              text        not null,
    zone                text,
    closed_at_stream_time timestamptz,
    unique (tenant_id, period)
);

-- Finalized invoices: written once, when the period closes, never updated except for payment
-- and Stripe sync status.
create table invoices (
    invoice_id        text primary key references billing_periods (invoice_id),
    tenant_id         text        not null,
    period            text        not null,
    currency          text        not null,
    status            text        not null,   -- FINALIZED, PAID, PAYMENT_FAILED, VOID
    total_micros      bigint      not null,
    event_count       bigint      not null,
    unpriced_events   bigint      not null,
    finalized_at      timestamptz not null,
    stripe_status     text        not null default 'NOT_SYNCED',  -- NOT_SYNCED, SYNCING, SYNCED, FAILED
    stripe_customer_id text,
    stripe_invoice_id  text unique,
    stripe_total_minor bigint,
    stripe_attempts    int         not null default 0,
    stripe_last_error  text,
    stripe_synced_at   timestamptz,
    unique (tenant_id, period)
);

create table invoice_lines (
    invoice_id          text   not null references invoices (invoice_id),
    line_no             int    not null,
    model               text   not null,
    token_kind          text   not null,
    price_list_id       text   not null,
    quantity            bigint not null,
    unit_price_micros_per_million bigint not null,
    amount_micros       bigint not null,
    event_count         bigint not null,
    first_event_time    timestamptz not null,
    last_event_time     timestamptz not null,
    event_digest        text   not null,     -- SHA-256 over the line's sorted event ids
    first_event_id      text   not null,
    last_event_id       text   not null,
    adjusts_period      text,
    stripe_invoice_item_id text,
    primary key (invoice_id, line_no)
);

create table stripe_customers (
    tenant_id          text primary key,
    stripe_customer_id text not null unique
);

-- Stripe webhook events, by Stripe's event id: a redelivery changes nothing.
create table stripe_events (
    stripe_event_id text primary key,
    type            text        not null,
    stripe_invoice_id text,
    received_at     timestamptz not null default now()
);
