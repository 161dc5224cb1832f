-- Every change to the theme taxonomy is a version, and each version has a re-tag of the stored items: they are matched
-- against it oldest first (by id: uuid v7, arrival order), the cursor moving in the same write as the items, so a
-- re-tag resumes where it stopped. Items record the version their themes were matched against.
create table taxonomy_versions (
    version       bigint      primary key,
    change        text        not null,
    changed_at    timestamptz not null default now(),
    state         text        not null default 'running' check (state in ('running', 'finished', 'superseded')),
    cursor_id     uuid,
    items_total   bigint      not null default 0,
    items_scanned bigint      not null default 0,
    items_changed bigint      not null default 0,
    finished_at   timestamptz
);

-- Version 1 is the taxonomy as it stands now (the shipped defaults and any edits). Items stored before versions were
-- recorded (0) may have been matched against an earlier taxonomy: they are re-tagged to it.
insert into taxonomy_versions (version, change, state, items_total, finished_at)
select 1, 'the taxonomy when versions began',
       case when exists (select 1 from feedback_items) then 'running' else 'finished' end,
       (select count(*) from feedback_items),
       case when exists (select 1 from feedback_items) then null else now() end;

alter table feedback_items add column taxonomy_version bigint not null default 0;
