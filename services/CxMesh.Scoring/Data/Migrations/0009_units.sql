-- The registered units (stores, teams, agents) as the feedback events that named them described them, newest
-- description kept; and per unit and day how many sentences praised it by name.
create table units (
    key text primary key,
    kind text not null,
    name text not null,
    parent_key text,
    described_at timestamptz not null
);

create table unit_praise (
    unit_key text not null,
    day date not null,
    praise bigint not null,
    primary key (unit_key, day)
);
