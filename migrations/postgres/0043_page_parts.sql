-- The leads counted per first three characters of their search text (which starts with the
-- lower-cased name, and by which the list sorted by name is sorted), archived or not, under the
-- list name 'names:<prefix>' (a text shorter than three characters is its own prefix), kept as
-- the other list counts are (0028: a statement's triggers append its change to the deltas, the
-- commit adds them). "Go to page N" of the list sorted by name finds the prefix holding its row
-- by a running sum over them, then skips the entries of that prefix alone: skipping half a
-- million entries of `leads_name` took 53-139 ms at a million leads (this machine's speed moves
-- by twice). `crm stats --verify` compares them with the rows where the leads may be read,
-- `--rebuild` makes them again.
--
-- And the leads per status and day of creation (UTC's day: only the order matters), archived
-- or not, under 'status_days:<status>:<YYYY-MM-DD>': "go to page N" of the list sorted by
-- status finds the status and day holding its row (a few thousand rows), then skips that
-- day's entries alone (half a million entries of the statuses' index: 38 ms); sorted by date,
-- the days summed over the statuses do the same. And per owner (0: none) and UTC day,
-- 'owner_days:<owner id>:<YYYY-MM-DD>': one person's leads by date (the demo's operator owns
-- all of a million: 60 ms to skip half of them).
insert into list_counts (list, is_archived, n)
select 'names:' || substr(search, 1, 3), is_archived, count(*) from leads group by 1, 2
union all
select 'status_days:' || status || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, count(*)
from leads group by 1, 2
union all
select 'owner_days:' || coalesce(owner_id, 0) || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, count(*)
from leads group by 1, 2;

-- 0041's statement trigger, with the leads' names and days.
create or replace function crm_list_counts() returns trigger
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
    elsif tg_table_name = 'leads' then
        if tg_op = 'INSERT' then
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, count(*)
            from (
                select 'names:' || substr(search, 1, 3) as list, is_archived from added
                union all
                select 'status_days:' || status || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived
                from added
                union all
                select 'owner_days:' || coalesce(owner_id, 0) || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived
                from added
            ) x
            group by 1, 2;
        elsif tg_op = 'UPDATE' then
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, sum(x.n)
            from (
                select 'names:' || substr(search, 1, 3) as list, is_archived, 1 as n from added
                union all
                select 'names:' || substr(search, 1, 3), is_archived, -1 from removed
                union all
                select 'status_days:' || status || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, 1
                from added
                union all
                select 'status_days:' || status || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, -1
                from removed
                union all
                select 'owner_days:' || coalesce(owner_id, 0) || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, 1
                from added
                union all
                select 'owner_days:' || coalesce(owner_id, 0) || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, -1
                from removed
            ) x
            group by 1, 2
            having sum(x.n) <> 0;
        else
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, -count(*)
            from (
                select 'names:' || substr(search, 1, 3) as list, is_archived from removed
                union all
                select 'status_days:' || status || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived
                from removed
                union all
                select 'owner_days:' || coalesce(owner_id, 0) || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived
                from removed
            ) x
            group by 1, 2;
        end if;
    else
        if tg_op = 'INSERT' then
            insert into list_count_deltas (list, is_archived, n)
            select x.list, x.is_archived, count(*)
            from (
                select 'clients' as list, is_archived from added
                union all
                select 'sold_clients', is_archived from added where contracts > 0
                union all
                select 'clients_of:' || coalesce(owner_id, 0), is_archived from added
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
                union all
                select 'clients_of:' || coalesce(owner_id, 0), is_archived, 1 from added
                union all
                select 'clients_of:' || coalesce(owner_id, 0), is_archived, -1 from removed
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
                union all
                select 'clients_of:' || coalesce(owner_id, 0), is_archived from removed
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


create trigger list_counts_leads_added after insert on leads
    referencing new table as added for each statement execute function crm_list_counts();
create trigger list_counts_leads_changed after update on leads
    referencing old table as removed new table as added for each statement execute function crm_list_counts();
create trigger list_counts_leads_removed after delete on leads
    referencing old table as removed for each statement execute function crm_list_counts();

-- 0041's rebuild makes them again too.
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
    select 'sold_clients', is_archived, count(*) from clients where contracts > 0 group by is_archived
    union all
    select 'clients_of:' || coalesce(owner_id, 0), is_archived, count(*) from clients group by 1, 2
    union all
    select 'names:' || substr(search, 1, 3), is_archived, count(*) from leads group by 1, 2
    union all
    select 'status_days:' || status || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, count(*)
    from leads group by 1, 2
    union all
    select 'owner_days:' || coalesce(owner_id, 0) || ':' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), is_archived, count(*)
    from leads group by 1, 2;
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

-- The names and days are the leads': whoever reads leads reads their counts, and nobody else
-- sees those rows (the other lists' counts stay as 0028 granted them).
select crm_grant('perm', 'leads.view', 'select on list_counts');
alter table list_counts enable row level security;
do $$
begin
    execute format('create policy list_counts_lists on list_counts for select to %I using (list not like ''names:%%'' and list not like ''status_days:%%'' and list not like ''owner_days:%%'')',
                   crm_role_name('staff', ''));
    execute format('create policy list_counts_names on list_counts for select to %I using (true)',
                   crm_role_name('perm', 'leads.view'));
end
$$;
