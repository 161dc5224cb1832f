create table partners (
    id          text        primary key,
    name        text        not null,
    kind        text        not null,
    contacts    jsonb       not null default '[]',
    webhook_url text,
    status      text        not null default 'active',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- What each partner contributes to: feedback about these concerns it.
create table mappings (
    partner_id text not null references partners (id),
    kind       text not null, -- product, lot, journey, touchpoint
    value      text not null,
    primary key (kind, value, partner_id)
);
create index mappings_partner on mappings (partner_id);

-- Sharing agreements, one row per version. Only an approved version is ever active; a newer approved version
-- supersedes it.
create table agreements (
    agreement_id   uuid        not null,
    version        int         not null,
    partner_id     text        not null references partners (id),
    scope          jsonb       not null, -- [{"kind": "product", "value": "sku-1"}]
    fields         text[]      not null,
    min_group_size int         not null,
    cadence        text        not null,
    retention_days int         not null,
    state          text        not null,
    created_at     timestamptz not null default now(),
    decided_at     timestamptz,
    decided_by     text,
    decision_reason text,
    primary key (agreement_id, version)
);
create index agreements_partner on agreements (partner_id, state);

-- Partner-scoped copies: only the agreed fields of feedback matched to the partner. customer_ref is a hash of
-- the pseudonymous customer id, kept only to honour erasures; it is never shared.
create table partner_items (
    partner_id        text        not null references partners (id),
    feedback_id       uuid        not null,
    agreement_id      uuid        not null,
    agreement_version int         not null,
    given_at          timestamptz not null,
    journey_id        text,
    touchpoint_key    text,
    product_id        text,
    lot_id            text,
    nps               int,
    csat              int,
    csat_top          boolean,
    ces               int,
    sentiment         double precision,
    themes            jsonb,
    redacted_verbatim text,
    customer_ref      text,
    erased_at         timestamptz,
    primary key (partner_id, feedback_id)
);
create index partner_items_period on partner_items (partner_id, given_at);
create index partner_items_customer on partner_items (customer_ref) where customer_ref is not null;

-- The disclosure ledger: every report, what it covered, under which agreement version, to whom, with its hash.
create table reports (
    report_id         uuid        primary key,
    partner_id        text        not null references partners (id),
    agreement_id      uuid        not null,
    agreement_version int         not null,
    start_date        date        not null,
    end_date          date        not null,
    items             bigint      not null,
    fields            text[]      not null,
    content           jsonb       not null,
    content_hash      text        not null,
    published_at      timestamptz not null default now()
);
create index reports_partner on reports (partner_id, published_at desc);

-- Erasures applied to partner copies, for the audit trail.
create table partner_erasures (
    id           bigint generated always as identity primary key,
    customer_ref text        not null,
    items        int         not null,
    erased_at    timestamptz not null default now()
);

create table responses (
    response_id uuid        primary key,
    partner_id  text        not null references partners (id),
    report_id   uuid        not null references reports (report_id),
    kind        text        not null,
    feedback_id uuid,
    text        text,
    owner       text,
    due_date    date,
    status      text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
