-- PostgreSQL only (its audit log's row-level security policy is computed once per statement).
-- SQLite has no row-level security; this file keeps the two backends' migration versions in step.
select 1;
