-- Every sort a list offers has an index, so the first page of a large table is read in order
-- instead of sorted whole.

-- contracts: by amount, by the end of validity (which contracts run out soon)
create index contracts_amount on contracts (amount, id);
create index contracts_valid_to on contracts (valid_to, id);

-- campaigns: by budget, by creation time
create index campaigns_budget on campaigns (budget, id);
create index campaigns_created on campaigns (created_at, id);

-- clients: by name
create index clients_full_name on clients (full_name, id);

-- "may this campaign be deleted?" looks for any lead of it, archived ones included, which the
-- partial index on live leads cannot answer
create index leads_campaign on leads (campaign_id);
