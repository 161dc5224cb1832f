-- Partners' responses carry a status for every kind and, for disputes governance settled, the outcome.
alter table responses add column outcome text;
update responses set status = 'received' where kind = 'acknowledgement' and status is null;
update responses set status = 'open' where kind = 'dispute' and status is null;
create index responses_partner on responses (partner_id, created_at desc);
