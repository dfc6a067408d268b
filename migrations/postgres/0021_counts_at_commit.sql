-- The kept counts (0015) and roll-ups (0014) are booked at commit, not at the write.
--
-- The triggers of 0014 and 0015 added each statement's change to its counter rows at once, so a
-- transaction held those rows locked from its write to its commit. Every lead an operator makes
-- lands on the same few rows (their own, status `new`; the campaign's day), so on a busy office
-- server new leads queued behind one another: the soak test's 32 computers spent most of their
-- waiting time there (pg_stat_activity: `Lock: transactionid` on `insert into leads`), 113 ms at
-- the 99th percentile for making a lead against 50 for editing one.
--
-- Now a write's triggers only append its change to a delta table (an insert with no key: nothing
-- to wait for), and a deferred constraint trigger adds the transaction's deltas to the counters
-- when it commits, in one fixed order of tables and keys (no two commits wait for each other
-- crosswise): the rows stay locked for the commit alone. That trigger is on a marker row, one a
-- transaction (a deferred trigger fires per row: on the delta rows themselves, a bulk action on
-- 10,000 leads would have applied 10,000 times at its commit). The figures are the same; another
-- transaction never sees a delta (it is uncommitted until applied, and applied before commit).
-- The delta tables are the owner's and only its functions touch them: no grants.

create table lead_count_deltas (
    campaign_id bigint not null,
    owner_id    bigint not null,
    status      text not null,
    is_archived boolean not null,
    n           bigint not null
);

create table stat_day_deltas (
    campaign_id bigint not null,
    day         date not null,
    leads       bigint not null,
    clients     bigint not null,
    revenue     bigint not null
);

-- One row per transaction that appended deltas: what the commit-time trigger hangs on.
create table count_delta_commits (pending boolean not null default true);

revoke all on lead_count_deltas, stat_day_deltas, count_delta_commits from public;

-- Called by the triggers below after they append deltas: the transaction's marker, once (the
-- setting is the transaction's own, and a rolled-back savepoint takes it back with its rows).
create function crm_deltas_appended() returns void
language plpgsql security definer set search_path from current
as $$
begin
    if current_setting('crm.deltas_pending', true) is distinct from 'on' then
        perform set_config('crm.deltas_pending', 'on', true);
        insert into count_delta_commits default values;
    end if;
end
$$;
revoke execute on function crm_deltas_appended() from public;

-- Adds every delta this transaction appended to the counters and removes them, at commit:
-- counts first, then days, then months, each in key order.
create function crm_apply_deltas() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    delete from count_delta_commits;
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
revoke execute on function crm_apply_deltas() from public;

create constraint trigger count_deltas_at_commit after insert on count_delta_commits
    deferrable initially deferred for each row execute function crm_apply_deltas();

-- 0015's counts, appended as deltas.
create or replace function crm_lead_counts() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    -- a bulk load by the owner counts once at its end (crm_stat_rebuild), as the roll-ups do
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    if tg_op = 'INSERT' then
        insert into lead_count_deltas (campaign_id, owner_id, status, is_archived, n)
        select coalesce(campaign_id, 0), coalesce(owner_id, 0), status, is_archived, count(*)
        from added group by 1, 2, 3, 4;
    elsif tg_op = 'UPDATE' then
        insert into lead_count_deltas (campaign_id, owner_id, status, is_archived, n)
        select x.campaign_id, x.owner_id, x.status, x.is_archived, sum(x.n)
        from (
            select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived, 1 as n
            from added
            union all
            select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived, -1 as n
            from removed
        ) x
        group by 1, 2, 3, 4
        having sum(x.n) <> 0;
    else
        insert into lead_count_deltas (campaign_id, owner_id, status, is_archived, n)
        select coalesce(campaign_id, 0), coalesce(owner_id, 0), status, is_archived, -count(*)
        from removed group by 1, 2, 3, 4;
    end if;
    perform crm_deltas_appended();
    return null;
end
$$;

-- 0014's roll-ups, appended as deltas (the months follow the days at commit).
create or replace function crm_stat_leads() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    -- each branch names only the transition tables its event has
    if tg_op = 'INSERT' then
        insert into stat_day_deltas (campaign_id, day, leads, clients, revenue)
        select x.campaign_id, x.day, sum(x.leads), sum(x.clients), sum(x.revenue)
        from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   1 as leads, (c.id is not null)::int as clients, coalesce(c.revenue, 0) as revenue
            from added l cross join office o left join clients c on c.lead_id = l.id
            where not l.is_archived and l.campaign_id is not null
        ) x
        group by x.campaign_id, x.day;
    elsif tg_op = 'UPDATE' then
        insert into stat_day_deltas (campaign_id, day, leads, clients, revenue)
        select x.campaign_id, x.day, sum(x.leads), sum(x.clients), sum(x.revenue)
        from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   1 as leads, (c.id is not null)::int as clients, coalesce(c.revenue, 0) as revenue
            from added l cross join office o left join clients c on c.lead_id = l.id
            where not l.is_archived and l.campaign_id is not null
            union all
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   -1 as leads, -(c.id is not null)::int as clients, -coalesce(c.revenue, 0) as revenue
            from removed l cross join office o left join clients c on c.lead_id = l.id
            where not l.is_archived and l.campaign_id is not null
        ) x
        group by x.campaign_id, x.day
        having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0;
    else
        insert into stat_day_deltas (campaign_id, day, leads, clients, revenue)
        select x.campaign_id, x.day, sum(x.leads), sum(x.clients), sum(x.revenue)
        from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   -1 as leads, -(c.id is not null)::int as clients, -coalesce(c.revenue, 0) as revenue
            from removed l cross join office o left join clients c on c.lead_id = l.id
            where not l.is_archived and l.campaign_id is not null
        ) x
        group by x.campaign_id, x.day;
    end if;
    perform crm_deltas_appended();
    return null;
end
$$;

create or replace function crm_stat_clients() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    -- each branch names only the transition tables its event has
    if tg_op = 'INSERT' then
        insert into stat_day_deltas (campaign_id, day, leads, clients, revenue)
        select x.campaign_id, x.day, 0, sum(x.clients), sum(x.revenue)
        from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day, 1 as clients, c.revenue as revenue
            from added c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
        ) x
        group by x.campaign_id, x.day;
    elsif tg_op = 'UPDATE' then
        insert into stat_day_deltas (campaign_id, day, leads, clients, revenue)
        select x.campaign_id, x.day, 0, sum(x.clients), sum(x.revenue)
        from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day, 1 as clients, c.revenue as revenue
            from added c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
            union all
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day, -1 as clients, -c.revenue as revenue
            from removed c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
        ) x
        group by x.campaign_id, x.day
        having sum(x.clients) <> 0 or sum(x.revenue) <> 0;
    else
        insert into stat_day_deltas (campaign_id, day, leads, clients, revenue)
        select x.campaign_id, x.day, 0, -count(*), -sum(x.revenue)
        from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day, c.revenue as revenue
            from removed c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
        ) x
        group by x.campaign_id, x.day;
    end if;
    perform crm_deltas_appended();
    return null;
end
$$;
