-- Contracts found by part of their name or their client's (a contract number, a surname)
-- through a trigram index, as leads and clients are since 0016: at a million leads the list
-- read all 143,854 contracts' text for each search (14 ms), and a search matching few walked
-- the index of signing dates testing each row (a contract number: 104 ms).
create virtual table contracts_search using fts5(search, content = 'contracts', content_rowid = 'id', tokenize = 'trigram', detail = 'none');
insert into contracts_search (contracts_search) values ('rebuild');
create trigger contracts_search_added after insert on contracts begin
    insert into contracts_search (rowid, search) values (new.id, new.search);
end;
create trigger contracts_search_changed after update of search on contracts when old.search is not new.search begin
    insert into contracts_search (contracts_search, rowid, search) values ('delete', old.id, old.search);
    insert into contracts_search (rowid, search) values (new.id, new.search);
end;
create trigger contracts_search_removed after delete on contracts begin
    insert into contracts_search (contracts_search, rowid, search) values ('delete', old.id, old.search);
end;
