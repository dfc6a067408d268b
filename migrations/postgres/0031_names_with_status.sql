-- The index of names holds each lead's status too: a search filtered by status (the board's
-- columns, the leads list with a status) counts the leads starting with it by an index-only
-- scan, where each was read from the table for its status.
drop index leads_name;
create index leads_name on leads (search, id) include (is_archived, status);
