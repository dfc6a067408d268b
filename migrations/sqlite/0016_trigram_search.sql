-- Substring search of names, phone digits and e-mails through trigram indexes: an FTS5 table
-- with the trigram tokenizer over the `search` column of leads and of clients (external content:
-- the text is not stored twice), kept in step by the triggers below. A search of three or more
-- characters reads the index (`like` on it), then the rows it names are checked with the same
-- `like` as before, so what is found does not change; shorter searches still scan.
create virtual table leads_search using fts5(search, content = 'leads', content_rowid = 'id', tokenize = 'trigram', detail = 'none');
insert into leads_search (leads_search) values ('rebuild');
create trigger leads_search_added after insert on leads begin
    insert into leads_search (rowid, search) values (new.id, new.search);
end;
create trigger leads_search_changed after update of search on leads when old.search is not new.search begin
    insert into leads_search (leads_search, rowid, search) values ('delete', old.id, old.search);
    insert into leads_search (rowid, search) values (new.id, new.search);
end;
create trigger leads_search_removed after delete on leads begin
    insert into leads_search (leads_search, rowid, search) values ('delete', old.id, old.search);
end;

create virtual table clients_search using fts5(search, content = 'clients', content_rowid = 'id', tokenize = 'trigram', detail = 'none');
insert into clients_search (clients_search) values ('rebuild');
create trigger clients_search_added after insert on clients begin
    insert into clients_search (rowid, search) values (new.id, new.search);
end;
create trigger clients_search_changed after update of search on clients when old.search is not new.search begin
    insert into clients_search (clients_search, rowid, search) values ('delete', old.id, old.search);
    insert into clients_search (rowid, search) values (new.id, new.search);
end;
create trigger clients_search_removed after delete on clients begin
    insert into clients_search (clients_search, rowid, search) values ('delete', old.id, old.search);
end;
