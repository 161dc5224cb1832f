-- What the service understood of each verbatim. Raw verbatims stay in feedback_items.verbatim (admins only);
-- everything that leaves the service uses redacted_verbatim.
alter table feedback_items
    add column redacted_verbatim text,
    add column language text,
    add column sentiment double precision,
    add column themes jsonb not null default '[]';

create index feedback_items_themes on feedback_items using gin (themes jsonb_path_ops);
