-- Contracts found by part of their name or their client's (a contract number, a surname)
-- through pg_trgm's index, as leads and clients are since 0016: at a million leads the list
-- read all 143,854 contracts' text for each search, and a search matching few walked the index
-- of signing dates testing each row (a contract number: 72 ms). Where the server lacks pg_trgm
-- the index comes with `crm office search-indexes`, as the others do.
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
    create index if not exists contracts_search_trgm on contracts using gin (search gin_trgm_ops);
    update office set trigram_search = true;
    return true;
end
$$;
revoke execute on function crm_enable_trigram_search() from public;
select crm_enable_trigram_search() from office where trigram_search;

analyze contracts;
