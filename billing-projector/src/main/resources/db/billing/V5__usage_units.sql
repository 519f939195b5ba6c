-- ADR 0030: the units a usage event bills beside its three token kinds, and their prices. Rows written
-- before count none of them (0) and were priced without them (null): they bill exactly as before.
alter table billed_usage
    add column cache_write_prompt   bigint not null default 0 check (cache_write_prompt >= 0),
    add column reasoning            bigint not null default 0 check (reasoning >= 0),
    add column audio_seconds        bigint not null default 0 check (audio_seconds >= 0),
    add column documents            bigint not null default 0 check (documents >= 0),
    add column requests             bigint not null default 0 check (requests >= 0),
    add column cache_write_input_micros bigint,   -- per million units, as input_micros; null: not priced apart
    add column reasoning_micros     bigint,
    add column audio_second_micros  bigint,
    add column document_micros      bigint,
    add column request_micros       bigint;
