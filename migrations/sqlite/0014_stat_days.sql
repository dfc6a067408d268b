-- Statistics from roll-ups: per campaign and local calendar day (and month) (the day a lead was created,
-- in this computer's time zone, as the statistics' period filter reads it), the live leads, the
-- clients converted from them and those clients' contract revenue (the clients' kept totals).
-- Kept by the triggers below in the transaction of every write to leads and clients, whatever
-- the use case (a contract's change reaches it through its client's totals), so that the
-- statistics read at most one row per campaign and day instead of every lead. The raw rows
-- stay the truth: `crm stats --verify` recomputes from them, `crm stats --rebuild` repairs.
create table stat_days (
    campaign_id bigint not null,
    day         date not null,
    leads       bigint not null default 0,
    clients     bigint not null default 0,
    revenue     bigint not null default 0,
    primary key (campaign_id, day)
) without rowid;
-- a period's days of every campaign
create index stat_days_day on stat_days (day, campaign_id, leads, clients, revenue);
-- The same per calendar month (`month` is its first day): a year's statistics read twelve rows
-- of each campaign and the days of the period's broken months at its edges.
create table stat_months (
    campaign_id bigint not null,
    month       date not null,
    leads       bigint not null default 0,
    clients     bigint not null default 0,
    revenue     bigint not null default 0,
    primary key (campaign_id, month)
) without rowid;
create index stat_months_month on stat_months (month, campaign_id, leads, clients, revenue);

insert into stat_days (campaign_id, day, leads, clients, revenue)
select l.campaign_id, date(l.created_at, 'localtime'), count(*), count(c.id), coalesce(sum(c.revenue), 0)
from leads l left join clients c on c.lead_id = l.id
where l.is_archived = false and l.campaign_id is not null
group by 1, 2;
insert into stat_months (campaign_id, month, leads, clients, revenue)
select campaign_id, date(day, 'start of month'), sum(leads), sum(clients), sum(revenue)
from stat_days group by 1, 2;

-- A lead counts where it is live and has a campaign; its client, if any, with it.
create trigger stat_lead_added after insert on leads
when new.is_archived = false and new.campaign_id is not null
begin
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select new.campaign_id, date(new.created_at, 'localtime'), 1,
           (select count(*) from clients where lead_id = new.id),
           coalesce((select revenue from clients where lead_id = new.id), 0)
    where true
    on conflict (campaign_id, day) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select new.campaign_id, date(new.created_at, 'localtime', 'start of month'), 1,
           (select count(*) from clients where lead_id = new.id),
           coalesce((select revenue from clients where lead_id = new.id), 0)
    where true
    on conflict (campaign_id, month) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
end;

create trigger stat_lead_changed after update of campaign_id, created_at, is_archived on leads
when old.campaign_id is not new.campaign_id or old.created_at is not new.created_at
  or old.is_archived is not new.is_archived
begin
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select old.campaign_id, date(old.created_at, 'localtime'), -1,
           -(select count(*) from clients where lead_id = old.id),
           -coalesce((select revenue from clients where lead_id = old.id), 0)
    where old.is_archived = false and old.campaign_id is not null
    on conflict (campaign_id, day) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select old.campaign_id, date(old.created_at, 'localtime', 'start of month'), -1,
           -(select count(*) from clients where lead_id = old.id),
           -coalesce((select revenue from clients where lead_id = old.id), 0)
    where old.is_archived = false and old.campaign_id is not null
    on conflict (campaign_id, month) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select new.campaign_id, date(new.created_at, 'localtime'), 1,
           (select count(*) from clients where lead_id = new.id),
           coalesce((select revenue from clients where lead_id = new.id), 0)
    where new.is_archived = false and new.campaign_id is not null
    on conflict (campaign_id, day) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select new.campaign_id, date(new.created_at, 'localtime', 'start of month'), 1,
           (select count(*) from clients where lead_id = new.id),
           coalesce((select revenue from clients where lead_id = new.id), 0)
    where new.is_archived = false and new.campaign_id is not null
    on conflict (campaign_id, month) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
end;

create trigger stat_lead_removed after delete on leads
when old.is_archived = false and old.campaign_id is not null
begin
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select old.campaign_id, date(old.created_at, 'localtime'), -1,
           -(select count(*) from clients where lead_id = old.id),
           -coalesce((select revenue from clients where lead_id = old.id), 0)
    where true
    on conflict (campaign_id, day) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select old.campaign_id, date(old.created_at, 'localtime', 'start of month'), -1,
           -(select count(*) from clients where lead_id = old.id),
           -coalesce((select revenue from clients where lead_id = old.id), 0)
    where true
    on conflict (campaign_id, month) do update set
        leads = leads + excluded.leads, clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
end;

create trigger stat_client_added after insert on clients
begin
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime'), 0, 1, new.revenue
    from leads l where l.id = new.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, day) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime', 'start of month'), 0, 1, new.revenue
    from leads l where l.id = new.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, month) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
end;

create trigger stat_client_changed after update of lead_id, revenue on clients
when old.lead_id is not new.lead_id or old.revenue is not new.revenue
begin
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime'), 0, -1, -old.revenue
    from leads l where l.id = old.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, day) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime', 'start of month'), 0, -1, -old.revenue
    from leads l where l.id = old.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, month) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime'), 0, 1, new.revenue
    from leads l where l.id = new.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, day) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime', 'start of month'), 0, 1, new.revenue
    from leads l where l.id = new.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, month) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
end;

create trigger stat_client_removed after delete on clients
begin
    insert into stat_days (campaign_id, day, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime'), 0, -1, -old.revenue
    from leads l where l.id = old.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, day) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
    insert into stat_months (campaign_id, month, leads, clients, revenue)
    select l.campaign_id, date(l.created_at, 'localtime', 'start of month'), 0, -1, -old.revenue
    from leads l where l.id = old.lead_id and l.is_archived = false and l.campaign_id is not null
    on conflict (campaign_id, month) do update set
        clients = clients + excluded.clients, revenue = revenue + excluded.revenue;
end;
