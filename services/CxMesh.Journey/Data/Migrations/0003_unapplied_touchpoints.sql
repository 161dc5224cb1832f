-- Ingest no longer queues (customer, journey) pairs: the projector finds new work as unapplied touchpoints
-- (a small partial index, emptied as it goes), so a batch is one INSERT. pending_projections stays for the
-- sweeper and for asking for a rebuild.
create index touchpoints_unapplied on touchpoints (recorded_at) where not applied;

create trigger touchpoints_notify after insert on touchpoints
    for each statement execute function pending_projections_notify();
