-- The question registry: a rating means nothing without its question's metric, scale, direction and top box.
create table questions (
    id               text        primary key,
    text             text        not null,
    metric           text        not null check (metric in ('nps', 'csat', 'ces', 'enps', 'custom')),
    scale_min        int         not null,
    scale_max        int         not null,
    higher_is_better boolean     not null,
    top_box          int[]       not null,
    created_at       timestamptz not null default now(),
    check (scale_min < scale_max)
);

insert into questions (id, text, metric, scale_min, scale_max, higher_is_better, top_box) values
    ('nps', 'How likely are you to recommend us to a friend or colleague?', 'nps', 0, 10, true, '{9,10}'),
    ('csat', 'How satisfied are you?', 'csat', 1, 5, true, '{4,5}'),
    ('ces', 'It was easy to get what I needed (CES 2.0).', 'ces', 1, 7, true, '{5,6,7}'),
    ('enps', 'How likely are you to recommend working here?', 'enps', 0, 10, true, '{9,10}');
