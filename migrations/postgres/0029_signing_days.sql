-- Sales per client for a period count the clients who signed a contract in it: the period's
-- contracts whose client's previous contract is older than the period (0023). That count read
-- every contract of the period from their index: 88,000 for the last 180 days at a million
-- leads, 17 ms, the most of the page. Now kept per signing day: how many contracts of a client
-- were signed that day, and how many contracts follow one signed that day (`prev_signed_on`).
-- The period's signers are its contracts less those whose previous one is in the period too,
-- which are the contracts following one of the period's days, less those of them signed after
-- it: the sums of a few hundred days and, where contracts were signed after the period, one
-- range of an index (stats::period_counts). Kept as the list counts are (0028): a write's
-- statement triggers append its change to a delta table, the commit adds the transaction's
-- deltas, a bulk load by the owner makes them once at its end. `crm stats --verify` compares
-- them with the contracts, `--rebuild` makes them again.
create table signing_days (
    day       date primary key,
    -- contracts of a client signed on this day
    signed    bigint not null default 0,
    -- contracts of a client whose client's previous contract was signed on this day
    continued bigint not null default 0
);

create table signing_day_deltas (
    day       date not null,
    signed    bigint not null,
    continued bigint not null
);
revoke all on signing_day_deltas from public;

insert into signing_days (day, signed, continued)
select day, sum(signed), sum(continued) from (
    select signed_on as day, 1 as signed, 0 as continued from contracts where client_id is not null
    union all
    select prev_signed_on, 0, 1 from contracts where client_id is not null and prev_signed_on is not null
) x
group by day;

-- The contracts following one signed in a period, read by the day of the previous one, for a
-- period that contracts were signed after.
create index contracts_continued on contracts (prev_signed_on, signed_on, client_id)
    where client_id is not null and prev_signed_on is not null;

-- The change of one statement on contracts.
create function crm_signing_days() returns trigger
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
    if tg_op = 'INSERT' then
        insert into signing_day_deltas (day, signed, continued)
        select day, sum(signed), sum(continued) from (
            select signed_on as day, 1 as signed, 0 as continued from added where client_id is not null
            union all
            select prev_signed_on, 0, 1 from added where client_id is not null and prev_signed_on is not null
        ) x
        group by day;
    elsif tg_op = 'UPDATE' then
        insert into signing_day_deltas (day, signed, continued)
        select day, sum(signed), sum(continued) from (
            select signed_on as day, 1 as signed, 0 as continued from added where client_id is not null
            union all
            select prev_signed_on, 0, 1 from added where client_id is not null and prev_signed_on is not null
            union all
            select signed_on, -1, 0 from removed where client_id is not null
            union all
            select prev_signed_on, 0, -1 from removed where client_id is not null and prev_signed_on is not null
        ) x
        group by day
        having sum(signed) <> 0 or sum(continued) <> 0;
    else
        insert into signing_day_deltas (day, signed, continued)
        select day, -sum(signed), -sum(continued) from (
            select signed_on as day, 1 as signed, 0 as continued from removed where client_id is not null
            union all
            select prev_signed_on, 0, 1 from removed where client_id is not null and prev_signed_on is not null
        ) x
        group by day;
    end if;
    get diagnostics appended = row_count;
    if appended > 0 then
        perform crm_deltas_appended();
    end if;
    return null;
end
$$;
revoke execute on function crm_signing_days() from public;

create trigger signing_days_added after insert on contracts
    referencing new table as added for each statement execute function crm_signing_days();
create trigger signing_days_changed after update on contracts
    referencing old table as removed new table as added for each statement execute function crm_signing_days();
create trigger signing_days_removed after delete on contracts
    referencing old table as removed for each statement execute function crm_signing_days();

-- 0021's commit-time apply: the list counts, the signing days, then as before (one fixed order
-- of tables and keys).
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

    with d as (delete from signing_day_deltas returning *)
    insert into signing_days as s (day, signed, continued)
    select day, sum(signed), sum(continued) from d
    group by 1
    having sum(signed) <> 0 or sum(continued) <> 0
    order by 1
    on conflict (day) do update set signed = s.signed + excluded.signed, continued = s.continued + excluded.continued;

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

-- 0028's rebuild makes the signing days again too.
create or replace function crm_stat_rebuild() returns bigint
language plpgsql security definer set search_path from current
as $$
declare
    made bigint;
begin
    lock table stat_days, stat_months, lead_counts, stat_day_totals, list_counts, signing_days in exclusive mode;
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
    delete from signing_days;
    insert into signing_days (day, signed, continued)
    select day, sum(signed), sum(continued) from (
        select signed_on as day, 1 as signed, 0 as continued from contracts where client_id is not null
        union all
        select prev_signed_on, 0, 1 from contracts where client_id is not null and prev_signed_on is not null
    ) x
    group by day;
    return made;
end
$$;

analyze signing_days;
analyze contracts;

-- Every role sees the statistics, whose sales per client count the period's signers.
select crm_grant('perm', 'stats.view', 'select on signing_days');
