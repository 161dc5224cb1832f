-- Where each person and team wants to hear of what needs them.
create table channels (
    channel_id        uuid        primary key,
    owner_kind        text        not null, -- person, team
    owner_id          text        not null,
    kind              text        not null, -- email, slack, teams, wecom, dingtalk
    address           text        not null,
    topics            text[]      not null, -- empty: the action topics (created, overdue, escalated)
    mode              text        not null, -- immediate, digest
    digest_hour       int         not null default 8,
    quiet_start       text, -- HH:mm
    quiet_end         text,
    time_zone         text        not null default 'UTC',
    enabled           boolean     not null default true,
    -- The unsubscribe link's token in its e-mails: whoever holds it may switch the channel off, nothing else.
    unsubscribe_token text        not null unique,
    created_at        timestamptz not null default now(),
    created_by        text        not null,
    updated_at        timestamptz not null default now()
);
create index channels_owner on channels (owner_kind, owner_id);

-- One message for one channel, written in the transaction that consumed the event (the inbox row), so a redelivered
-- event makes none twice; the sender works through it with retries and backoff, like an outbox.
create table deliveries (
    delivery_id     uuid        primary key,
    channel_id      uuid        not null references channels (channel_id) on delete cascade,
    event_id        text,
    topic           text        not null,
    subject         text        not null,
    body            text        not null,
    link            text,
    state           text        not null, -- pending, digest, sent, failed, included
    attempts        int         not null default 0,
    last_error      text,
    next_attempt_at timestamptz not null,
    created_at      timestamptz not null default now(),
    sent_at         timestamptz,
    digest_id       uuid,
    unique (event_id, channel_id, topic)
);
create index deliveries_due on deliveries (next_attempt_at) where state in ('pending', 'digest');
create index deliveries_channel on deliveries (channel_id, created_at desc);
