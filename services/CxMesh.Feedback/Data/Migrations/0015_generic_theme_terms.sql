-- Generic keywords and phrases ("coffee", "box", 服务) name a theme only in a clause no theme's specific terms explain.
alter table themes
    add column generic_keywords text[] not null default '{}',
    add column generic_phrases  text[] not null default '{}';
