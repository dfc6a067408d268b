-- Leads sorted by name are sorted by their search text, which starts with the lower-cased name:
-- case no longer splits the alphabet, and the leads whose name starts with a search are one
-- range of the sort's index. A lead's text holds a search where it starts with it (that range)
-- or holds it from its second character on: the trigram index is now over that part, which
-- holds no trigram of a match at the very start. A search sorted by name reads its first page
-- from the range and only the other matches ("анна" in "петрова анна") from the index, where
-- a surname's 12,659 matches at a million leads were each read and sorted for one page; and
-- a surname's range is cheaper to read than six trigrams' posting lists.
--
-- The text is compared by code point (collation "C"), as SQLite compares it: a range of the
-- strings starting with a search is then exactly those strings, and both backends sort alike.
-- (pg_trgm reads characters by the database's LC_CTYPE, not by the column's collation.)
drop index leads_live_name;
-- (first: the new collation would rebuild it)
drop index if exists leads_search_trgm;
alter table leads alter column search type text collate "C";
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
    drop index if exists leads_search_trgm;
    create index if not exists leads_search_tail_trgm on leads using gin (substr(search, 2) gin_trgm_ops);
    create index if not exists clients_search_trgm on clients using gin (search gin_trgm_ops);
    update office set trigram_search = true;
    return true;
end
$$;
revoke execute on function crm_enable_trigram_search() from public;
select crm_enable_trigram_search() from office where trigram_search;

analyze leads;
