-- The taxonomy version a partner copy's themes come from: a re-tag (feedback.retagged) replaces them, a late one does not.
alter table partner_items add column taxonomy_version bigint not null default 0;
