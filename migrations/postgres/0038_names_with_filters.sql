-- SQLite's migration 0038 widens its index of names with the list's other filters, which it
-- reads from the index alone; PostgreSQL reads a searched list's filters through a bitmap of the
-- index of dates (its index-only scan would not serve the search's `or`), so this version
-- changes nothing here.
select 1;
