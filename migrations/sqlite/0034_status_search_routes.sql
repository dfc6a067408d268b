-- PostgreSQL's migration 0034 adds the index SQLite's 0033 did (a status's leads in creation
-- order with their search text) and keys its trigram index by status, which SQLite's 0032 did
-- in its own way; this version changes nothing here.
select 1;
