-- PostgreSQL's migration 0021 books the kept counts and roll-ups at commit, so that concurrent
-- writers do not queue on the counter rows. A SQLite file has one writer at a time, whose
-- triggers already update the counters in its own transaction: nothing changes here.
select 1;
