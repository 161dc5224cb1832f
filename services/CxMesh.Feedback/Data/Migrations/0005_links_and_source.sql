-- What an item is about and where it came from. (source_system, external_id) identifies an item in the
-- system that exported it: importing the same export twice stores it once.
alter table feedback_items
    add column touchpoint_key text,
    add column product_id text,
    add column lot_id text,
    add column store_id text,
    add column segment jsonb not null default '{}',
    add column source_system text,
    add column survey_id text,
    add column external_id text;

create unique index feedback_items_source on feedback_items (source_system, external_id) where external_id is not null;
create index feedback_items_product on feedback_items (product_id) where product_id is not null;
create index feedback_items_lot on feedback_items (lot_id) where lot_id is not null;
