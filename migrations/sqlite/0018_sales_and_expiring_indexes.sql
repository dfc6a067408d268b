-- Sales per client (the statistics page, all time) counts and pages the live clients that have
-- contracts, by revenue. The revenue index held every live client, so the count visited each
-- one's row to see its contracts: 12 ms with 64 MiB of SQLite page cache per connection, 140 ms
-- with 8 MiB (now the default: see `Db::connect`), 0.65 s from a cold file. Counted and paged
-- from this index alone: 2 ms.
create index clients_sales on clients (revenue, id) where is_archived = false and contracts > 0;

-- "My day" of everyone who sees contracts lists those ending within 30 days (and the contracts
-- list has the same filter): the validity index held archived contracts too, so each of the
-- ~13,000 in the window at a million leads was visited to be ruled out (22 ms from the file).
create index contracts_live_valid_to on contracts (valid_to, id) where is_archived = false;

-- the planner's figures for the new indexes now, not at the next analysis
analyze clients;
analyze contracts;
