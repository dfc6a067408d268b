-- Users, roles and permissions, Django-style: a role is a named group of permission codes; a
-- user gets roles and, on top, extra permissions of their own. The four roles ship as data and
-- the administrator may change them.

create table users (
    id            bigint generated always as identity primary key,
    username      text not null,
    -- lower-cased username: sign-in and uniqueness ignore case
    username_key  text not null unique,
    full_name     text not null,
    -- argon2id PHC string (algorithm, parameters, salt and hash)
    password_hash text not null,
    is_active     boolean not null default true,
    -- sign-in throttling: consecutive failures and when the account may try again
    failed_logins bigint not null default 0,
    locked_until  timestamptz,
    version       bigint not null default 1,
    created_at    timestamptz not null,
    updated_at    timestamptz not null
);

create table permissions (
    code       text primary key,
    sort_order bigint not null
);

create table roles (
    id         bigint generated always as identity primary key,
    code       text not null unique,
    name       text not null,
    is_builtin boolean not null default false,
    version    bigint not null default 1
);

create table role_permissions (
    role_id         bigint not null references roles (id) on delete cascade,
    permission_code text not null references permissions (code) on delete cascade,
    primary key (role_id, permission_code)
);

create table user_roles (
    user_id bigint not null references users (id) on delete cascade,
    role_id bigint not null references roles (id) on delete cascade,
    primary key (user_id, role_id)
);
create index user_roles_role on user_roles (role_id);

create table user_permissions (
    user_id         bigint not null references users (id) on delete cascade,
    permission_code text not null references permissions (code) on delete cascade,
    primary key (user_id, permission_code)
);

insert into permissions (code, sort_order) values
    ('stats.view', 10),
    ('services.view', 20),
    ('services.edit', 21),
    ('campaigns.view', 30),
    ('campaigns.edit', 31),
    ('channels.edit', 32),
    ('leads.view', 40),
    ('leads.edit', 41),
    ('leads.convert', 42),
    ('clients.view', 50),
    ('clients.edit', 51),
    ('contracts.view', 60),
    ('contracts.edit', 61),
    ('users.manage', 90);

insert into roles (code, name, is_builtin) values
    ('administrator', 'Administrator', true),
    ('operator', 'Operator', true),
    ('marketer', 'Marketer', true),
    ('manager', 'Manager', true);

insert into role_permissions (role_id, permission_code)
select r.id, p.code from roles r, permissions p where r.code = 'administrator';

insert into role_permissions (role_id, permission_code)
select r.id, p.code from roles r, permissions p
where (r.code = 'operator' and p.code in ('stats.view', 'leads.view', 'leads.edit'))
   or (r.code = 'marketer' and p.code in ('stats.view', 'services.view', 'services.edit',
                                          'campaigns.view', 'campaigns.edit', 'channels.edit'))
   or (r.code = 'manager' and p.code in ('stats.view', 'leads.view', 'leads.convert',
                                         'clients.view', 'clients.edit',
                                         'contracts.view', 'contracts.edit'));
