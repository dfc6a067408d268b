-- A search of one status's leads (the board's columns, a list filtered by status) is read as
-- dense or sparse its matches are, as the app measures (see `Search::status_routes`):
--
-- * Leads of one status in creation order with their search text, beside leads_live_status
--   (whose narrower entries "go to page N" of a status sort skips): a walk of a status's
--   leads newest first tests each lead's text without reading its row. A fragment a third of
--   the names hold ("ова") finds its first 1,001 lost leads in 3 ms, where pg_trgm's index
--   built the bitmap of all 74,828 (30-45 ms at a million leads). SQLite's 0033 is the same.
create index leads_live_status_search on leads (status, created_at, id) include (search) where is_archived = false;

-- * The trigram index of the text past its first character keyed by the status too, where the
--   server has btree_gin (a trusted extension since PostgreSQL 13, in the contrib package with
--   pg_trgm): a first name's 977 new leads come from the index, where each of its 20,736
--   candidates was read for its status (or the bitmap of all 45,111 new leads built). The
--   status is keyed as `status || ''`, which the searches write: the btree indexes of the
--   status cannot serve that, so the planner does not walk a status's leads testing each one
--   for a match it expects rare (17-28 ms). Without btree_gin the index stays as it was.
create or replace function crm_enable_trigram_search() returns boolean
language plpgsql set search_path from current
as $$
begin
    begin
        create extension if not exists pg_trgm;
    exception when others then
        raise notice 'pg_trgm is not available (%): search will scan', sqlerrm;
        return false;
    end;
    drop index if exists leads_search_trgm;
    begin
        create extension if not exists btree_gin;
        create index if not exists leads_status_tail_trgm on leads
            using gin ((status || ''), substr(search, 2) gin_trgm_ops);
        drop index if exists leads_search_tail_trgm;
    exception when others then
        raise notice 'btree_gin is not available (%): a search by status reads more rows', sqlerrm;
        create index if not exists leads_search_tail_trgm on leads using gin (substr(search, 2) gin_trgm_ops);
    end;
    create index if not exists clients_search_trgm on clients using gin (search gin_trgm_ops);
    create index if not exists contracts_search_trgm on contracts using gin (search gin_trgm_ops);
    update office set trigram_search = true;
    return true;
end
$$;
revoke execute on function crm_enable_trigram_search() from public;
select crm_enable_trigram_search() from office where trigram_search;

analyze leads;
