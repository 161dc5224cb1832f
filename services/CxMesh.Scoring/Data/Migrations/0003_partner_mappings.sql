-- Scoring's copy of the partner service's mappings (partner.mapping.changed), to score feedback by partner.
create table partner_mappings (
    kind       text not null, -- product, lot, journey, touchpoint
    value      text not null,
    partner_id text not null,
    primary key (kind, value, partner_id)
);
