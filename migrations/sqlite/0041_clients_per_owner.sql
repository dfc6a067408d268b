-- The clients of each owner, archived or not, kept as the other list counts are (0028: by the
-- triggers below, in the transaction of every write), under the list name
-- 'clients_of:<owner id>' (0: no owner): the total of the clients list of one owner reads two
-- rows where it counted an index entry per client (0040: 4 ms for the demo manager's 111,762
-- clients at a million leads, growing with them). `crm stats --verify` compares them with the
-- rows where the clients may be read, `--rebuild` makes them again.
insert into list_counts (list, is_archived, n)
select 'clients_of:' || coalesce(owner_id, 0), is_archived, count(*) from clients group by 1, 2;

create trigger client_owner_counted after insert on clients
begin
    insert into list_counts (list, is_archived, n) values ('clients_of:' || coalesce(new.owner_id, 0), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger client_owner_recounted after update of owner_id, is_archived on clients
when old.owner_id is not new.owner_id or old.is_archived is not new.is_archived
begin
    insert into list_counts (list, is_archived, n) values ('clients_of:' || coalesce(old.owner_id, 0), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
    insert into list_counts (list, is_archived, n) values ('clients_of:' || coalesce(new.owner_id, 0), new.is_archived, 1)
    on conflict (list, is_archived) do update set n = n + 1;
end;

create trigger client_owner_uncounted after delete on clients
begin
    insert into list_counts (list, is_archived, n) values ('clients_of:' || coalesce(old.owner_id, 0), old.is_archived, -1)
    on conflict (list, is_archived) do update set n = n - 1;
end;
