-- PostgreSQL's migration 0020 makes the office server plan each statement for its values; SQLite
-- always plans with the values bound, so this version changes nothing here.
select 1;
