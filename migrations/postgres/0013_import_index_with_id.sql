-- An import writes the history entries of each batch of new leads from the rows themselves
-- (`where import_id = $ and id > (max id before the batch)`). SQLite's index on import_id holds
-- the rowid too, so that is a range scan; PostgreSQL's held only import_id and visited every
-- lead of the import so far for each batch (quadratic in the import's size). The index now ends
-- with the id on both.
drop index leads_import;
create index leads_import on leads (import_id, id) where import_id is not null;
