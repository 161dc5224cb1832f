-- Relationship metrics read customers' activity and completions of one journey over a window.
create index touchpoints_journey_time on touchpoints (journey_key, occurred_at) include (customer_id, instance_id, touchpoint_key);
create index journey_instances_completed on journey_instances (journey_key, ended_at) include (customer_id, segment) where state = 'completed';
