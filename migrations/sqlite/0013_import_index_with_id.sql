-- PostgreSQL only: SQLite's index on leads(import_id) already ends with the rowid, which is the
-- id (see migrations/postgres/0013). This file keeps the two backends' migration versions in step.
select 1;
