-- Per (scope, metric, day) sufficient statistics. Updated only by commutative increments,
-- so events may arrive in any order and several consumers may update concurrently.
create table score_daily (
    scope_key   text   not null,
    metric      text   not null,
    day         date   not null,
    n           bigint not null default 0,
    promoters   bigint not null default 0,
    passives    bigint not null default 0,
    detractors  bigint not null default 0,
    sum_value   double precision not null default 0,
    sum_squares double precision not null default 0,
    primary key (scope_key, metric, day)
);

-- Bumped in every transaction that changes a scope: cached scores carry it, and Redis keeps only the newest.
create table scope_versions (
    scope_key text   primary key,
    version   bigint not null
);
