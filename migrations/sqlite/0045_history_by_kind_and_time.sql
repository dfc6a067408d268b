-- The history of one kind of record (the leads', say) within a period, latest first, is one
-- range of this index, in its order: counting it up to the page's bound read either the period's
-- entries testing each one's kind or the kind's entries testing each one's date, whichever the
-- planner guessed (at a million leads with 2,000,000 entries, the leads' within a month: 9-12 ms
-- one way, 200-320 the other, the two connections of one app choosing differently).
create index audit_log_kind_at on audit_log (entity, at, id);
-- the new index's statistics alone (as 0038: `analyze audit_log` would read every index of it)
analyze audit_log_kind_at;
