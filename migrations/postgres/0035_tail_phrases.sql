-- SQLite's migration 0035 rebuilds its trigram index of the text past the first character with
-- positions; PostgreSQL's pg_trgm indexes are unchanged, so this version changes nothing here.
select 1;
