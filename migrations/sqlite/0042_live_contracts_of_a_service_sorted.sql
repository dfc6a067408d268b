-- The live contracts of one service sorted by amount, name or end of validity, read from an
-- index in that order: 0039 serves a service's contracts by signing date only, so any other
-- sort read all of the service's 7,500 contracts at a million leads and sorted them (by amount:
-- SQLite 47 ms, PostgreSQL 72).
create index contracts_live_service_amount on contracts (service_id, amount, id) where is_archived = false;
create index contracts_live_service_name on contracts (service_id, name_key, id) where is_archived = false;
create index contracts_live_service_valid_to on contracts (service_id, valid_to, id) where is_archived = false;

analyze contracts;
