-- The trigram index of the text past the first character, keyed by status since 0034 (with
-- btree_gin), becomes one partial index for each status's live leads, beside the plain one that
-- searches of every status read. A search of one status's leads (the board's columns, a list
-- filtered by status) reads only that status's trigrams, where the keyed index intersected each
-- trigram's entries with the status's own (the 620,871 leads in work): a first name's board at
-- a million leads, a column's ids 10.3 -> 5.2 ms (psql: new 7.9 -> 3.0, in work 15.9 -> 10.3,
-- converted 11.0 -> 6.6, lost 10.7 -> 7.9), the board 32-36 -> 25-27 ms. pg_trgm alone serves
-- them: btree_gin, which 0034 created where it could, is no longer needed (and is left
-- installed). The searches write the status as `status || '' = 'in_work'`, a literal, as the
-- predicates do: the planner proves the predicate in every plan (a bound status cannot be
-- proven under a generic plan), and no btree index of the status serves it (given `status =
-- ...`, the planner walked a status's leads for a match it expected rare: 63 ms where the
-- partial index took 4). At a million leads the five take 241 MB (the keyed index took 102),
-- built in about 45 s.
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
    drop index if exists leads_status_tail_trgm;
    create index if not exists leads_search_tail_trgm on leads using gin (substr(search, 2) gin_trgm_ops);
    create index if not exists leads_tail_trgm_new on leads using gin (substr(search, 2) gin_trgm_ops)
        where is_archived = false and status || '' = 'new';
    create index if not exists leads_tail_trgm_in_work on leads using gin (substr(search, 2) gin_trgm_ops)
        where is_archived = false and status || '' = 'in_work';
    create index if not exists leads_tail_trgm_converted on leads using gin (substr(search, 2) gin_trgm_ops)
        where is_archived = false and status || '' = 'converted';
    create index if not exists leads_tail_trgm_lost on leads using gin (substr(search, 2) gin_trgm_ops)
        where is_archived = false and status || '' = 'lost';
    create index if not exists clients_search_trgm on clients using gin (search gin_trgm_ops);
    create index if not exists contracts_search_trgm on contracts using gin (search gin_trgm_ops);
    update office set trigram_search = true;
    return true;
end
$$;
revoke execute on function crm_enable_trigram_search() from public;
select crm_enable_trigram_search() from office where trigram_search;

analyze leads;
