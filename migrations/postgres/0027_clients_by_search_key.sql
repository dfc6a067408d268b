-- Clients sorted by name are sorted by their search text, as leads are since 0026: it starts
-- with the lower-cased name, so case no longer splits the alphabet ("борисова" sat after every
-- capitalised name on a database collated "C"), and the two lists of people sort alike. The
-- text is compared by code point, as leads' is and as SQLite compares it, so both backends
-- sort alike whatever the database's collation (the new collation rebuilds the trigram index).
drop index clients_live_name;
alter table clients alter column search type text collate "C";
create index clients_live_name on clients (search, id) where is_archived = false;
analyze clients;
