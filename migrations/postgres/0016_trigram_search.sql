-- Substring search of names, phone digits and e-mails through trigram indexes (pg_trgm's GIN
-- operator class) on the `search` column of leads and of clients: `like '%...%'` of three or
-- more characters reads the index. pg_trgm ships with PostgreSQL (Debian: postgresql-15) and is
-- a trusted extension, so the database owner that migrates may create it. Where the server
-- lacks it, the migration goes on without the indexes: search works, by scanning; the office
-- table says so (`trigram_search`), the app tells administrators at sign-in, and once a
-- superuser has installed the extension's package the owner runs `crm office search-indexes`
-- (this function) to create them.
alter table office add column trigram_search boolean not null default false;

create function crm_enable_trigram_search() returns boolean
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
    create index if not exists clients_search_trgm on clients using gin (search gin_trgm_ops);
    update office set trigram_search = true;
    return true;
end
$$;
revoke execute on function crm_enable_trigram_search() from public;
select crm_enable_trigram_search();
