-- The people of each partner who use the supplier portal: the identity provider says who signs in as a partner, this
-- list says who of them is an admin, and a removed user (removed_at) is refused by every partner-facing method.
create table partner_users (
    partner_id text        not null references partners (id),
    subject    text        not null,
    name       text        not null,
    email      text,
    admin      boolean     not null default false,
    added_at   timestamptz not null default now(),
    added_by   text        not null,
    removed_at timestamptz,
    removed_by text,
    primary key (partner_id, subject)
);

-- A test notification belongs to no report; each delivery says what it notifies of.
alter table webhook_deliveries alter column report_id drop not null;
alter table webhook_deliveries add column type text;
update webhook_deliveries set type = coalesce(payload::jsonb ->> 'type', 'report.published');

-- Who recorded an assessment: the partner itself (a self-assessment) or the CX team.
alter table alignment_assessments add column assessed_by text;
alter table alignment_assessments add column self_assessed boolean not null default false;
