-- Automatic top-ups of prepaid balances (ADR 0027): per tenant, when what is left falls below the
-- threshold, the saved Stripe payment method is charged the amount, off-session.
create table auto_top_ups (
    tenant_id                text primary key,
    threshold_micros         bigint      not null check (threshold_micros >= 0),
    amount_micros            bigint      not null check (amount_micros > 0),
    currency                 text        not null,
    stripe_customer_id       text        not null,
    stripe_payment_method_id text        not null,
    enabled                  boolean     not null default true,
    updated_at               timestamptz not null default now()
);

-- One attempt per crossing of the threshold: the crossing is named by the credit granted when it
-- happened, so only a new grant (this top-up, or any other) arms the next attempt.
create table auto_top_up_attempts (
    tenant_id          text        not null,
    crossing           text        not null,
    amount_micros      bigint      not null,
    remaining_micros   bigint      not null,
    status             text        not null,   -- CHARGING, SUCCEEDED, FAILED
    payment_intent_id  text,
    error_code         text,
    error_message      text,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    primary key (tenant_id, crossing)
);
