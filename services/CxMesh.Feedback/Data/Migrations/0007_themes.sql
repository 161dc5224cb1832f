-- The managed theme taxonomy. The default CX drivers are added by the service at start-up
-- (insert ... on conflict do nothing), so an edited default keeps its edits.
create table themes (
    key        text        primary key,
    name       text        not null,
    keywords   text[]      not null,
    phrases    text[]      not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
