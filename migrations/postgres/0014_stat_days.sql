-- Statistics from roll-ups: per campaign and calendar day (and month) of the office (the day a lead was
-- created, in the office's time zone below), the live leads, the clients converted from them and
-- those clients' contract revenue (the clients' kept totals). Kept by the triggers below in the
-- transaction of every write to leads and clients, whatever the use case (a contract's change
-- reaches it through its client's totals), so that the statistics read at most one row per
-- campaign and day instead of every lead. The raw rows stay the truth: `crm stats --verify`
-- recomputes from them, `crm stats --rebuild` repairs (crm_stat_rebuild, administrators).
--
-- The office's days: the time zone the server had when this migration ran (initdb takes the
-- server machine's). Every computer of the office books a lead on the same day, whatever its
-- own clock's zone and whatever a connection pooler does with session settings.
alter table office add column time_zone text not null default current_setting('TimeZone');

create table stat_days (
    campaign_id bigint not null,
    day         date not null,
    leads       bigint not null default 0,
    clients     bigint not null default 0,
    revenue     bigint not null default 0,
    primary key (campaign_id, day)
);
-- a period's days of every campaign
create index stat_days_day on stat_days (day, campaign_id) include (leads, clients, revenue);
-- The same per calendar month (`month` is its first day): a year's statistics read twelve rows
-- of each campaign and the days of the period's broken months at its edges.
create table stat_months (
    campaign_id bigint not null,
    month       date not null,
    leads       bigint not null default 0,
    clients     bigint not null default 0,
    revenue     bigint not null default 0,
    primary key (campaign_id, month)
);
create index stat_months_month on stat_months (month, campaign_id) include (leads, clients, revenue);

-- The roll-up of what a statement changed: `added` and `removed` are the transition tables of a
-- statement-level trigger (one aggregate per statement, not a call per row: an import of 100,000
-- leads is one upsert per table, its rows taken in key order so that two statements never
-- wait for each other's rows crosswise). An update that moves nothing (a status, a name) sums to zero
-- and writes nothing. Owned by the database owner and run with its rights: no staff role may
-- write the roll-ups itself, so the figures are as trustworthy as the rows.
create function crm_stat_leads() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    -- A bulk load by the database's owner (the demo generator, a restore, a move) makes the
    -- roll-ups once at its end (crm_stat_rebuild) instead: thousands of statements updating the
    -- same rows in one transaction leave each row a chain of versions to walk on every update.
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    -- each branch names only the transition tables its event has
    if tg_op = 'INSERT' then
        with delta as (
            select x.campaign_id, x.day, sum(x.leads) as leads, sum(x.clients) as clients, sum(x.revenue) as revenue
            from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   1 as leads, (c.id is not null)::int as clients, coalesce(c.revenue, 0) as revenue
            from added l cross join office o left join clients c on c.lead_id = l.id
            where not l.is_archived and l.campaign_id is not null
            ) x
            group by x.campaign_id, x.day
            having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0
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
    elsif tg_op = 'UPDATE' then
        with delta as (
            select x.campaign_id, x.day, sum(x.leads) as leads, sum(x.clients) as clients, sum(x.revenue) as revenue
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
            having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0
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
    else
        with delta as (
            select x.campaign_id, x.day, sum(x.leads) as leads, sum(x.clients) as clients, sum(x.revenue) as revenue
            from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   -1 as leads, -(c.id is not null)::int as clients, -coalesce(c.revenue, 0) as revenue
            from removed l cross join office o left join clients c on c.lead_id = l.id
            where not l.is_archived and l.campaign_id is not null
            ) x
            group by x.campaign_id, x.day
            having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0
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
    end if;
    return null;
end
$$;

create function crm_stat_clients() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    -- A bulk load by the database's owner (the demo generator, a restore, a move) makes the
    -- roll-ups once at its end (crm_stat_rebuild) instead: thousands of statements updating the
    -- same rows in one transaction leave each row a chain of versions to walk on every update.
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    -- each branch names only the transition tables its event has
    if tg_op = 'INSERT' then
        with delta as (
            select x.campaign_id, x.day, sum(x.leads) as leads, sum(x.clients) as clients, sum(x.revenue) as revenue
            from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   0 as leads, 1 as clients, c.revenue as revenue
            from added c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
            ) x
            group by x.campaign_id, x.day
            having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0
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
    elsif tg_op = 'UPDATE' then
        with delta as (
            select x.campaign_id, x.day, sum(x.leads) as leads, sum(x.clients) as clients, sum(x.revenue) as revenue
            from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   0 as leads, 1 as clients, c.revenue as revenue
            from added c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
            union all
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   0 as leads, -1 as clients, -c.revenue as revenue
            from removed c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
            ) x
            group by x.campaign_id, x.day
            having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0
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
    else
        with delta as (
            select x.campaign_id, x.day, sum(x.leads) as leads, sum(x.clients) as clients, sum(x.revenue) as revenue
            from (
            select l.campaign_id, (l.created_at at time zone o.time_zone)::date as day,
                   0 as leads, -1 as clients, -c.revenue as revenue
            from removed c cross join office o join leads l on l.id = c.lead_id
            where not l.is_archived and l.campaign_id is not null
            ) x
            group by x.campaign_id, x.day
            having sum(x.leads) <> 0 or sum(x.clients) <> 0 or sum(x.revenue) <> 0
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
    end if;
    return null;
end
$$;

create trigger stat_leads_added after insert on leads
    referencing new table as added for each statement execute function crm_stat_leads();
create trigger stat_leads_changed after update on leads
    referencing old table as removed new table as added for each statement execute function crm_stat_leads();
create trigger stat_leads_removed after delete on leads
    referencing old table as removed for each statement execute function crm_stat_leads();
create trigger stat_clients_added after insert on clients
    referencing new table as added for each statement execute function crm_stat_clients();
create trigger stat_clients_changed after update on clients
    referencing old table as removed new table as added for each statement execute function crm_stat_clients();
create trigger stat_clients_removed after delete on clients
    referencing old table as removed for each statement execute function crm_stat_clients();


-- `crm stats --rebuild`: the roll-up made again from the rows (administrators; the core checks
-- the permission first, the grant below makes the server check it too).
create function crm_stat_rebuild() returns bigint
language plpgsql security definer set search_path from current
as $$
declare
    made bigint;
begin
    lock table stat_days, stat_months in exclusive mode;
    delete from stat_days;
    delete from stat_months;
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select l.campaign_id, (l.created_at at time zone o.time_zone)::date, count(*), count(c.id), coalesce(sum(c.revenue), 0)
    from leads l cross join office o left join clients c on c.lead_id = l.id
    where not l.is_archived and l.campaign_id is not null
    group by 1, 2;
    get diagnostics made = row_count;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select campaign_id, date_trunc('month', day)::date, sum(leads), sum(clients), sum(revenue) from stat_days group by 1, 2;
    return made;
end
$$;
-- the rows already there
select crm_stat_rebuild();

revoke execute on function crm_stat_leads(), crm_stat_clients(), crm_stat_rebuild() from public;

-- Every role sees the figures (and the office's days, to verify them); administrators rebuild.
select crm_grant('perm', 'stats.view', 'select on stat_days, stat_months');
select crm_grant('perm', 'users.manage', 'execute on function crm_stat_rebuild()');
