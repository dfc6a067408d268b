-- A list in date order searched for a substring walks its rows newest first until a page of
-- them match: with the searched text included, from the index alone (as SQLite's 0046 and the
-- statuses' index of 0034).
drop index leads_live_created;
create index leads_live_created on leads (created_at, id) include (search) where is_archived = false;
drop index leads_created;
create index leads_created on leads (created_at, id) include (search);
drop index leads_live_owner;
create index leads_live_owner on leads (owner_id, created_at, id) include (search) where is_archived = false;
