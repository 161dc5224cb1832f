-- The disclosure ledger names every feedback item a report disclosed.
create table report_items (
    report_id   uuid not null references reports (report_id),
    feedback_id uuid not null,
    primary key (report_id, feedback_id)
);

-- An agreement may end on a date: after it the version is expired and nothing more is shared under it.
alter table agreements add column expires_on date;
