-- A partner's dispute of a feedback item becomes an action too.
alter table actions drop constraint actions_source_check;
alter table actions add constraint actions_source_check
    check (source in ('alert', 'partner-commitment', 'partner-dispute', 'case-study', 'idea', 'manual'));
