-- Signing secrets of each partner's webhooks. During a rotation the previous secret keeps signing (a second v1)
-- until retired_at, so the partner can switch over without missing a delivery.
create table webhook_secrets (
    partner_id text        not null references partners (id),
    secret     text        not null,
    created_at timestamptz not null default now(),
    retired_at timestamptz,
    primary key (partner_id, created_at)
);

-- Webhook notifications, written in the same transaction as the report, sent by the webhook sender with retries.
create table webhook_deliveries (
    delivery_id     uuid        primary key,
    partner_id      text        not null references partners (id),
    report_id       uuid        not null references reports (report_id),
    url             text        not null,
    payload         text        not null,
    state           text        not null default 'pending', -- pending, delivered, failed
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text,
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'pending';

-- The delivery log: every attempt, its outcome and how long it took.
create table webhook_attempts (
    delivery_id uuid        not null references webhook_deliveries (delivery_id),
    attempt     int         not null,
    at          timestamptz not null default now(),
    status_code int,
    error       text,
    elapsed_ms  int         not null,
    primary key (delivery_id, attempt)
);
