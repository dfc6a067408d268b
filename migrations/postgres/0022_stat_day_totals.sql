-- The days of all campaigns together, for the chart of all campaigns: a year by day or week read
-- a row per campaign and day (123,511 rows for the demo's 2,000 campaigns: 22 ms at a million
-- leads); these hold at most 16 rows a day. Each campaign adds to one of 16 shares (its id
-- modulo 16): one row a day would be updated at the commit of every transaction that adds a
-- lead (see 0021), and concurrent commits would queue on it. Kept by statement triggers on
-- stat_days, so every writer of the roll-ups (the commit-time apply of 0021, the rebuild) keeps
-- them too, in the same order: days, months, then these, each in key order.
create table stat_day_totals (
    day     date not null,
    shard   bigint not null,
    leads   bigint not null default 0,
    clients bigint not null default 0,
    revenue bigint not null default 0,
    primary key (day, shard)
);

insert into stat_day_totals (day, shard, leads, clients, revenue)
select day, campaign_id % 16, sum(leads), sum(clients), sum(revenue) from stat_days group by 1, 2;

create function crm_stat_day_totals() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    if tg_op = 'INSERT' then
        insert into stat_day_totals as t (day, shard, leads, clients, revenue)
        select day, campaign_id % 16, sum(leads), sum(clients), sum(revenue) from added
        group by 1, 2 order by 1, 2
        on conflict (day, shard) do update set
            leads = t.leads + excluded.leads, clients = t.clients + excluded.clients, revenue = t.revenue + excluded.revenue;
    elsif tg_op = 'UPDATE' then
        insert into stat_day_totals as t (day, shard, leads, clients, revenue)
        select day, shard, sum(leads), sum(clients), sum(revenue)
        from (
            select day, campaign_id % 16 as shard, leads, clients, revenue from added
            union all
            select day, campaign_id % 16 as shard, -leads, -clients, -revenue from removed
        ) x
        group by 1, 2
        having sum(leads) <> 0 or sum(clients) <> 0 or sum(revenue) <> 0
        order by 1, 2
        on conflict (day, shard) do update set
            leads = t.leads + excluded.leads, clients = t.clients + excluded.clients, revenue = t.revenue + excluded.revenue;
    else
        insert into stat_day_totals as t (day, shard, leads, clients, revenue)
        select day, campaign_id % 16, -sum(leads), -sum(clients), -sum(revenue) from removed
        group by 1, 2 order by 1, 2
        on conflict (day, shard) do update set
            leads = t.leads + excluded.leads, clients = t.clients + excluded.clients, revenue = t.revenue + excluded.revenue;
    end if;
    return null;
end
$$;
revoke execute on function crm_stat_day_totals() from public;

create trigger stat_day_totals_added after insert on stat_days
    referencing new table as added for each statement execute function crm_stat_day_totals();
create trigger stat_day_totals_changed after update on stat_days
    referencing old table as removed new table as added for each statement execute function crm_stat_day_totals();
create trigger stat_day_totals_removed after delete on stat_days
    referencing old table as removed for each statement execute function crm_stat_day_totals();

-- The rebuild of 0015 makes these again too (from the days it has just made: whatever they
-- held before, a rebuild is the repair).
create or replace function crm_stat_rebuild() returns bigint
language plpgsql security definer set search_path from current
as $$
declare
    made bigint;
begin
    lock table stat_days, stat_months, lead_counts, stat_day_totals in exclusive mode;
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
    return made;
end
$$;

select crm_grant('perm', 'stats.view', 'select on stat_day_totals');
