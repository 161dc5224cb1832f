-- Every read of raw personal data (raw verbatims, contact details) by an admin: who, when, which item, what.
create table personal_data_reads (
    id          bigint generated always as identity primary key,
    actor       text        not null,
    feedback_id uuid        not null,
    fields      text[]      not null,
    read_at     timestamptz not null default now()
);
create index personal_data_reads_actor on personal_data_reads (actor, id desc);
create index personal_data_reads_item on personal_data_reads (feedback_id, id desc);
