-- The index of names holds each lead's status too: a search filtered by status (the board's
-- columns, the leads list with a status) counts the leads starting with it from the index
-- alone, where each was read from the table for its status (a two-letter search's 25,000 for
-- the board's column of new leads: 67 ms at a million leads; the board: 1.9 s), and the range
-- is then read through this index by name (`indexed by`: src-tauri/leads/search.rs).
drop index leads_name;
create index leads_name on leads (search, id, is_archived, status);

analyze leads;
