-- Credits applied on invoices (ADR 0028).

-- What the tenant's credit paid of each billed event's cost, exact: per grant, and the prepaid part
-- no grant paid (owed to the balance). Null mode: the event burned no credit (POSTPAID).
alter table billed_usage add column credit_mode text, add column credit_unfunded numeric;
create table billed_credits (
    event_id  text    not null references billed_usage (event_id),
    grant_id  text    not null,
    amount    numeric not null check (amount > 0),
    primary key (event_id, grant_id)
);

-- A finalized invoice's credits and what is left to pay; invoices finalized before this owe their total.
alter table invoices add column credited_micros bigint not null default 0, add column amount_due_micros bigint;
update invoices set amount_due_micros = total_micros;
alter table invoices alter column amount_due_micros set not null;

create table invoice_credits (
    invoice_id     text   not null references invoices (invoice_id),
    credit_no      int    not null,
    grant_id       text,              -- null: the prepaid usage no grant paid, owed to the balance
    amount_micros  bigint not null check (amount_micros > 0),
    stripe_invoice_item_id text,
    primary key (invoice_id, credit_no)
);
