-- Named, stored ways to read an export (ImportProfile): the options as protobuf bytes, so that a field added to
-- CsvImportOptions needs no migration.
create table import_profiles (
    name text primary key,
    description text not null default '',
    options bytea not null,
    updated_at timestamptz not null,
    updated_by text not null default ''
);
