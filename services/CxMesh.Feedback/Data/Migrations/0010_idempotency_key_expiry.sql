-- Idempotency keys are kept for Feedback:IdempotencyKeyRetention, then forgotten oldest first.
create index idempotency_keys_created on idempotency_keys (created_at);
