-- The leads counted per first three characters of their search text (which starts with the
-- lower-cased name, and by which the list sorted by name is sorted), archived or not, under the
-- list name 'names:<prefix>' (a text shorter than three characters is its own prefix), kept
-- by the triggers below in the transaction of every write, as the other list counts are (0028).
-- "Go to page N" of the list sorted by name finds the prefix holding its row by a running sum
-- over them, then skips the entries of that prefix alone: skipping half a million entries of
-- the index of names took 50 ms at a million leads. `crm stats --verify` compares them with the
-- rows where the leads may be read, `--rebuild` makes them again.
insert into list_counts (list, is_archived, n)
select 'names:' || substr(search, 1, 3), is_archived, count(*) from leads group by 1, 2;

create trigger lead_name_counted after insert on leads
begin
    insert into list_counts (list, is_archived, n) values ('names:' || substr(new.search, 1, 3), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger lead_name_recounted after update of search, is_archived on leads
when substr(old.search, 1, 3) is not substr(new.search, 1, 3) or old.is_archived is not new.is_archived
begin
    insert into list_counts (list, is_archived, n) values ('names:' || substr(old.search, 1, 3), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
    insert into list_counts (list, is_archived, n) values ('names:' || substr(new.search, 1, 3), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger lead_name_uncounted after delete on leads
begin
    insert into list_counts (list, is_archived, n) values ('names:' || substr(old.search, 1, 3), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
end;

-- And the leads per status and day of creation (UTC's day: only the order matters), archived
-- or not, under 'status_days:<status>:<YYYY-MM-DD>': "go to page N" of the list sorted by
-- status finds the status and day holding its row (a few thousand rows), then skips that
-- day's entries alone; sorted by date, the days summed over the statuses do the same. The
-- first ten characters of the stored time are its UTC day.
insert into list_counts (list, is_archived, n)
select 'status_days:' || status || ':' || substr(created_at, 1, 10), is_archived, count(*) from leads group by 1, 2;

create trigger lead_day_counted after insert on leads
begin
    insert into list_counts (list, is_archived, n)
    values ('status_days:' || new.status || ':' || substr(new.created_at, 1, 10), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger lead_day_recounted after update of status, created_at, is_archived on leads
when old.status is not new.status or substr(old.created_at, 1, 10) is not substr(new.created_at, 1, 10)
  or old.is_archived is not new.is_archived
begin
    insert into list_counts (list, is_archived, n)
    values ('status_days:' || old.status || ':' || substr(old.created_at, 1, 10), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
    insert into list_counts (list, is_archived, n)
    values ('status_days:' || new.status || ':' || substr(new.created_at, 1, 10), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger lead_day_uncounted after delete on leads
begin
    insert into list_counts (list, is_archived, n)
    values ('status_days:' || old.status || ':' || substr(old.created_at, 1, 10), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
end;

-- And the leads per owner (0: none) and UTC day of creation, archived or not, under
-- 'owner_days:<owner id>:<YYYY-MM-DD>': "go to page N" of one person's leads by date (the
-- demo's operator owns all of a million: 17 ms to skip half of them) finds its day the same way.
insert into list_counts (list, is_archived, n)
select 'owner_days:' || coalesce(owner_id, 0) || ':' || substr(created_at, 1, 10), is_archived, count(*) from leads group by 1, 2;

create trigger lead_owner_day_counted after insert on leads
begin
    insert into list_counts (list, is_archived, n)
    values ('owner_days:' || coalesce(new.owner_id, 0) || ':' || substr(new.created_at, 1, 10), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger lead_owner_day_recounted after update of owner_id, created_at, is_archived on leads
when old.owner_id is not new.owner_id or substr(old.created_at, 1, 10) is not substr(new.created_at, 1, 10)
  or old.is_archived is not new.is_archived
begin
    insert into list_counts (list, is_archived, n)
    values ('owner_days:' || coalesce(old.owner_id, 0) || ':' || substr(old.created_at, 1, 10), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
    insert into list_counts (list, is_archived, n)
    values ('owner_days:' || coalesce(new.owner_id, 0) || ':' || substr(new.created_at, 1, 10), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger lead_owner_day_uncounted after delete on leads
begin
    insert into list_counts (list, is_archived, n)
    values ('owner_days:' || coalesce(old.owner_id, 0) || ':' || substr(old.created_at, 1, 10), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
end;
