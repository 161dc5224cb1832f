-- Feedback items. Idempotency keys live in their own table so that feedback_items can be
-- range-partitioned by received_at later without a global unique index.
create table feedback_items (
    id          uuid        primary key,
    channel     text        not null,
    journey_id  text,
    verbatim    text,
    given_at    timestamptz not null,
    received_at timestamptz not null default now()
);

create index feedback_items_received_at on feedback_items (received_at);
create index feedback_items_journey on feedback_items (journey_id, given_at) where journey_id is not null;

create table feedback_ratings (
    feedback_id uuid not null references feedback_items (id) on delete cascade,
    question_id text not null,
    value       int  not null,
    primary key (feedback_id, question_id)
);

create table idempotency_keys (
    key          text        primary key,
    request_hash bytea       not null,
    feedback_id  uuid        not null,
    created_at   timestamptz not null default now()
);
