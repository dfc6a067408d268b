-- The index of names holds each lead's creation time, campaign and owner too (as SQLite's has
-- since 0038): a search of the leads list with those filters (created within a month, one
-- campaign, one owner) reads the leads starting with it from the index alone, where each was
-- read from the table for its date (a surname's 12,509 leads for the 1,175 of one month: 26
-- ms at a million leads, 1.5-4 so). The list reads that range as one of two parts
-- (src-tauri/leads/search.rs, `Search::narrowed_routes`).
drop index leads_name;
create index leads_name on leads (search, id) include (is_archived, status, created_at, campaign_id, owner_id);
