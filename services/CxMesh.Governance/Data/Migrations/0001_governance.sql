-- People and ownership.
create table teams (
    id          text primary key,
    name        text not null,
    created_at  timestamptz not null default now()
);

create table members (
    id          text primary key,
    name        text not null,
    team_id     text not null references teams (id),
    roles       text[] not null default '{}',
    updated_at  timestamptz not null default now()
);
create index members_team on members (team_id);

create table journey_owners (
    journey_key text primary key,
    sponsor_id  text not null references members (id),
    owner_id    text not null references members (id),
    updated_at  timestamptz not null default now()
);

create table touchpoint_owners (
    journey_key    text not null,
    touchpoint_key text not null,
    owner_id       text not null references members (id),
    updated_at     timestamptz not null default now(),
    primary key (journey_key, touchpoint_key)
);

create table ownership_history (
    id                 bigserial primary key,
    journey_key        text not null,
    role               text not null check (role in ('sponsor', 'owner', 'touchpoint-owner')),
    touchpoint_key     text,
    previous_member_id text,
    member_id          text,
    changed_by         text not null,
    reason             text,
    changed_at         timestamptz not null default now()
);
create index ownership_history_journey on ownership_history (journey_key, id desc);

create table partner_contacts (
    partner_id  text primary key,
    member_id   text not null references members (id),
    updated_at  timestamptz not null default now()
);

-- Vision and CX code: every version kept.
create table visions (
    version      int primary key,
    vision       text not null,
    mission      text not null,
    published_by text not null,
    published_at timestamptz not null default now()
);

create table cx_codes (
    version  int primary key,
    drivers  jsonb not null,
    set_by   text not null,
    set_at   timestamptz not null default now()
);

-- Closed-loop actions.
create table actions (
    id                uuid primary key,
    source            text not null check (source in ('alert', 'partner-commitment', 'case-study', 'idea', 'manual')),
    title             text not null,
    detail            text,
    state             text not null default 'open' check (state in ('open', 'in_progress', 'resolved', 'closed')),
    owner_id          text references members (id),
    team_id           text references teams (id),
    journey_key       text,
    touchpoint_key    text,
    channel           int not null default 0,
    created_at        timestamptz not null,
    due_at            timestamptz not null,
    first_response_at timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    root_cause        text,
    resolution        text,
    close_reason      text,
    overdue_at        timestamptz,
    escalated_to      text,
    alert_id          text unique,
    response_id       text unique,
    feedback_id       uuid,
    customer_id       text,
    partner_id        text,
    case_study_id     uuid,
    idea_id           uuid,
    check (owner_id is not null or team_id is not null)
);
create index actions_owner on actions (owner_id, due_at, id);
create index actions_team on actions (team_id, due_at, id);
create index actions_journey on actions (journey_key, created_at);
create index actions_created on actions (created_at);
create index actions_due on actions (due_at) where overdue_at is null and state in ('open', 'in_progress');
create index actions_customer on actions (customer_id) where customer_id is not null;
create index actions_case_study on actions (case_study_id) where case_study_id is not null;

create table action_comments (
    id         bigserial primary key,
    action_id  uuid not null references actions (id),
    author     text not null,
    text       text not null,
    created_at timestamptz not null
);
create index action_comments_action on action_comments (action_id, id);

create table action_history (
    id          bigserial primary key,
    action_id   uuid not null references actions (id),
    kind        text not null,
    actor       text not null,
    detail      text,
    occurred_at timestamptz not null
);
create index action_history_action on action_history (action_id, id);

-- Improvement sprints.
create table sprints (
    id         uuid primary key,
    name       text not null,
    start_date date not null,
    end_date   date not null,
    created_at timestamptz not null default now(),
    check (end_date = start_date + 83)
);

create table priorities (
    id            uuid primary key,
    sprint_id     uuid not null references sprints (id),
    position      int not null,
    title         text not null,
    owner_id      text not null references members (id),
    scope         jsonb not null,
    metric        int not null,
    question_id   text not null default '',
    target_change double precision not null,
    action_ids    uuid[] not null default '{}',
    idea_ids      uuid[] not null default '{}',
    unique (sprint_id, position)
);

-- The 1% challenge.
create table ideas (
    id              uuid primary key,
    title           text not null,
    description     text not null default '',
    theme_key       text,
    journey_key     text,
    touchpoint_key  text,
    effort          int not null check (effort between 1 and 3),
    state           text not null default 'proposed' check (state in ('proposed', 'accepted', 'implemented', 'measured', 'rejected')),
    votes           int not null default 0,
    submitted_by    text not null references members (id),
    created_at      timestamptz not null default now(),
    measured_result text,
    decision_note   text
);
create index ideas_state on ideas (state, effort, votes desc);

create table idea_votes (
    idea_id   uuid not null references ideas (id),
    member_id text not null references members (id),
    voted_at  timestamptz not null default now(),
    primary key (idea_id, member_id)
);

-- Case studies.
create table case_studies (
    id                   uuid primary key,
    title                text not null,
    journey_key          text,
    touchpoint_keys      text[] not null default '{}',
    theme_keys           text[] not null default '{}',
    customer_pain_points text[] not null default '{}',
    business_pain_points text[] not null default '{}',
    lessons              text[] not null default '{}',
    perfect_journey      text not null default '',
    feedback_id          uuid,
    customer_id          text,
    redacted_verbatim    text,
    ratings              jsonb not null default '[]',
    timeline             jsonb not null default '[]',
    created_by           text not null,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now()
);
create index case_studies_journey on case_studies (journey_key, created_at desc);
create index case_studies_themes on case_studies using gin (theme_keys);
create index case_studies_customer on case_studies (customer_id) where customer_id is not null;

-- Culture scorecard.
create table culture_assessments (
    team_id       text not null references teams (id),
    period        text not null,
    period_start  date not null,
    conscience    smallint not null check (conscience between 1 and 5),
    communication smallint not null check (communication between 1 and 5),
    consistency   smallint not null check (consistency between 1 and 5),
    credibility   smallint not null check (credibility between 1 and 5),
    note          text not null default '',
    recorded_by   text not null,
    recorded_at   timestamptz not null default now(),
    primary key (team_id, period)
);

-- Sharing approvals: agreement versions the partner service submitted.
create table sharing_approvals (
    agreement_id   uuid not null,
    version        int not null,
    partner_id     text not null,
    partner_name   text not null default '',
    fields         text[] not null default '{}',
    scope          text[] not null default '{}',
    min_group_size int not null,
    cadence        text not null default '',
    retention_days int not null default 0,
    expires_on     text not null default '',
    submitted_by   text not null default '',
    submitted_at   timestamptz not null,
    state          text not null default 'pending' check (state in ('pending', 'approved', 'rejected')),
    decided_by     text,
    reason         text,
    decided_at     timestamptz,
    primary key (agreement_id, version)
);
create index sharing_approvals_state on sharing_approvals (state, submitted_at);

-- The audit log: append-only, each entry holding the hash of the one before.
create table audit_log (
    sequence      bigint primary key,
    occurred_at   timestamptz not null,
    kind          text not null,
    subject       text not null,
    actor         text not null,
    details       text not null,
    previous_hash text not null,
    hash          text not null
);
create index audit_log_kind on audit_log (kind, sequence);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end;
$$;
create trigger audit_log_no_update before update or delete on audit_log for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_append_only();
