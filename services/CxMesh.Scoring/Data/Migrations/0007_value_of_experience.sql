-- The value of experience: what customers did in the month after an NPS answer, by the answer's rating.
-- value_outcomes and value_answers hold a pseudonymous customer id (erased with the customer); value_stats holds
-- only counts and sums (anonymous, kept like the scores), so reading a window never scans customers.

-- One row per customer and calendar month (UTC) in which they had a touchpoint.
create table value_outcomes (
    customer_id text             not null,
    month       date             not null,
    touchpoints integer          not null,
    purchases   integer          not null,
    revenue     double precision not null,
    cost        double precision not null,
    primary key (customer_id, month)
);

-- A customer's last NPS answer of a month in each basis: a scope key ("all", "journey=coffee", ...) or a predictor
-- ("predict.journey:journey=coffee", "predict.touchpoint:journey=coffee|touchpoint=delivered").
create table value_answers (
    customer_id text        not null,
    month       date        not null,
    basis       text collate "C" not null,
    rating      smallint    not null check (rating between 0 and 10),
    given_at    timestamptz not null,
    feedback_id uuid        not null,
    primary key (customer_id, month, basis)
);

-- Sufficient statistics per basis, answer month and rating of the customers' following month.
create table value_stats (
    basis           text collate "C" not null,
    month           date             not null,
    rating          smallint         not null,
    customers       bigint           not null,
    retained        bigint           not null,
    purchasing      bigint           not null,
    revenue         double precision not null,
    revenue_squares double precision not null,
    cost            double precision not null,
    cost_squares    double precision not null,
    primary key (basis, month, rating)
);
