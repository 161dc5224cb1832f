-- Reports built on an agreement's cadence carry the occurrence they are for: one per partner and occurrence,
-- however many replicas run the scheduler.
alter table reports add column scheduled_for timestamptz;
create unique index reports_scheduled on reports (partner_id, scheduled_for) where scheduled_for is not null;
