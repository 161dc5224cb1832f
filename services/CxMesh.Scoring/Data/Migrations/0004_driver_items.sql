-- What each feedback item added to driver_daily: its day, the scopes it counts in, its outcomes (rated responses) and
-- its text sentiment (items with a verbatim), and the themes it was summed with. A re-tag (feedback.retagged) takes
-- the item's old themes out of exactly those rows and adds its new ones. A row with no day is a re-tag that arrived
-- before the item: the item is summed with those themes when it comes.
create table driver_items (
    feedback_id      uuid             primary key,
    day              date,
    scopes           text[]           not null default '{}',
    outcomes         text[]           not null default '{}',
    outcome_values   double precision[] not null default '{}',
    text_sentiment   double precision,
    themes           text[]           not null,
    theme_scores     double precision[] not null,
    taxonomy_version bigint           not null default 0,
    created_on       date             not null default current_date
);

create index driver_items_day on driver_items (day);
