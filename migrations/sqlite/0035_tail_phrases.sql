-- The trigram index of a lead's text past its first character (migrations 0026, 0032) keeps
-- each trigram's positions (detail = full) and tells archived leads apart (their code U+E006 in
-- place of their status's): a search of a board's column (live leads of one status) is then a
-- phrase of the index alone, exact, where each lead the index named was read to test its text
-- with `like` and whether it was archived (a first name's board at a million leads: its four
-- columns 27 -> 14 ms in sqlite3). Case-sensitive, as the text and the searches are both lower
-- case: the phrase holds exactly where `like` does. About 107 MB more at a million leads (66 ->
-- 173 MB); rebuilt in full, about a minute at a million leads.
drop trigger leads_search_tail_added;
drop trigger leads_search_tail_changed;
drop trigger leads_search_tail_removed;
drop table leads_search_tail;

create virtual table leads_search_tail using fts5(tail, content = '', tokenize = 'trigram case_sensitive 1', detail = 'full', columnsize = 0);
insert into leads_search_tail (rowid, tail) select l.id, substr(l.search, 2) || ' ' || char(57344, case when l.is_archived then 57350 else 57345 + case l.status when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end end, 57344) from leads l;
create trigger leads_search_tail_added after insert on leads begin
    insert into leads_search_tail (rowid, tail) values (new.id, substr(new.search, 2) || ' ' || char(57344, case when new.is_archived then 57350 else 57345 + case new.status when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end end, 57344));
end;
create trigger leads_search_tail_changed after update of search, status, is_archived on leads
when old.search is not new.search or old.status is not new.status or old.is_archived is not new.is_archived begin
    insert into leads_search_tail (leads_search_tail, rowid, tail) values ('delete', old.id, substr(old.search, 2) || ' ' || char(57344, case when old.is_archived then 57350 else 57345 + case old.status when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end end, 57344));
    insert into leads_search_tail (rowid, tail) values (new.id, substr(new.search, 2) || ' ' || char(57344, case when new.is_archived then 57350 else 57345 + case new.status when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end end, 57344));
end;
create trigger leads_search_tail_removed after delete on leads begin
    insert into leads_search_tail (leads_search_tail, rowid, tail) values ('delete', old.id, substr(old.search, 2) || ' ' || char(57344, case when old.is_archived then 57350 else 57345 + case old.status when 'new' then 0 when 'in_work' then 1 when 'converted' then 2 when 'lost' then 3 else 4 end end, 57344));
end;
