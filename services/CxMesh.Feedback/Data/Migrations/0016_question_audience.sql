-- Who answers a question. eNPS is asked of employees; NPS, CSAT and CES of customers; a custom question says which.
-- A rating whose question is for the other audience is refused, so customer and employee figures never mix.
alter table questions add column audience text not null default 'customer' check (audience in ('customer', 'employee'));
update questions set audience = 'employee' where metric = 'enps';
