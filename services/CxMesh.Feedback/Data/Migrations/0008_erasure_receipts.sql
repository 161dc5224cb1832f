-- Erasures keep no customer id: the SHA-256 of it (hex) proves, to whoever holds the id, which customer an erasure
-- was for. The customer's items move to a random pseudonym, so nothing links them back.
alter table erasures add column customer_hash text;
update erasures set customer_hash = encode(sha256(convert_to(customer_id, 'UTF8')), 'hex');
alter table erasures alter column customer_hash set not null;
alter table erasures drop column customer_id;
alter table erasures add column items int not null default 0;
create unique index erasures_event on erasures (event_id);

-- What each other service removed for an erasure (customer.erasure.applied), gathered into its receipt.
create table erasure_receipts (
    erasure_id text        not null,
    service    text        not null,
    removed    jsonb       not null,
    applied_at timestamptz not null,
    primary key (erasure_id, service)
);
