-- Each client's number of contracts and their total amount, kept in the transaction that
-- changes a contract (store::refresh_client_totals). With a million leads, the clients list,
-- sales per client and the statistics read these instead of aggregating every contract on
-- every read.

alter table clients add column contracts bigint not null default 0;
alter table clients add column revenue bigint not null default 0;

update clients set
    contracts = (select count(*) from contracts where contracts.client_id = clients.id),
    revenue = (select cast(coalesce(sum(amount), 0) as bigint) from contracts where contracts.client_id = clients.id);

-- sales volume per client, largest first
create index clients_revenue on clients (revenue, id) where is_archived = false;
