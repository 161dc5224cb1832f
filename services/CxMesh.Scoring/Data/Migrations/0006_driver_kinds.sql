-- Key drivers by kind (theme presence, attribute ratings) and the promoter outcome.
--
-- Rows, per scope, outcome and day (see DriverRow in Domain/KeyDrivers.cs):
--   a = '', b = ''        the outcome's responses: n, Σy, Σy² (cnt, s1, s2);
--   a = driver, b = ''    over the responses where the driver is present (a theme mentioned, an attribute '@question'
--                         rated): count, negatives, Σx, Σx², Σxy, Σy, Σy² (cnt, neg, s1 .. s5);
--   outcome '*nps', '*csat', '*text', a < b
--                         the pairs of one population (NPS-rated, CSAT-rated, with text): over the responses where
--                         both are present, count, Σxₐ, Σxₐ², Σxₐx_b, Σx_b, Σx_b² (themes keep count and Σxₐx_b only).
-- Until now pairs of rated responses were kept once, under '*', over every rated response: a model of NPS read pairs
-- that CSAT-only responses had added. Each population now keeps its own.
--
-- What came before is carried over from the items' records (driver_items, kept as long as the rows) and the rating
-- rows; days before driver_items existed (0004) get no presence or promoter theme sums.

alter table driver_daily add column s4 double precision not null default 0, add column s5 double precision not null default 0;

-- The records of text items: outcomes gain the promoter flag of their NPS rating.
update driver_items
set outcome_values = outcome_values || (case when outcome_values[array_position(outcomes, 'nps')] >= 9 then 1 else 0 end)::float8,
    outcomes = outcomes || 'promoter'::text
where 'nps' = any(outcomes) and not ('promoter' = any(outcomes));

-- Each recorded item's themes (the first score of a theme named twice, as the handler sums them) and outcomes.
create temporary table recorded_themes on commit drop as
select i.feedback_id, i.day, i.scopes, t.theme, t.x
from driver_items i
cross join lateral (
    select distinct on (u.theme) u.theme, u.x
    from unnest(i.themes, i.theme_scores) with ordinality as u(theme, x, ord)
    order by u.theme, u.ord
) t
where i.day is not null;

create temporary table recorded_outcomes on commit drop as
select i.feedback_id, o.outcome, o.y
from driver_items i
cross join lateral unnest(i.outcomes, i.outcome_values) as o(outcome, y)
where i.day is not null
union all
select i.feedback_id, 'sentiment', i.text_sentiment from driver_items i where i.day is not null and i.text_sentiment is not null;

-- The promoter outcome's rows: n and promoters from the NPS rating rows (eNPS in the employee scope), where they
-- agree with the NPS outcome's n (a day on which some response rated two NPS questions is left out).
insert into driver_daily (scope_key, outcome, day, a, b, cnt, neg, s1, s2)
select r.scope_key, 'promoter', r.day, '', '', sum(r.n), 0, sum(r.top_box), sum(r.top_box)
from rating_daily r
join driver_daily d on d.scope_key = r.scope_key and d.day = r.day and d.outcome = 'nps' and d.a = '' and d.b = ''
where position('|' in r.scope_key) = 0
  and r.metric = case when r.scope_key = 'audience=employee' then 'enps' else 'nps' end
group by r.scope_key, r.day, d.cnt
having sum(r.n) = d.cnt;

-- The promoter outcome's theme rows, from the records.
insert into driver_daily (scope_key, outcome, day, a, b, cnt, neg, s1, s2, s3, s4, s5)
select s.scope_key, 'promoter', t.day, t.theme, '', count(*), count(*) filter (where t.x < -0.05),
       sum(t.x), sum(t.x * t.x), sum(t.x * o.y), sum(o.y), sum(o.y * o.y)
from recorded_themes t
join recorded_outcomes o on o.feedback_id = t.feedback_id and o.outcome = 'promoter'
cross join lateral unnest(t.scopes) as s(scope_key)
where exists (select 1 from driver_daily p where p.scope_key = s.scope_key and p.day = t.day and p.outcome = 'promoter' and p.a = '' and p.b = '')
group by s.scope_key, t.day, t.theme;

-- Σy and Σy² over the responses that mention each theme (presence drivers), for every other outcome.
update driver_daily d set s4 = c.sy, s5 = c.syy
from (
    select s.scope_key, o.outcome, t.day, t.theme, sum(o.y) as sy, sum(o.y * o.y) as syy
    from recorded_themes t
    join recorded_outcomes o on o.feedback_id = t.feedback_id and o.outcome <> 'promoter'
    cross join lateral unnest(t.scopes) as s(scope_key)
    group by s.scope_key, o.outcome, t.day, t.theme
) c
where d.scope_key = c.scope_key and d.outcome = c.outcome and d.day = c.day and d.a = c.theme and d.b = '';

-- Pairs: '*' summed every rated response; each population keeps it, less the recorded items outside the population.
insert into driver_daily (scope_key, outcome, day, a, b, cnt, neg, s1, s2, s3)
select d.scope_key, p.outcome, d.day, d.a, d.b, d.cnt, d.neg, d.s1, d.s2, d.s3
from driver_daily d cross join (values ('*nps'), ('*csat')) as p(outcome)
where d.outcome = '*';
delete from driver_daily where outcome = '*';

update driver_daily d set cnt = d.cnt - c.cnt, s3 = d.s3 - c.s3
from (
    select s.scope_key, p.outcome, ta.day, ta.theme as a, tb.theme as b, count(*) as cnt, sum(ta.x * tb.x) as s3
    from recorded_themes ta
    join recorded_themes tb on tb.feedback_id = ta.feedback_id and ta.theme collate "C" < tb.theme collate "C"
    join driver_items i on i.feedback_id = ta.feedback_id
    cross join (values ('*nps', 'nps'), ('*csat', 'csat')) as p(outcome, population)
    cross join lateral unnest(ta.scopes) as s(scope_key)
    where cardinality(i.outcomes) > 0 and not (p.population = any(i.outcomes))
    group by s.scope_key, p.outcome, ta.day, ta.theme, tb.theme
) c
where d.scope_key = c.scope_key and d.outcome = c.outcome and d.day = c.day and d.a = c.a and d.b = c.b;
delete from driver_daily where outcome in ('*nps', '*csat') and cnt = 0;
