-- Leads sorted by name are sorted by their search text, which starts with the lower-cased name:
-- case no longer splits the alphabet, and the leads whose name starts with a search are one
-- range of the sort's index. A search sorted by name then reads its first page from that
-- range, and only the other matches (the search found further into the text: "анна" in
-- "петрова анна") from a second trigram index over the text without its first character,
-- which holds no trigram of a match at the very start. A surname's 12,659 matches at a
-- million leads were each read and sorted for one page.
--
-- The text is compared by code point (collation "C"), as SQLite compares it: a range of the
-- strings starting with a search is then exactly those strings, and both backends sort alike.
-- (pg_trgm reads characters by the database's LC_CTYPE, not by the column's collation.)
alter table leads alter column search type text collate "C";
drop index leads_live_name;
-- every lead, archived too: the list with the archived ones sorted by name reads it as well
create index leads_name on leads (search, id) include (is_archived);

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
    create index if not exists leads_search_trgm on leads using gin (search gin_trgm_ops);
    create index if not exists leads_search_tail_trgm on leads using gin (substr(search, 2) gin_trgm_ops);
    create index if not exists clients_search_trgm on clients using gin (search gin_trgm_ops);
    update office set trigram_search = true;
    return true;
end
$$;
revoke execute on function crm_enable_trigram_search() from public;
select crm_enable_trigram_search() from office where trigram_search;

analyze leads;
