-- The live leads of each office-local day, from the roll-ups' per-day totals (0022): "go to page
-- N" of the leads list by date finds the day holding its row by a running sum over these few
-- hundred rows, then skips within that day alone, where skipping half a million entries of the
-- dates' index took 45-76 ms. The totals are the statistics' (granted with `stats.view`, revenue
-- beside the leads); whoever views leads reads their counts alone, through this function.
create function crm_live_leads_per_day() returns table (day date, n bigint)
language sql stable security definer set search_path from current
as $$
    select t.day, cast(sum(t.leads) as bigint) from stat_day_totals t group by t.day
$$;
revoke execute on function crm_live_leads_per_day() from public;
select crm_grant('perm', 'leads.view', 'execute on function crm_live_leads_per_day()');
