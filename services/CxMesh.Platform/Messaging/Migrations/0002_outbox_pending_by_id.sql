-- The relay takes the oldest pending rows by id. With the index led by next_attempt_at, every batch had to
-- read and sort all pending rows (quadratic when a backlog builds up); led by id it reads just the batch.
drop index outbox_pending;
create index outbox_pending on outbox (id) where sent_at is null and parked_at is null;
create index outbox_retry on outbox (next_attempt_at) where sent_at is null and parked_at is null and attempts > 0;
