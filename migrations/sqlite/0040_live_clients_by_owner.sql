-- One responsible person's live clients, counted and paged from an index alone: the only index
-- holding the owner, `clients_owner` (owner_id, created_at, id), holds archived clients too, so
-- the list's total read each of the owner's clients from the table to see whether it was
-- archived, and sorted by name the list walked every live client's name for the owner's (at a
-- million leads, 111,762 clients all of one manager: SQLite count 170-250 ms, page by name
-- 190-290; PostgreSQL count 30 ms by a sequential scan). With these: the count 3 / 11-15 ms
-- (index only), a page by name or by revenue under 0.1 ms.
create index clients_live_owner_name on clients (owner_id, search, id) where is_archived = false;
create index clients_live_owner_revenue on clients (owner_id, revenue, id) where is_archived = false;

analyze clients;
