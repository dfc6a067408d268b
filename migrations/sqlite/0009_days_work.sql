-- The day's work: who owns each lead and client, tasks with due times, notes and field changes
-- on the timeline (which is the audit log: nothing is recorded twice), and why leads are lost.

insert into permissions (code, sort_order) values
    ('reasons.edit', 33),
    ('notes.add', 43),
    ('owners.assign', 44),
    ('tasks.all', 70),
    ('history.view', 91),
    ('leads.merge', 45);
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
    id          integer primary key,
    name        text not null,
    name_key    text not null unique,
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_at  timestamp not null
);
insert into lost_reasons (name, name_key, created_at) values
    ('Дорого', 'дорого', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Выбрал конкурента', 'выбрал конкурента', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Не дозвонились', 'не дозвонились', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Нет потребности', 'нет потребности', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Неверные контакты', 'неверные контакты', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));

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
    id          integer primary key,
    subject     text not null,
    kind        text not null check (kind in ('call', 'meeting', 'email', 'other')),
    due_at      timestamp not null,
    assignee_id bigint not null references users (id),
    lead_id     bigint references leads (id),
    client_id   bigint references clients (id),
    is_done     boolean not null default false,
    done_at     timestamp,
    result      text not null default '',
    version     bigint not null default 1,
    created_by  bigint not null references users (id),
    created_at  timestamp not null,
    updated_at  timestamp not null
);
-- "my day": a person's open tasks by due time; a record's tasks on its card
create index tasks_assignee_open on tasks (assignee_id, due_at, id) where is_done = false;
create index tasks_open on tasks (due_at, id) where is_done = false;
create index tasks_lead on tasks (lead_id);
create index tasks_client on tasks (client_id);

-- A list's search, filters and sort, saved under a name by one user for themselves.
create table saved_filters (
    id         integer primary key,
    user_id    bigint not null references users (id),
    list       text not null check (list in ('leads', 'clients', 'contracts', 'campaigns', 'services', 'board')),
    name       text not null,
    name_key   text not null,
    filter     text not null,
    created_at timestamp not null,
    unique (user_id, list, name_key)
);
