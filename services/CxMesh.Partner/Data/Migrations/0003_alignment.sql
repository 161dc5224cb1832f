-- CX-alignment questionnaires (versioned) and partners' assessments against them, kept over time.
create table alignment_questionnaires (
    version    int         primary key,
    questions  jsonb       not null, -- [{"key", "principle", "text", "weight"}]
    created_at timestamptz not null default now()
);

insert into alignment_questionnaires (version, questions) values (1, '[
  {"key": "promise-known", "principle": "customer-first-promise", "text": "Knows the customer promise we make and designs its part of the experience around it.", "weight": 2},
  {"key": "promise-measured", "principle": "customer-first-promise", "text": "Measures its own work by what the end customer experiences, not only by contract terms.", "weight": 1},
  {"key": "responds-fast", "principle": "responsiveness", "text": "Answers customer-affecting issues within the agreed time.", "weight": 2},
  {"key": "escalates", "principle": "responsiveness", "text": "Tells us about problems before customers notice them.", "weight": 1},
  {"key": "shares-data", "principle": "data-sharing", "text": "Shares the operational data that explains customer outcomes (lots, delays, defects).", "weight": 1},
  {"key": "protects-data", "principle": "data-sharing", "text": "Handles the customer feedback it receives within the agreement and protects it.", "weight": 2},
  {"key": "acts-on-feedback", "principle": "joint-improvement", "text": "Turns shared feedback into committed improvement actions.", "weight": 2},
  {"key": "joint-reviews", "principle": "joint-improvement", "text": "Takes part in regular joint reviews of the customer experience.", "weight": 1}
]');

create table alignment_assessments (
    assessment_id         uuid             primary key,
    partner_id            text             not null references partners (id),
    questionnaire_version int              not null references alignment_questionnaires (version),
    answers               jsonb            not null,
    score                 double precision not null,
    principle_scores      jsonb            not null,
    assessed_on           date             not null,
    notes                 text,
    created_at            timestamptz      not null default now()
);
create index alignment_assessments_partner on alignment_assessments (partner_id, assessed_on);
