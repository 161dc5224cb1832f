-- Who gave the feedback (pseudonymous), and their contact details kept apart, encrypted and erasable.
alter table feedback_items
    add column customer_id text,
    add column audience text not null default 'customer',
    add column erased_at timestamptz;

create index feedback_items_customer on feedback_items (customer_id) where customer_id is not null;

create table contact_details (
    feedback_id uuid        primary key references feedback_items (id) on delete cascade,
    customer_id text        not null,
    key_id      text        not null, -- which configured key encrypted it, so keys can rotate
    nonce       bytea       not null,
    ciphertext  bytea       not null,
    tag         bytea       not null,
    created_at  timestamptz not null default now()
);

create index contact_details_customer on contact_details (customer_id);

-- Every erasure, for the audit trail: who (pseudonymous id), when, how much, and the event that told the other services.
create table erasures (
    id          bigint generated always as identity primary key,
    customer_id text        not null,
    erased_at   timestamptz not null default now(),
    verbatims   int         not null,
    contacts    int         not null,
    event_id    text        not null
);
