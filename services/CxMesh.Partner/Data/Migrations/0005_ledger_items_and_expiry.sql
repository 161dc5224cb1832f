-- The disclosure ledger names every feedback item a report disclosed: one array per report (a million ids is one
-- compressed value, not a million rows).
create table report_items (
    report_id    uuid   primary key references reports (report_id),
    feedback_ids uuid[] not null
);

-- An agreement may end on a date: after it the version is expired and nothing more is shared under it.
alter table agreements add column expires_on date;
