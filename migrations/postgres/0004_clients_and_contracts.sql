-- Active clients exist only through converting a lead: one client per lead, and the lead stays
-- (status converted) so the campaign that brought the client is never lost. Contracts may be
-- prepared before the conversion and are attached to the client then; a client may get more.

create table clients (
    id           bigint generated always as identity primary key,
    lead_id      bigint not null unique references leads (id),
    full_name    text not null,
    phone        text,
    email        text,
    note         text not null default '',
    search       text not null,
    is_archived  boolean not null default false,
    version      bigint not null default 1,
    converted_by bigint not null references users (id),
    created_at   timestamptz not null,
    updated_at   timestamptz not null
);
create index clients_created on clients (created_at, id);

create table contracts (
    id          bigint generated always as identity primary key,
    name        text not null,
    name_key    text not null unique,
    service_id  bigint not null references services (id),
    client_id   bigint references clients (id),
    signed_on   date not null,
    valid_from  date not null,
    valid_to    date not null check (valid_to >= valid_from),
    amount      bigint not null check (amount > 0),
    search      text not null,
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_by  bigint references users (id),
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);
create index contracts_client on contracts (client_id);
create index contracts_service on contracts (service_id);
create index contracts_signed on contracts (signed_on, id);

-- The signed document, in the database so every office computer sees it. Kept apart from
-- contracts so that lists never read the bytes.
create table contract_documents (
    contract_id bigint primary key references contracts (id) on delete cascade,
    file_name   text not null,
    media_type  text not null,
    size_bytes  bigint not null,
    sha256      text not null,
    content     bytea not null,
    uploaded_by bigint references users (id),
    uploaded_at timestamptz not null
);

-- Who did what: one row per write, in the same transaction.
create table audit_log (
    id        bigint generated always as identity primary key,
    at        timestamptz not null,
    user_id   bigint references users (id),
    action    text not null,
    entity    text not null,
    entity_id bigint,
    details   text not null default ''
);
create index audit_log_entity on audit_log (entity, entity_id);
