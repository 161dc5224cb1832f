-- Webhook signing secrets sealed with AES-256-GCM under Partner:SecretKeys (key id kept with each), bound to the
-- partner and creation time. Rows written before this migration keep their plaintext until the webhook sender
-- seals them at start-up.
alter table webhook_secrets alter column secret drop not null;
alter table webhook_secrets add column key_id text;
alter table webhook_secrets add column nonce bytea;
alter table webhook_secrets add column ciphertext bytea;
alter table webhook_secrets add column tag bytea;
alter table webhook_secrets add constraint webhook_secrets_sealed_or_legacy check (secret is not null or (key_id is not null and ciphertext is not null));
