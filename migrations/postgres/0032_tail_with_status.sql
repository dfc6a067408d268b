-- SQLite's migration 0032 adds each lead's status to its trigram index of the text; PostgreSQL's
-- planner combines pg_trgm's index with the list's other conditions itself, so this version
-- changes nothing here.
select 1;
