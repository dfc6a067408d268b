-- A search sorted by name whose matches are many (a fragment like "ова", which a third of a
-- million leads hold) walks the index of names testing each lead's search text; the first
-- page's 50th match was the 75,025th name, and each test read the lead's row. The index of
-- live names now holds the search text too, so the walk is an index-only scan.
drop index leads_live_name;
create index leads_live_name on leads (full_name, id) include (search) where is_archived = false;

analyze leads;
