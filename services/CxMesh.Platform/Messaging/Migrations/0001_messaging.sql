-- The platform's messaging tables, in every service database.

-- Events waiting to be published, written in the same transaction as the state change they describe.
create table outbox (
    id              bigint generated always as identity primary key,
    event_id        text        not null unique,
    topic           text        not null,
    event_type      text        not null,
    payload         text        not null,
    traceparent     text,
    created_at      timestamptz not null default now(),
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text,
    sent_at         timestamptz,
    parked_at       timestamptz
);

-- The relay only ever looks at pending rows.
create index outbox_pending on outbox (next_attempt_at, id) where sent_at is null and parked_at is null;
create index outbox_parked on outbox (parked_at) where parked_at is not null;

create function outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('cxmesh_outbox', '');
    return null;
end $$;

create trigger outbox_notify after insert on outbox
    for each statement execute function outbox_notify();

-- Events this service's handlers have applied: (event, handler) recorded in the handler's transaction.
create table inbox (
    event_id     text        not null,
    handler      text        not null,
    topic        text        not null,
    processed_at timestamptz not null default now(),
    primary key (event_id, handler)
);

-- Events a handler could not use (unparseable, unknown type, invalid): kept with their error, never retried by themselves.
create table dead_letters (
    id          bigint generated always as identity primary key,
    event_id    text        not null,
    handler     text        not null,
    topic       text        not null,
    event_type  text,
    payload     text        not null,
    error       text        not null,
    received_at timestamptz not null default now(),
    unique (event_id, handler)
);
