-- Relationship stages: what scoring keeps per customer and month to replay their stage history under any model
-- (touchpoints by key, referrals credited to them), the model, and the monthly sums the reads add up (anonymous,
-- kept like the scores). Each customer's part in the sums is computed under one model version.

create table customer_touchpoints (
    customer_id text    not null,
    month       date    not null,
    touchpoint  text    not null,
    touchpoints integer not null,
    primary key (customer_id, month, touchpoint)
);

-- A customer credited once per customer who named them as referrer, in the month of the first such touchpoint.
create table customer_referrals (
    referrer_id text not null,
    referred_id text not null,
    month       date not null,
    primary key (referrer_id, referred_id)
);
create index customer_referrals_referred on customer_referrals (referred_id);

create table stage_model (
    id         smallint    primary key check (id = 1),
    version    integer     not null,
    -- null: the default model.
    model      jsonb,
    updated_at timestamptz,
    updated_by text        not null default '',
    -- The version every customer's part was last found computed under: below version while the rebuilder runs.
    rebuilt_version integer not null default 1
);
insert into stage_model (id, version) values (1, 1);

-- The model version each customer's part in the sums was computed under: older ones are recomputed by the rebuilder.
create table stage_customers (
    customer_id   text    primary key,
    model_version integer not null
);
create index stage_customers_version on stage_customers (model_version);

create table stage_moves (
    month      date             not null,
    from_stage text collate "C" not null,
    to_stage   text collate "C" not null,
    customers  bigint           not null,
    primary key (month, from_stage, to_stage)
);

create table stage_figures (
    month           date             not null,
    stage           text collate "C" not null,
    customers       bigint           not null,
    retained        bigint           not null,
    purchasing      bigint           not null,
    revenue         double precision not null,
    revenue_squares double precision not null,
    cost            double precision not null,
    cost_squares    double precision not null,
    promoters       bigint           not null,
    passives        bigint           not null,
    detractors      bigint           not null,
    primary key (month, stage)
);

create table stage_experiences (
    month      date             not null,
    from_stage text collate "C" not null,
    experience text collate "C" not null,
    customers  bigint           not null,
    moved_up   bigint           not null,
    primary key (from_stage, month, experience)
);
