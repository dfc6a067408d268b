-- PostgreSQL's migration 0037 lets whoever views leads read the live leads per office-local day
-- for "go to page N"; SQLite's pages by number skip the dates' index as before, so this version
-- changes nothing here.
select 1;
