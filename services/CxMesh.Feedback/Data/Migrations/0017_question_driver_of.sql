-- An attribute question ("rate the delivery speed") names the NPS, eNPS or CSAT question it explains; its ratings
-- then carry that id in feedback.received, and scoring regresses the outcome on them (key drivers by attribute).
alter table questions add column driver_of text references questions (id);
