-- Imports: each is a row here and an entry of the History page, and the records it created
-- point to it, so that a whole import can be undone (its records archived) while nobody has
-- touched them since.

create table imports (
    id        integer primary key,
    kind      text not null check (kind in ('leads', 'services', 'campaigns', 'clients')),
    file_name text not null,
    user_id   bigint not null references users (id),
    at        timestamp not null,
    created   bigint not null default 0,
    updated   bigint not null default 0,
    skipped   bigint not null default 0,
    rejected  bigint not null default 0,
    undone_at timestamp,
    undone_by bigint references users (id)
);
create index imports_at on imports (at, id);

alter table leads add column import_id bigint references imports (id);
alter table services add column import_id bigint references imports (id);
alter table campaigns add column import_id bigint references imports (id);
alter table clients add column import_id bigint references imports (id);
alter table contracts add column import_id bigint references imports (id);
create index leads_import on leads (import_id) where import_id is not null;
create index services_import on services (import_id) where import_id is not null;
create index campaigns_import on campaigns (import_id) where import_id is not null;
create index clients_import on clients (import_id) where import_id is not null;
create index contracts_import on contracts (import_id) where import_id is not null;
