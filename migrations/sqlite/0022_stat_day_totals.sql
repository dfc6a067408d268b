-- The days of all campaigns together, for the chart of all campaigns: a year by day or week read
-- a row per campaign and day (123,511 rows for the demo's 2,000 campaigns: 24 ms at a million
-- leads); these hold at most 16 rows a day. Each campaign adds to one of 16 shares (its id
-- modulo 16), as on an office server, where one row a day would be written by every commit
-- that adds a lead. Kept by triggers on stat_days, so every writer of the roll-ups keeps them
-- too; `crm stats --verify` compares them with the days, `--rebuild` makes them again.
create table stat_day_totals (
    day     date not null,
    shard   integer not null,
    leads   bigint not null default 0,
    clients bigint not null default 0,
    revenue bigint not null default 0,
    primary key (day, shard)
) without rowid;

insert into stat_day_totals (day, shard, leads, clients, revenue)
select day, campaign_id % 16, sum(leads), sum(clients), sum(revenue) from stat_days group by 1, 2;

create trigger stat_day_totals_added after insert on stat_days
begin
    insert into stat_day_totals (day, shard, leads, clients, revenue)
    values (new.day, new.campaign_id % 16, new.leads, new.clients, new.revenue)
    on conflict (day, shard) do update set leads = stat_day_totals.leads + excluded.leads,
        clients = stat_day_totals.clients + excluded.clients, revenue = stat_day_totals.revenue + excluded.revenue;
end;

create trigger stat_day_totals_changed after update on stat_days
begin
    insert into stat_day_totals (day, shard, leads, clients, revenue)
    values (old.day, old.campaign_id % 16, -old.leads, -old.clients, -old.revenue)
    on conflict (day, shard) do update set leads = stat_day_totals.leads + excluded.leads,
        clients = stat_day_totals.clients + excluded.clients, revenue = stat_day_totals.revenue + excluded.revenue;
    insert into stat_day_totals (day, shard, leads, clients, revenue)
    values (new.day, new.campaign_id % 16, new.leads, new.clients, new.revenue)
    on conflict (day, shard) do update set leads = stat_day_totals.leads + excluded.leads,
        clients = stat_day_totals.clients + excluded.clients, revenue = stat_day_totals.revenue + excluded.revenue;
end;

create trigger stat_day_totals_removed after delete on stat_days
begin
    insert into stat_day_totals (day, shard, leads, clients, revenue)
    values (old.day, old.campaign_id % 16, -old.leads, -old.clients, -old.revenue)
    on conflict (day, shard) do update set leads = stat_day_totals.leads + excluded.leads,
        clients = stat_day_totals.clients + excluded.clients, revenue = stat_day_totals.revenue + excluded.revenue;
end;
