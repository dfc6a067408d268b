-- The history of one kind of record (the leads', say) within a period, latest first, is one
-- range of this index, in its order (as SQLite's 0045): counting it up to the page's bound read
-- either the period's entries testing each one's kind or the kind's entries testing each one's
-- date, whichever plan the connection had (at a million leads with 2,000,000 entries: 3 ms one
-- way, 390 the other).
create index audit_log_kind_at on audit_log (entity, at, id);
