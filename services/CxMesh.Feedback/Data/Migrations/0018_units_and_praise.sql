-- Registered units (stores, teams in them, agents in those) that feedback names, and praise: sentences naming a unit
-- in a positive way. version orders saves, so every replica sees when its cached tree is stale.
create sequence unit_versions;

create table units (
    key text primary key,
    kind text not null check (kind in ('store', 'team', 'agent')),
    name text not null,
    parent_key text references units (key),
    aliases text[] not null default '{}',
    recognition_member_id text,
    recognition_team_id text,
    version bigint not null default nextval('unit_versions'),
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create index units_parent on units (parent_key) where parent_key is not null;
create index units_version on units (version);

alter table feedback_items add column unit_key text;

-- start/length: where the sentence is in the raw verbatim, so its excerpt can be redacted again when more becomes known
-- of the customer. Deleted with the customer's words on erasure.
create table praise (
    id uuid primary key,
    feedback_id uuid not null references feedback_items (id),
    unit_key text not null references units (key),
    excerpt text not null,
    excerpt_start integer not null,
    excerpt_length integer not null,
    audience text not null,
    language text,
    given_at timestamptz not null,
    received_at timestamptz not null
);

create index praise_unit on praise (unit_key, given_at desc, id desc);
create index praise_given on praise (given_at desc, id desc);
create index praise_feedback on praise (feedback_id);

-- An erasure's receipt counts the praise that quoted the customer.
alter table erasures add column praise integer not null default 0;
