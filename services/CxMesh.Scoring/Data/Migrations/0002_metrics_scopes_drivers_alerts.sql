-- Every metric, per question: the sufficient statistics of one question's ratings in one scope on one day.
-- top_box holds promoters for NPS/eNPS; detractors the question's detractor range.
create table rating_daily (
    scope_key   text             not null,
    metric      text             not null,
    question_id text             not null,
    day         date             not null,
    n           bigint           not null default 0,
    top_box     bigint           not null default 0,
    passives    bigint           not null default 0,
    detractors  bigint           not null default 0,
    sum_value   double precision not null default 0,
    sum_squares double precision not null default 0,
    primary key (scope_key, metric, question_id, day)
);

insert into rating_daily (scope_key, metric, question_id, day, n, top_box, passives, detractors, sum_value, sum_squares)
select scope_key, 'nps', 'nps', day, n, promoters, passives, detractors, sum_value, sum_squares from score_daily;
drop table score_daily;

-- The latest definition seen of each question (scale and direction), to read means correctly.
create table questions_seen (
    question_id      text    primary key,
    metric           text    not null,
    scale_min        int     not null,
    scale_max        int     not null,
    higher_is_better boolean not null
);

-- Key-driver sums per scope, outcome and day. Rows: a = '' and b = '' hold n, Σy, Σy² (in cnt, s1, s2);
-- a = theme, b = '' hold mentions, negative mentions, Σx, Σx², Σxy (cnt, neg, s1, s2, s3); a < b (outcome '*')
-- hold Σxₐx_b of two themes mentioned together (s3). x is the mention's sentiment, 0 when not mentioned.
create table driver_daily (
    scope_key text             not null,
    outcome   text             not null,
    day       date             not null,
    a         text             not null,
    b         text             not null,
    cnt       bigint           not null default 0,
    neg       bigint           not null default 0,
    s1        double precision not null default 0,
    s2        double precision not null default 0,
    s3        double precision not null default 0,
    primary key (scope_key, outcome, day, a, b)
);

-- Scoring's own projection of journey.touchpoint.recorded, to attribute feedback without a journey link.
create table touchpoint_projection (
    event_id       text        primary key,
    customer_id    text        not null,
    journey_key    text        not null,
    touchpoint_key text        not null,
    occurred_at    timestamptz not null
);
create index touchpoint_projection_customer on touchpoint_projection (customer_id, occurred_at desc);
create index touchpoint_projection_age on touchpoint_projection (occurred_at);

create table alerts (
    id                uuid             primary key,
    dedupe_key        text             not null unique,
    kind              text             not null,
    raised_at         timestamptz      not null default now(),
    feedback_id       text,
    customer_id       text,
    journey_id        text,
    touchpoint_key    text,
    channel           int              not null default 0,
    redacted_verbatim text,
    metric            text,
    question_id       text,
    rating            int,
    scope_key         text,
    value             double precision,
    n                 bigint,
    previous_value    double precision,
    previous_n        bigint,
    p_value           double precision,
    window_days       int
);
create index alerts_raised on alerts (raised_at desc, id desc);
create index alerts_customer on alerts (customer_id) where customer_id is not null;
