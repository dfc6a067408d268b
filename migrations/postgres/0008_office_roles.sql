-- The office database enforces every role itself. Each CRM user is a PostgreSQL login role
-- (`crm_` + username) and signs in by connecting as it; the CRM's permissions are NOLOGIN roles
-- holding exactly the privileges their use cases need, the CRM's roles are NOLOGIN group roles
-- made of permission roles, and a user's login role is a member of their groups and of their
-- extra permissions. The core still checks every permission first (clear messages, SQLite); this
-- makes psql with a staff member's own password no stronger than the window.
--
-- Names (the prefix is 'crm' unless the migrating session sets crm.role_prefix, for a second CRM
-- database on the same server; roles belong to the whole server, not to one database):
--   crm_<username>          a user's login role (the lower-cased username)
--   crm:staff               every active user: what each use case needs whatever the role
--   crm:perm:<code>         one per permission code, e.g. crm:perm:leads.edit
--   crm:role:<code>         one per CRM role, e.g. crm:role:operator
-- ':' never occurs in a username, so no user can take a group's name.
--
-- Migrations run as the database owner, which needs CREATEROLE (never a superuser). The owner
-- owns the functions below; the security-definer ones do the role changes that Administration
-- asks for, so no staff member holds CREATEROLE (which on PostgreSQL 15 could grant itself any
-- non-superuser role of the server). Every later migration that adds a table adds its grants
-- in the same file (tests/core/office.rs fails for a table or column without them).

create table office (
    id          integer primary key check (id = 1),
    role_prefix text not null check (role_prefix ~ '^[a-z][a-z0-9]{0,15}$')
);
insert into office (id, role_prefix)
values (1, coalesce(nullif(current_setting('crm.role_prefix', true), ''), 'crm'));

-- The server keeps each user's password (a SCRAM verifier in pg_authid, readable by superusers
-- only); the argon2 hashes of the local mode have no use here. Users of an office that signed in
-- through one shared login until now get one-time passwords from `crm office upgrade` and choose
-- their own at their next sign-in; an administrator's password reset is one-time too.
alter table users add column must_change_password boolean not null default false;
update users set must_change_password = true where password_hash is not null;
alter table users alter column password_hash drop not null;
update users set password_hash = null;

-- The role name of a user (kind 'user', code = username_key) or of a group.
create function crm_role_name(kind text, code text) returns text
language sql stable set search_path from current
as $$
    select case kind when 'user' then o.role_prefix || '_' || code
                     when 'staff' then o.role_prefix || ':staff'
                     else o.role_prefix || ':' || kind || ':' || code end
    from office o
$$;

-- The CRM user of this session, from the login role the server authenticated.
create function crm_user_id() returns bigint
language sql stable security definer set search_path from current
as $$
    select u.id from users u where crm_role_name('user', u.username_key) = session_user
$$;

-- Grants `privileges` (a literal of a migration, never user input) to a group.
create function crm_grant(kind text, code text, privileges text) returns void
language plpgsql set search_path from current
as $$
begin
    execute format('grant %s to %I', privileges, crm_role_name(kind, code));
end
$$;

-- Makes the server's roles and memberships match the CRM's tables: a group per CRM role made of
-- its permissions' roles, a login role per user, a member of crm:staff, of its groups and of its
-- extra permissions while active, and NOLOGIN with no membership at all once deactivated (an
-- open psql session loses its privileges at its next statement). Runs after every change of
-- users, roles and permissions (triggers below), inside the same transaction.
-- Makes `target` a member of exactly the roles `want` among the roles whose names start with
-- `family` (other memberships are not the CRM's business).
create function crm_set_members(target text, want text[], family text) returns void
language plpgsql security definer set search_path from current
as $$
declare
    have text[] := array(
        select g.rolname from pg_auth_members am
        join pg_roles g on g.oid = am.roleid join pg_roles m on m.oid = am.member
        where m.rolname = target and starts_with(g.rolname, family));
    granted text;
begin
    foreach granted in array want loop
        if not granted = any(have) then execute format('grant %I to %I', granted, target); end if;
    end loop;
    foreach granted in array have loop
        if not granted = any(want) then execute format('revoke %I from %I', granted, target); end if;
    end loop;
end
$$;

-- Creates the NOLOGIN role `name` unless it exists (a user's gets no password: nobody can sign in
-- as it until crm_set_password gives one).
create function crm_ensure_role(name text) returns void
language plpgsql security definer set search_path from current
as $$
begin
    if octet_length(name) > 63 then
        -- the server would cut the name short, and two users could share a role
        raise exception 'the role name % is longer than 63 bytes', name using errcode = 'name_too_long';
    end if;
    if not exists (select 1 from pg_roles where rolname = name) then
        execute format('create role %I nologin', name);
    end if;
end
$$;

create function crm_sync_roles() returns void
language plpgsql security definer set search_path from current
as $$
declare
    r record;
    target text;
begin
    for r in select id, code from roles loop
        target := crm_role_name('role', r.code);
        perform crm_ensure_role(target);
        perform crm_set_members(target,
            array(select crm_role_name('perm', permission_code) from role_permissions where role_id = r.id),
            crm_role_name('perm', ''));
    end loop;

    for r in select id, username_key, is_active from users loop
        target := crm_role_name('user', r.username_key);
        perform crm_ensure_role(target);
        perform crm_set_members(target,
            case when r.is_active then
                array[crm_role_name('staff', '')]
                || array(select crm_role_name('role', ro.code) from user_roles ur join roles ro on ro.id = ur.role_id
                         where ur.user_id = r.id)
                || array(select crm_role_name('perm', permission_code) from user_permissions where user_id = r.id)
            else array[]::text[] end,
            (select role_prefix from office) || ':');
        execute format('alter role %I %s', target, case when r.is_active then 'login' else 'nologin' end);
    end loop;
end
$$;

-- At commit, once per transaction: an administrator who changes their own roles keeps their
-- rights until the whole change is made (and checked: "an administrator remains").
create function crm_sync_roles_trigger() returns trigger
language plpgsql security definer set search_path from current
as $$
begin
    if current_setting('crm.roles_synced', true) is distinct from txid_current()::text then
        perform crm_sync_roles();
        perform set_config('crm.roles_synced', txid_current()::text, true);
    end if;
    return null;
end
$$;

create constraint trigger users_sync_roles after insert or update of is_active or delete on users
    deferrable initially deferred for each row execute function crm_sync_roles_trigger();
create constraint trigger user_roles_sync_roles after insert or update or delete on user_roles
    deferrable initially deferred for each row execute function crm_sync_roles_trigger();
create constraint trigger user_permissions_sync_roles after insert or update or delete on user_permissions
    deferrable initially deferred for each row execute function crm_sync_roles_trigger();
create constraint trigger role_permissions_sync_roles after insert or update or delete on role_permissions
    deferrable initially deferred for each row execute function crm_sync_roles_trigger();

-- Sets a user's password. `verifier` is a SCRAM-SHA-256 verifier computed by the app, so the
-- password itself never reaches the server (nor its log). Administration only. A one-time
-- password (a reset, an upgrade) expires after a week and must be replaced at the next sign-in.
create function crm_set_password(user_id bigint, verifier text, one_time boolean) returns void
language plpgsql security definer set search_path from current
as $$
declare
    member text := (select crm_role_name('user', username_key) from users where id = user_id);
begin
    if member is null then
        raise exception 'no user %', user_id using errcode = 'no_data_found';
    end if;
    if verifier !~ '^SCRAM-SHA-256\$' then
        raise exception 'not a SCRAM-SHA-256 verifier' using errcode = 'invalid_parameter_value';
    end if;
    -- a user created in this transaction gets their role now, not at commit
    perform crm_sync_roles();
    execute format('alter role %I password %L valid until %L', member, verifier,
                   case when one_time then (now() + interval '7 days')::text else 'infinity' end);
    update users set must_change_password = one_time where id = user_id;
end
$$;

-- Sets the signed-in user's own password (the app checked the current one first); it is theirs,
-- not a one-time password any more.
create function crm_set_own_password(verifier text) returns void
language plpgsql security definer set search_path from current
as $$
declare
    me bigint := crm_user_id();
begin
    if me is null then
        raise exception 'not a CRM user' using errcode = 'insufficient_privilege';
    end if;
    perform crm_set_password(me, verifier, false);
end
$$;

-- Functions are executable by everyone unless revoked.
revoke execute on function crm_role_name(text, text), crm_user_id(), crm_grant(text, text, text), crm_sync_roles(),
    crm_set_members(text, text[], text), crm_ensure_role(text),
    crm_sync_roles_trigger(), crm_set_password(bigint, text, boolean), crm_set_own_password(text) from public;

-- The roles, refused when another database of this server uses the same prefix.
do $$
declare
    staff text := crm_role_name('staff', '');
    owner_db text;
    p record;
begin
    select shobj_description(oid, 'pg_authid') into owner_db from pg_roles where rolname = staff;
    if owner_db is not null and owner_db <> 'CRM roles of database ' || current_database() then
        raise exception 'the PostgreSQL roles "%..." already serve another database (%): set crm.role_prefix to another prefix',
            (select role_prefix from office), owner_db;
    end if;
    if owner_db is null then
        execute format('create role %I nologin', staff);
        execute format('comment on role %I is %L', staff, 'CRM roles of database ' || current_database());
    end if;
    for p in select code from permissions loop
        if not exists (select 1 from pg_roles where rolname = crm_role_name('perm', p.code)) then
            execute format('create role %I nologin', crm_role_name('perm', p.code));
        end if;
    end loop;
    -- Only CRM staff may connect, and nobody else may create anything here.
    execute format('revoke all on database %I from public', current_database());
    execute format('grant connect on database %I to %I', current_database(), staff);
    revoke create on schema public from public;
end
$$;

-- What every signed-in user needs: who they are, what the roles are, the schema's version, and
-- appending to the audit log in their own name. Not: password hashes, sign-in counters, other
-- users' rows to change, or reading the audit log.
select crm_grant('staff', '', 'select (id, username, username_key, full_name, is_active, must_change_password, version, created_at, updated_at) on users');
select crm_grant('staff', '', 'select on permissions, roles, role_permissions, user_roles, user_permissions, office');
select crm_grant('staff', '', 'select (version, success) on _sqlx_migrations');
select crm_grant('staff', '', 'insert (at, user_id, action, entity, entity_id, details) on audit_log');
select crm_grant('staff', '', 'execute on function crm_user_id(), crm_role_name(text, text), crm_set_own_password(text)');

alter table audit_log enable row level security;
do $$
begin
    execute format('create policy audit_append on audit_log for insert to %I with check (user_id = crm_user_id())',
                   crm_role_name('staff', ''));
    execute format('create policy audit_read on audit_log for select to %I using (true)',
                   crm_role_name('perm', 'users.manage'));
end
$$;

-- Statistics: every role sees the figures, never the rows behind them. The views run with the
-- owner's rights (a view is checked as its owner) and show only what the statistics aggregate.
create view stat_leads as
    select id, campaign_id, created_at, is_archived from leads;
-- Sales per client shows client names and totals to every role; its search finds names only
-- here (phone and e-mail stay with those who may view clients).
create view stat_clients as
    select id, lead_id, full_name, lower(full_name) as search, cast(null as text) as phone, cast(null as text) as email,
           contracts, revenue, is_archived
    from clients;
create view stat_contracts as
    select client_id, signed_on, amount from contracts where client_id is not null;
select crm_grant('perm', 'stats.view', 'select on stat_leads, stat_clients, stat_contracts, campaigns, channels, services');

-- Services, campaigns and channels (marketers; the names for every role's pickers).
select crm_grant('perm', 'services.view', 'select on services');
select crm_grant('perm', 'services.edit', 'select, insert, update, delete on services');
select crm_grant('perm', 'services.edit', 'select (id, service_id) on campaigns, contracts');
select crm_grant('perm', 'campaigns.view', 'select on campaigns, services, channels');
select crm_grant('perm', 'campaigns.edit', 'select, insert, update, delete on campaigns');
select crm_grant('perm', 'campaigns.edit', 'select on services, channels');
select crm_grant('perm', 'campaigns.edit', 'select (id, campaign_id) on leads');
select crm_grant('perm', 'channels.edit', 'select, insert, update on channels');

-- Leads (operators; managers see them and convert them).
select crm_grant('perm', 'leads.view', 'select on leads, campaigns');
select crm_grant('perm', 'leads.view', 'select (id, lead_id) on clients');
select crm_grant('perm', 'leads.edit', 'select, insert, update on leads');
select crm_grant('perm', 'leads.edit', 'select on campaigns');
select crm_grant('perm', 'leads.convert', 'select, update (status, version, updated_at) on leads');
select crm_grant('perm', 'leads.convert', 'select, insert, update (contracts, revenue) on clients');
select crm_grant('perm', 'leads.convert', 'select, update (client_id, search, version, updated_at) on contracts');

-- Clients and contracts (managers).
select crm_grant('perm', 'clients.view', 'select on clients, leads, campaigns');
select crm_grant('perm', 'clients.edit', 'select, update (full_name, phone, email, note, search, is_archived, version, updated_at) on clients');
select crm_grant('perm', 'clients.edit', 'select, update (search) on contracts');
select crm_grant('perm', 'contracts.view', 'select on contracts, contract_documents, services, clients');
select crm_grant('perm', 'contracts.edit', 'select, insert, update on contracts');
select crm_grant('perm', 'contracts.edit', 'select, insert, update, delete on contract_documents');
select crm_grant('perm', 'contracts.edit', 'select, update (contracts, revenue) on clients');
select crm_grant('perm', 'contracts.edit', 'select on services');

-- Administration: users, their roles and extra permissions, what each role may do.
select crm_grant('perm', 'users.manage', 'insert (username, username_key, full_name, password_hash, created_at, updated_at) on users');
select crm_grant('perm', 'users.manage', 'update (full_name, is_active, version, updated_at) on users');
select crm_grant('perm', 'users.manage', 'select, insert, update, delete on user_roles, user_permissions, role_permissions');
select crm_grant('perm', 'users.manage', 'update (version) on roles');
select crm_grant('perm', 'users.manage', 'select on audit_log');
select crm_grant('perm', 'users.manage', 'execute on function crm_set_password(bigint, text, boolean)');

-- The roles and logins of the users that exist already (an office upgraded from one shared
-- login): they get no password here; see `crm office upgrade`.
select crm_sync_roles();
