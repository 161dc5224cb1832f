-- Duplicate voices: the same customer saying the same thing twice (a review syndicated to two sites, a survey
-- comment repeated in a ticket). text_hash is the SHA-256 of the normalised verbatim.
alter table feedback_items
    add column text_hash text,
    add column duplicate_of uuid references feedback_items (id);

create index feedback_items_customer_text on feedback_items (customer_id, text_hash, given_at)
    where customer_id is not null and text_hash is not null;
