-- SQLite's migration 0033 adds an index its walks of a status's leads read without the rows;
-- PostgreSQL's planner chooses its own way, so this version changes nothing here.
select 1;
