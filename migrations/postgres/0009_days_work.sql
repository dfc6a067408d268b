-- The day's work: who owns each lead and client, tasks with due times, notes and field changes
-- on the timeline (which is the audit log: nothing is recorded twice), and why leads are lost.
-- With their grants: see 0008 for the roles.

insert into permissions (code, sort_order) values
    ('reasons.edit', 33),
    ('notes.add', 43),
    ('owners.assign', 44),
    ('tasks.all', 70),
    ('history.view', 91),
    ('leads.merge', 45);
select crm_ensure_role(crm_role_name('perm', code))
from permissions where code in ('reasons.edit', 'notes.add', 'owners.assign', 'tasks.all', 'history.view', 'leads.merge');
insert into role_permissions (role_id, permission_code)
select r.id, p.code from roles r, permissions p
where (r.code = 'administrator' and p.code in ('reasons.edit', 'notes.add', 'owners.assign', 'tasks.all', 'history.view', 'leads.merge'))
   or (r.code = 'operator' and p.code in ('notes.add', 'leads.merge'))
   or (r.code = 'marketer' and p.code = 'reasons.edit')
   or (r.code = 'manager' and p.code = 'notes.add');

-- What changed in an update, as JSON: [{"field": "phone", "old": "...", "new": "..."}]; '' when
-- the entry is not a field edit. A note is an entry of its own (action 'note', the text in details).
alter table audit_log add column changes text not null default '';
drop index audit_log_entity;
-- a record's timeline, newest first, and the History page by period and by user
create index audit_log_entity on audit_log (entity, entity_id, id);
create index audit_log_at on audit_log (at, id);
create index audit_log_user on audit_log (user_id, at, id);

-- Why leads are lost: a list the administrator and marketers extend.
create table lost_reasons (
    id          bigint generated always as identity primary key,
    name        text not null,
    name_key    text not null unique,
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_at  timestamptz not null
);
insert into lost_reasons (name, name_key, created_at) values
    ('Дорого', 'дорого', now()),
    ('Выбрал конкурента', 'выбрал конкурента', now()),
    ('Не дозвонились', 'не дозвонились', now()),
    ('Нет потребности', 'нет потребности', now()),
    ('Неверные контакты', 'неверные контакты', now());

-- The person responsible for a lead (its creator unless chosen) and for a client (who converted it).
alter table leads add column owner_id bigint references users (id);
alter table leads add column lost_reason_id bigint references lost_reasons (id);
update leads set owner_id = created_by;
create index leads_live_owner on leads (owner_id, created_at, id) where is_archived = false;
alter table clients add column owner_id bigint references users (id);
update clients set owner_id = converted_by;
create index clients_owner on clients (owner_id, created_at, id);

-- Duplicates: a lead merged into another is archived and points at the survivor, whose
-- timeline and tasks include it. Probable duplicates are looked up among live and archived
-- leads alike by phone, e-mail and name.
alter table leads add column merged_into bigint references leads (id);
create index leads_merged_into on leads (merged_into);
create index leads_phone on leads (phone);
create index leads_email on leads (email);
create index leads_full_name on leads (full_name);

create table tasks (
    id          bigint generated always as identity primary key,
    subject     text not null,
    kind        text not null check (kind in ('call', 'meeting', 'email', 'other')),
    due_at      timestamptz not null,
    assignee_id bigint not null references users (id),
    lead_id     bigint references leads (id),
    client_id   bigint references clients (id),
    is_done     boolean not null default false,
    done_at     timestamptz,
    result      text not null default '',
    version     bigint not null default 1,
    created_by  bigint not null references users (id),
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);
create index tasks_assignee_open on tasks (assignee_id, due_at, id) where is_done = false;
create index tasks_open on tasks (due_at, id) where is_done = false;
create index tasks_lead on tasks (lead_id);
create index tasks_client on tasks (client_id);

-- A list's search, filters and sort, saved under a name by one user for themselves.
create table saved_filters (
    id         bigint generated always as identity primary key,
    user_id    bigint not null references users (id),
    list       text not null check (list in ('leads', 'clients', 'contracts', 'campaigns', 'services', 'board')),
    name       text not null,
    name_key   text not null,
    filter     text not null,
    created_at timestamptz not null,
    unique (user_id, list, name_key)
);

-- Grants. Every user writes the audit log in their own name (now with the field changes), reads
-- the reasons for the pickers, and has tasks: their own (assigned to them or set by them) unless
-- they hold tasks.all. Timelines: whoever views a kind of record reads its entries (a task's
-- entries are its lead's or client's; a task of nobody's record is read on the History page).
select crm_grant('staff', '', 'insert (at, user_id, action, entity, entity_id, details, changes) on audit_log');
select crm_grant('staff', '', 'select on lost_reasons');
select crm_grant('staff', '', 'select, insert, update on tasks');
select crm_grant('staff', '', 'select, insert, update, delete on saved_filters');
select crm_grant('perm', 'reasons.edit', 'select, insert, update on lost_reasons');
select crm_grant('perm', 'owners.assign', 'select, update (owner_id, version, updated_at) on leads, clients');
-- editing a lead no longer includes its owner: leads.edit updates every other column
do $$
begin
    execute format('revoke update on leads from %I', crm_role_name('perm', 'leads.edit'));
end
$$;
select crm_grant('perm', 'leads.edit', 'update (full_name, phone, email, campaign_id, status, note, search, is_archived,
    version, updated_at, lost_reason_id) on leads');
select crm_grant('perm', 'leads.merge', 'select, update (merged_into) on leads');
select crm_grant('perm', 'leads.view', 'select on audit_log');
select crm_grant('perm', 'clients.view', 'select on audit_log');
select crm_grant('perm', 'contracts.view', 'select on audit_log');
select crm_grant('perm', 'history.view', 'select on audit_log');
-- a client's timeline includes its contracts' entries; a card shows where the lead came from
select crm_grant('perm', 'leads.view', 'select on channels, services');
select crm_grant('perm', 'clients.view', 'select on channels, services');
select crm_grant('perm', 'clients.view', 'select (id, client_id) on contracts');
alter table tasks enable row level security;
alter table saved_filters enable row level security;
do $$
begin
    -- (select crm_user_id()) is computed once per statement, not once per row
    execute format('create policy tasks_own on tasks for all to %I
                    using (assignee_id = (select crm_user_id()) or created_by = (select crm_user_id()))
                    with check (assignee_id = (select crm_user_id()) or created_by = (select crm_user_id()))',
                   crm_role_name('staff', ''));
    execute format('create policy saved_filters_own on saved_filters for all to %I
                    using (user_id = (select crm_user_id())) with check (user_id = (select crm_user_id()))',
                   crm_role_name('staff', ''));
    execute format('create policy tasks_everyone on tasks for all to %I using (true) with check (true)',
                   crm_role_name('perm', 'tasks.all'));
    execute format('create policy audit_leads on audit_log for select to %I using (entity = ''lead'')',
                   crm_role_name('perm', 'leads.view'));
    execute format('create policy audit_clients on audit_log for select to %I
                    using (entity in (''lead'', ''client'', ''contract''))',
                   crm_role_name('perm', 'clients.view'));
    execute format('create policy audit_contracts on audit_log for select to %I using (entity = ''contract'')',
                   crm_role_name('perm', 'contracts.view'));
    execute format('create policy audit_history on audit_log for select to %I using (true)',
                   crm_role_name('perm', 'history.view'));
end
$$;
