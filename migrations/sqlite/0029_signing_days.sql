-- Sales per client for a period count the clients who signed a contract in it: the period's
-- contracts whose client's previous contract is older than the period (0023). That count read
-- every contract of the period from their index: 88,000 for the last 180 days at a million
-- leads (on PostgreSQL 17 ms, the most of the page). Now kept per signing day: how many
-- contracts of a client were signed that day, and how many contracts follow one signed that day
-- (`prev_signed_on`). The period's signers are its contracts less those whose previous one is in
-- the period too, which are the contracts following one of the period's days, less those of
-- them signed after it: the sums of a few hundred days and, where contracts were signed after
-- the period, one range of an index (stats::period_counts). Kept by the triggers below in the
-- transaction of every write; `crm stats --verify` compares them with the contracts,
-- `--rebuild` makes them again.
create table signing_days (
    day       date primary key,
    -- contracts of a client signed on this day
    signed    bigint not null default 0,
    -- contracts of a client whose client's previous contract was signed on this day
    continued bigint not null default 0
) without rowid;

insert into signing_days (day, signed, continued)
select day, sum(signed), sum(continued) from (
    select signed_on as day, 1 as signed, 0 as continued from contracts where client_id is not null
    union all
    select prev_signed_on, 0, 1 from contracts where client_id is not null and prev_signed_on is not null
) x
group by day;

-- The contracts following one signed in a period, read by the day of the previous one, for a
-- period that contracts were signed after (client_id in it: see 0023).
create index contracts_continued on contracts (prev_signed_on, signed_on, client_id)
    where client_id is not null and prev_signed_on is not null;

create trigger contract_signing_counted after insert on contracts
when new.client_id is not null
begin
    insert into signing_days (day, signed, continued) values (new.signed_on, 1, 0)
    on conflict (day) do update set signed = signed + 1;
    insert into signing_days (day, signed, continued)
    select new.prev_signed_on, 0, 1 where new.prev_signed_on is not null
    on conflict (day) do update set continued = continued + 1;
end;

create trigger contract_signing_recounted after update of client_id, signed_on, prev_signed_on on contracts
when (old.client_id is null) is not (new.client_id is null)
     or old.signed_on is not new.signed_on
     or old.prev_signed_on is not new.prev_signed_on
begin
    insert into signing_days (day, signed, continued)
    select old.signed_on, -1, 0 where old.client_id is not null
    on conflict (day) do update set signed = signed - 1;
    insert into signing_days (day, signed, continued)
    select old.prev_signed_on, 0, -1 where old.client_id is not null and old.prev_signed_on is not null
    on conflict (day) do update set continued = continued - 1;
    insert into signing_days (day, signed, continued)
    select new.signed_on, 1, 0 where new.client_id is not null
    on conflict (day) do update set signed = signed + 1;
    insert into signing_days (day, signed, continued)
    select new.prev_signed_on, 0, 1 where new.client_id is not null and new.prev_signed_on is not null
    on conflict (day) do update set continued = continued + 1;
end;

create trigger contract_signing_uncounted after delete on contracts
when old.client_id is not null
begin
    insert into signing_days (day, signed, continued) values (old.signed_on, -1, 0)
    on conflict (day) do update set signed = signed - 1;
    insert into signing_days (day, signed, continued)
    select old.prev_signed_on, 0, -1 where old.prev_signed_on is not null
    on conflict (day) do update set continued = continued - 1;
end;

analyze contracts;
analyze signing_days;
