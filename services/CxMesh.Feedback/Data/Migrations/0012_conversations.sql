-- A contact-centre conversation's turns, each redacted: [{"speaker": "agent", "text": "...", "at": "..."}]. The raw
-- customer turns are the item's verbatim; nothing else of a conversation is kept unredacted.
alter table feedback_items add column conversation jsonb;
