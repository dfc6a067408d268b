-- How many contracts and clients there are, and how many clients have signed at least one,
-- archived or not, so that the totals of the contracts list, the clients list and sales per
-- client read two rows instead of counting 150,000 contracts or 110,000 clients (24, 11 and 32
-- ms at a million leads: sequential scans, and index-only ones of partial indexes took 10-15). A list with a search or any
-- other filter still counts its rows. Kept as the lead counts are (0015, 0021): a write's
-- statement triggers append its change to a delta table, the commit adds the transaction's
-- deltas to the counts (first, before the lead counts), a bulk load by the owner makes them
-- once at its end. Owned by the owner: no staff role writes a count. `crm stats --verify`
-- compares them with the rows, `--rebuild` makes them again.
create table list_counts (
    -- 'contracts': every contract; 'clients': every client; 'sold_clients': the clients with at
    -- least one contract
    list        text not null,
    is_archived boolean not null,
    n           bigint not null default 0,
    primary key (list, is_archived)
);

create table list_count_deltas (
    list        text not null,
    is_archived boolean not null,
    n           bigint not null
);
revoke all on list_count_deltas from public;

insert into list_counts (list, is_archived, n)
select 'contracts', is_archived, count(*) from contracts group by is_archived
union all
select 'clients', is_archived, count(*) from clients group by is_archived
union all
select 'sold_clients', is_archived, count(*) from clients where contracts > 0 group by is_archived;

-- The change of one statement on contracts or clients.
create function crm_list_counts() returns trigger
language plpgsql security definer set search_path from current
as $$
declare
    appended bigint;
begin
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    -- each branch names only the transition tables its event has
    if tg_table_name = 'contracts' then
        if tg_op = 'INSERT' then
            insert into list_count_deltas (list, is_archived, n)
            select 'contracts', is_archived, count(*) from added group by 2;
        elsif tg_op = 'UPDATE' then
            insert into list_count_deltas (list, is_archived, n)
            select 'contracts', x.is_archived, sum(x.n)
            from (select is_archived, 1 as n from added union all select is_archived, -1 as n from removed) x
            group by 2
            having sum(x.n) <> 0;
        else
            insert into list_count_deltas (list, is_archived, n)
            select 'contracts', is_archived, -count(*) from removed group by 2;
        end if;
    else
        if tg_op = 'INSERT' then
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, count(*)
            from (
                select 'clients' as list, is_archived from added
                union all
                select 'sold_clients', is_archived from added where contracts > 0
            ) x
            group by 1, 2;
        elsif tg_op = 'UPDATE' then
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, sum(x.n)
            from (
                select 'clients' as list, is_archived, 1 as n from added
                union all
                select 'clients', is_archived, -1 from removed
                union all
                select 'sold_clients', is_archived, 1 from added where contracts > 0
                union all
                select 'sold_clients', is_archived, -1 from removed where contracts > 0
            ) x
            group by 1, 2
            having sum(x.n) <> 0;
        else
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, -count(*)
            from (
                select 'clients' as list, is_archived from removed
                union all
                select 'sold_clients', is_archived from removed where contracts > 0
            ) x
            group by 1, 2;
        end if;
    end if;
    get diagnostics appended = row_count;
    if appended > 0 then
        perform crm_deltas_appended();
    end if;
    return null;
end
$$;
revoke execute on function crm_list_counts() from public;

create trigger list_counts_contracts_added after insert on contracts
    referencing new table as added for each statement execute function crm_list_counts();
create trigger list_counts_contracts_changed after update on contracts
    referencing old table as removed new table as added for each statement execute function crm_list_counts();
create trigger list_counts_contracts_removed after delete on contracts
    referencing old table as removed for each statement execute function crm_list_counts();
create trigger list_counts_clients_added after insert on clients
    referencing new table as added for each statement execute function crm_list_counts();
create trigger list_counts_clients_changed after update on clients
    referencing old table as removed new table as added for each statement execute function crm_list_counts();
create trigger list_counts_clients_removed after delete on clients
    referencing old table as removed for each statement execute function crm_list_counts();

-- 0021's commit-time apply, the list counts first (one fixed order of tables and keys).
create or replace function crm_apply_deltas() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    delete from count_delta_commits;
    with d as (delete from list_count_deltas returning *)
    insert into list_counts as s (list, is_archived, n)
    select list, is_archived, sum(n) from d
    group by 1, 2
    having sum(n) <> 0
    order by 1, 2
    on conflict (list, is_archived) do update set n = s.n + excluded.n;

    with d as (delete from lead_count_deltas returning *)
    insert into lead_counts as s (campaign_id, owner_id, status, is_archived, n)
    select campaign_id, owner_id, status, is_archived, sum(n) from d
    group by 1, 2, 3, 4
    having sum(n) <> 0
    order by 1, 2, 3, 4
    on conflict (campaign_id, owner_id, status, is_archived) do update set n = s.n + excluded.n;

    with d as (delete from stat_day_deltas returning *),
    delta as (
        select campaign_id, day, sum(leads) as leads, sum(clients) as clients, sum(revenue) as revenue from d
        group by 1, 2
        having sum(leads) <> 0 or sum(clients) <> 0 or sum(revenue) <> 0
    ), days as (
        insert into stat_days as s (campaign_id, day, leads, clients, revenue)
        select campaign_id, day, leads, clients, revenue from delta order by campaign_id, day
        on conflict (campaign_id, day) do update set
            leads = s.leads + excluded.leads, clients = s.clients + excluded.clients, revenue = s.revenue + excluded.revenue
    )
    insert into stat_months as s (campaign_id, month, leads, clients, revenue)
    select campaign_id, date_trunc('month', day)::date, sum(leads), sum(clients), sum(revenue) from delta
    group by 1, 2 order by 1, 2
    on conflict (campaign_id, month) do update set
        leads = s.leads + excluded.leads, clients = s.clients + excluded.clients, revenue = s.revenue + excluded.revenue;
    return null;
end
$$;

-- 0022's rebuild makes these again too.
create or replace function crm_stat_rebuild() returns bigint
language plpgsql security definer set search_path from current
as $$
declare
    made bigint;
begin
    lock table stat_days, stat_months, lead_counts, stat_day_totals, list_counts in exclusive mode;
    delete from stat_days;
    delete from stat_months;
    delete from lead_counts;
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select l.campaign_id, (l.created_at at time zone o.time_zone)::date, count(*), count(c.id), coalesce(sum(c.revenue), 0)
    from leads l cross join office o left join clients c on c.lead_id = l.id
    where not l.is_archived and l.campaign_id is not null
    group by 1, 2;
    get diagnostics made = row_count;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select campaign_id, date_trunc('month', day)::date, sum(leads), sum(clients), sum(revenue) from stat_days group by 1, 2;
    insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
    select coalesce(campaign_id, 0), coalesce(owner_id, 0), status, is_archived, count(*) from leads group by 1, 2, 3, 4;
    delete from stat_day_totals;
    insert into stat_day_totals (day, shard, leads, clients, revenue)
    select day, campaign_id % 16, sum(leads), sum(clients), sum(revenue) from stat_days group by 1, 2;
    delete from list_counts;
    insert into list_counts (list, is_archived, n)
    select 'contracts', is_archived, count(*) from contracts group by is_archived
    union all
    select 'clients', is_archived, count(*) from clients group by is_archived
    union all
    select 'sold_clients', is_archived, count(*) from clients where contracts > 0 group by is_archived;
    return made;
end
$$;

-- Whoever sees contracts or clients, or the statistics' sales per client, sees how many there
-- are (every role sees the statistics, whose figures count clients and their contracts).
select crm_grant('perm', 'contracts.view', 'select on list_counts');
select crm_grant('perm', 'clients.view', 'select on list_counts');
select crm_grant('perm', 'stats.view', 'select on list_counts');
