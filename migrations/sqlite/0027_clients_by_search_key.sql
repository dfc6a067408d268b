-- Clients sorted by name are sorted by their search text, as leads are since 0026: it starts
-- with the lower-cased name, so case no longer splits the alphabet ("борисова" sat after every
-- capitalised name, "Яковлев" included), and the two lists of people sort alike.
drop index clients_live_name;
create index clients_live_name on clients (search, id) where is_archived = false;
