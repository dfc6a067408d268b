-- The live contracts signed within dates sorted by name, amount or end of validity, sorted
-- from the dates' index alone (as SQLite's 0047).
drop index contracts_live_signed;
create index contracts_live_signed on contracts (signed_on, id) include (name_key, amount, valid_to) where is_archived = false;
