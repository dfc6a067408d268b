-- The audit log's append policy called crm_user_id() for every row inserted (a scan of the users,
-- building each one's role name): an import of 100,000 leads, whose history entries go in by one
-- insert ... select a batch, paid it 100,000 times. `(select crm_user_id())` is computed once per
-- statement, as the tasks' and saved filters' policies already do (0009). Same rule, same roles.
alter policy audit_append on audit_log with check (user_id = (select crm_user_id()));
