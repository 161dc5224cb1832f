-- What a customer spent and what serving them cost at a touchpoint (reporting currency, 4 decimals): published with
-- the touchpoint so scoring can follow promoters' and detractors' value. A constant default: no table rewrite.
alter table touchpoints
    add column revenue       numeric(16, 4) not null default 0,
    add column cost_to_serve numeric(16, 4) not null default 0;
