-- The trigram index of a lead's text past its first character (migration 0026) also holds the
-- lead's status, as one trigram of private-use characters no search can type (U+E000, then
-- U+E001 new, U+E002 in work, U+E003 converted, U+E004 lost, U+E000): a search filtered by
-- status (the board's columns, the leads list with a status) asks the index for the leads of
-- that status holding its trigrams, where each lead holding them was read for its status (a
-- first name's 20,736 for the board's 977 new ones: 50 ms at a million leads, 10 now).
-- Rebuilt in full: about a minute at a million leads on a slow machine.
drop trigger leads_search_tail_added;
drop trigger leads_search_tail_changed;
drop trigger leads_search_tail_removed;
drop table leads_search_tail;

create virtual table leads_search_tail using fts5(tail, content = '', tokenize = 'trigram', detail = 'none', columnsize = 0);
insert into leads_search_tail (rowid, tail)
    select id, substr(search, 2) || ' ' || char(57344, 57345 + case status
        when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end, 57344)
    from leads;
create trigger leads_search_tail_added after insert on leads begin
    insert into leads_search_tail (rowid, tail) values (new.id, substr(new.search, 2) || ' ' || char(57344, 57345 + case new.status
        when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end, 57344));
end;
create trigger leads_search_tail_changed after update of search, status on leads
when old.search is not new.search or old.status is not new.status begin
    insert into leads_search_tail (leads_search_tail, rowid, tail) values ('delete', old.id, substr(old.search, 2) || ' ' || char(57344, 57345 + case old.status
        when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end, 57344));
    insert into leads_search_tail (rowid, tail) values (new.id, substr(new.search, 2) || ' ' || char(57344, 57345 + case new.status
        when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end, 57344));
end;
create trigger leads_search_tail_removed after delete on leads begin
    insert into leads_search_tail (leads_search_tail, rowid, tail) values ('delete', old.id, substr(old.search, 2) || ' ' || char(57344, 57345 + case old.status
        when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end, 57344));
end;
