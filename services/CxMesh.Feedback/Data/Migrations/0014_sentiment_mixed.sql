-- Sentiment v2 reads clause by clause and labels a comment MIXED when a clearly positive and a clearly negative clause
-- stand side by side; the score alone cannot say so (a mixed comment's score is the balance of its clauses). Items
-- analysed before this read as not mixed, as they were.
alter table feedback_items add column sentiment_mixed boolean not null default false;
