-- Leads sorted by name are sorted by their search text, which starts with the lower-cased name:
-- case no longer splits the alphabet ("иванов" sat after every capitalised name), and the leads
-- whose name starts with a search are one range of the sort's index. A search sorted by name
-- then reads its first page from that range, and only the other matches (the search found
-- further into the text: "Анна" in "Петрова Анна") from a second trigram index over the text
-- without its first character, which holds no trigram of a match at the very start. A
-- surname's 12,659 matches at a million leads were each read and sorted for one page.
drop index leads_live_name;
-- every lead, archived too: the list with the archived ones sorted by name reads it as well
create index leads_name on leads (search, id, is_archived);

create virtual table leads_search_tail using fts5(tail, content = '', tokenize = 'trigram', detail = 'none', columnsize = 0);
insert into leads_search_tail (rowid, tail) select id, substr(search, 2) from leads;
create trigger leads_search_tail_added after insert on leads begin
    insert into leads_search_tail (rowid, tail) values (new.id, substr(new.search, 2));
end;
create trigger leads_search_tail_changed after update of search on leads when old.search is not new.search begin
    insert into leads_search_tail (leads_search_tail, rowid, tail) values ('delete', old.id, substr(old.search, 2));
    insert into leads_search_tail (rowid, tail) values (new.id, substr(new.search, 2));
end;
create trigger leads_search_tail_removed after delete on leads begin
    insert into leads_search_tail (leads_search_tail, rowid, tail) values ('delete', old.id, substr(old.search, 2));
end;

analyze leads;
