-- Whose voice raised an alert (customer or employee), and for a score drop the broader scopes whose drop it explains:
-- a drop significant in nested scopes (journey, journey x channel, channel, all) is raised once, at the most specific.
alter table alerts
    add column audience           text   not null default 'customer',
    add column broader_scope_keys text[] not null default '{}';
