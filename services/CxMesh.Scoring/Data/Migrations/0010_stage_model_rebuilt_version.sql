-- rebuilt_version was added to 0008 after 0008 had been released, so databases migrated before that never got it
-- (and every journey event then failed in them). Added here for them; a no-op where 0008 already made it.
-- Existing rows start at 1: the stage rebuilder raises it once no customer is left behind the model's version.
alter table stage_model add column if not exists rebuilt_version integer not null default 1;
