-- How many leads there are per campaign, owner, status and archived or not (0 for no campaign or
-- no owner), kept by the triggers below in the transaction of every write to leads, so that the
-- lead list's total and the board's column counts read a few thousand rows instead of counting
-- a million leads. A list with a search or a date filter still counts its rows.
-- `crm stats --verify` compares them with the rows, `--rebuild` makes them again.
create table lead_counts (
    campaign_id bigint not null,
    owner_id    bigint not null,
    status      text not null,
    is_archived boolean not null,
    n           bigint not null default 0,
    primary key (campaign_id, owner_id, status, is_archived)
) without rowid;

insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
select coalesce(campaign_id, 0), coalesce(owner_id, 0), status, is_archived, count(*) from leads group by 1, 2, 3, 4;

create trigger lead_counted after insert on leads
begin
    insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
    values (coalesce(new.campaign_id, 0), coalesce(new.owner_id, 0), new.status, new.is_archived, 1)
    on conflict (campaign_id, owner_id, status, is_archived) do update set n = n + 1;
end;

create trigger lead_recounted after update of campaign_id, owner_id, status, is_archived on leads
when old.campaign_id is not new.campaign_id or old.owner_id is not new.owner_id
  or old.status is not new.status or old.is_archived is not new.is_archived
begin
    insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
    values (coalesce(old.campaign_id, 0), coalesce(old.owner_id, 0), old.status, old.is_archived, -1)
    on conflict (campaign_id, owner_id, status, is_archived) do update set n = n - 1;
    insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
    values (coalesce(new.campaign_id, 0), coalesce(new.owner_id, 0), new.status, new.is_archived, 1)
    on conflict (campaign_id, owner_id, status, is_archived) do update set n = n + 1;
end;

create trigger lead_uncounted after delete on leads
begin
    insert into lead_counts (campaign_id, owner_id, status, is_archived, n)
    values (coalesce(old.campaign_id, 0), coalesce(old.owner_id, 0), old.status, old.is_archived, -1)
    on conflict (campaign_id, owner_id, status, is_archived) do update set n = n - 1;
end;
