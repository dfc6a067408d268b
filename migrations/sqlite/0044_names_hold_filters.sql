-- PostgreSQL's migration 0044 widens its index of names with the list's filters, as SQLite's
-- 0038 did; nothing changes here.
select 1;
