-- On PostgreSQL this version makes the office database enforce every role itself (login roles,
-- grants, row-level security: see migrations/postgres/0008_office_roles.sql). A SQLite file is
-- one person's, protected by their OS account; it gets the statistics views, so that the
-- statistics read the same names on both backends, and one-time passwords (an administrator's
-- reset), which must be replaced at the next sign-in.
alter table users add column must_change_password boolean not null default false;
create view stat_leads as
    select id, campaign_id, created_at, is_archived from leads;
create view stat_clients as
    select id, lead_id, full_name, search, phone, email, contracts, revenue, is_archived from clients;
create view stat_contracts as
    select client_id, signed_on, amount from contracts where client_id is not null;
