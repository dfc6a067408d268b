-- PostgreSQL's migration 0036 makes its trigram index of a status's leads one partial index a
-- status; SQLite's index codes the status in its text (0032, 0035), so this version changes
-- nothing here.
select 1;
