-- Sales per client (the statistics page, all time) counts and pages the live clients that have
-- contracts, by revenue. The revenue index held every live client, so the count visited each
-- one's row to see its contracts: 12 ms with 64 MiB of SQLite page cache per connection, 140 ms
-- with 8 MiB (now the default: see `Db::connect`), 0.65 s from a cold file. Counted and paged
-- from this index alone: 2 ms.
create index clients_sales on clients (revenue, id) where is_archived = false and contracts > 0;
