-- Every statement the app sends is prepared once per connection and executed many times. After
-- five executions PostgreSQL may switch a statement to a generic plan, made without the values
-- bound to it: for `search like $1` that plan reads the trigram index, which for a two-letter
-- search (no trigram to look up) means the whole index: 715 ms at a million leads, where the
-- plan made for the value reads the table until 1,001 rows match (0.5 ms). Plans made for the
-- values cost a fraction of a millisecond to make. Set on the database, so every session gets
-- it, PgBouncer's included (a connection parameter would not pass through it).
do $$
begin
    execute format('alter database %I set plan_cache_mode = force_custom_plan', current_database());
end
$$;
