-- Journey definitions: every version kept; instances keep the version they started on.
create table journeys (
    key             text        primary key,
    current_version int         not null,
    archived_at     timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

create table journey_definitions (
    key        text        not null references journeys (key),
    version    int         not null,
    definition jsonb       not null, -- proto3 JSON of cxmesh.journey.v1.JourneyDefinition
    created_at timestamptz not null default now(),
    primary key (key, version)
);

-- Touchpoint events as apps report them. The idempotency key is unique here; partitioning this table
-- by month later moves it to a table of its own, as feedback does.
create table touchpoints (
    id              uuid        primary key,
    idempotency_key text        not null unique,
    request_hash    bytea       not null,
    customer_id     text        not null,
    journey_key     text        not null,
    touchpoint_key  text        not null,
    occurred_at     timestamptz not null,
    recorded_at     timestamptz not null default now(),
    attributes      jsonb       not null default '{}',
    instance_id     uuid,
    applied         boolean     not null default false
);

create index touchpoints_customer_journey on touchpoints (customer_id, journey_key, occurred_at);
create index touchpoints_instance on touchpoints (instance_id) where instance_id is not null;

-- (customer, journey) pairs whose instances must be rebuilt: written by ingest and the sweeper,
-- claimed by projectors with FOR UPDATE SKIP LOCKED.
create table pending_projections (
    customer_id text        not null,
    journey_key text        not null,
    enqueued_at timestamptz not null default now(),
    primary key (customer_id, journey_key)
);

create index pending_projections_age on pending_projections (enqueued_at);

create function pending_projections_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('cxmesh_journey_pending', '');
    return null;
end $$;

create trigger pending_projections_notify after insert on pending_projections
    for each statement execute function pending_projections_notify();

create table journey_instances (
    id                  uuid        primary key,
    customer_id         text        not null,
    journey_key         text        not null,
    definition_version  int         not null,
    state               text        not null check (state in ('open', 'completed', 'abandoned')),
    started_at          timestamptz not null,
    last_activity_at    timestamptz not null,
    ended_at            timestamptz,
    abandon_after       timestamptz,
    furthest_stage      int         not null,
    furthest_stage_key  text        not null,
    segment             text        not null default '',
    start_touchpoint_id uuid        not null,
    contribution        jsonb       not null, -- this instance's share of funnel_daily, subtracted when it is rebuilt
    updated_at          timestamptz not null default now()
);

create index journey_instances_customer on journey_instances (customer_id, journey_key, started_at desc);
create index journey_instances_due on journey_instances (abandon_after) where state = 'open';

-- Funnel aggregates per (journey, segment, start day, stage); '' is every segment, '_journey' the whole journey.
-- Updated only by adding deltas, so they cost the same for a thousand instances or a billion.
create table funnel_daily (
    journey_key text   not null,
    segment     text   not null,
    day         date   not null,
    stage       text   not null,
    entered     bigint not null default 0,
    completed   bigint not null default 0,
    dropped     bigint not null default 0,
    durations   jsonb  not null default '{}', -- {bucket: count}, see DurationHistogram
    primary key (journey_key, segment, day, stage)
);

-- Adds two {key: count} objects, dropping keys whose count becomes zero.
create function jsonb_add_counts(a jsonb, b jsonb) returns jsonb language sql immutable as $$
    select coalesce(jsonb_object_agg(k, total), '{}'::jsonb)
    from (
        select k, sum(v)::bigint as total
        from (
            select key as k, value::bigint as v from jsonb_each_text(coalesce(a, '{}'::jsonb))
            union all
            select key, value::bigint from jsonb_each_text(coalesce(b, '{}'::jsonb))
        ) both_sides
        group by k
        having sum(v) <> 0
    ) summed
$$;
