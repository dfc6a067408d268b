-- How many leads there are per campaign, owner, status and archived or not (0 for no campaign or
-- no owner), kept by the triggers below in the transaction of every write to leads, so that the
-- lead list's total and the board's column counts read a few thousand rows instead of counting
-- a million leads. A list with a search or a date filter still counts its rows. The same
-- statement-level triggers as the statistics' roll-ups (0014), owned by the owner: no staff role
-- writes a count. `crm stats --verify` compares them with the rows, `--rebuild` makes them again.
create table lead_counts (
    campaign_id bigint not null,
    owner_id    bigint not null,
    status      text not null,
    is_archived boolean not null,
    n           bigint not null default 0,
    primary key (campaign_id, owner_id, status, is_archived)
);

create function crm_lead_counts() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    -- a bulk load by the owner counts once at its end (crm_stat_rebuild), as the roll-ups do
    if current_setting('crm.stat_bulk', true) = 'on'
       and pg_has_role(session_user, (select datdba from pg_database where datname = current_database()), 'member') then
        return null;
    end if;
    if tg_op = 'INSERT' then
        insert into lead_counts as s (campaign_id, owner_id, status, is_archived, n)
        select x.campaign_id, x.owner_id, x.status, x.is_archived, sum(x.n)
        from (
            select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived, 1 as n
            from added
        ) x
        group by 1, 2, 3, 4
        having sum(x.n) <> 0
        order by 1, 2, 3, 4
        on conflict (campaign_id, owner_id, status, is_archived) do update set n = s.n + excluded.n;
    elsif tg_op = 'UPDATE' then
        insert into lead_counts as s (campaign_id, owner_id, status, is_archived, n)
        select x.campaign_id, x.owner_id, x.status, x.is_archived, sum(x.n)
        from (
            select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived, 1 as n
            from added
            union all
            select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived, -1 as n
            from removed
        ) x
        group by 1, 2, 3, 4
        having sum(x.n) <> 0
        order by 1, 2, 3, 4
        on conflict (campaign_id, owner_id, status, is_archived) do update set n = s.n + excluded.n;
    else
        insert into lead_counts as s (campaign_id, owner_id, status, is_archived, n)
        select x.campaign_id, x.owner_id, x.status, x.is_archived, sum(x.n)
        from (
            select coalesce(campaign_id, 0) as campaign_id, coalesce(owner_id, 0) as owner_id, status, is_archived, -1 as n
            from removed
        ) x
        group by 1, 2, 3, 4
        having sum(x.n) <> 0
        order by 1, 2, 3, 4
        on conflict (campaign_id, owner_id, status, is_archived) do update set n = s.n + excluded.n;
    end if;
    return null;
end
$$;
revoke execute on function crm_lead_counts() from public;

create trigger lead_counts_added after insert on leads
    referencing new table as added for each statement execute function crm_lead_counts();
create trigger lead_counts_changed after update on leads
    referencing old table as removed new table as added for each statement execute function crm_lead_counts();
create trigger lead_counts_removed after delete on leads
    referencing old table as removed for each statement execute function crm_lead_counts();

-- The rebuild of 0014 makes the counts again too.
create or replace function crm_stat_rebuild() returns bigint
language plpgsql security definer set search_path from current
as $$
declare
    made bigint;
begin
    lock table stat_days, stat_months, lead_counts in exclusive mode;
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
    return made;
end
$$;
insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
select coalesce(campaign_id, 0), coalesce(owner_id, 0), status, is_archived, count(*) from leads group by 1, 2, 3, 4;

-- Whoever sees leads sees how many there are.
select crm_grant('perm', 'leads.view', 'select on lead_counts');
