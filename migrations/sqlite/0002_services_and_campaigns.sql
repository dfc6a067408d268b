-- What the company sells and where it advertises. Names are unique ignoring case: `name_key` is
-- the name lower-cased by the application (SQLite's lower() only knows ASCII, and the names are
-- Russian). Rows that others reference are archived, never deleted.

create table channels (
    id          integer primary key,
    name        text not null,
    name_key    text not null unique,
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_at  timestamp not null
);

create table services (
    id          integer primary key,
    name        text not null,
    name_key    text not null unique,
    description text not null default '',
    -- money is integer kopecks, never floating point
    price       bigint not null check (price >= 0),
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_by  bigint references users (id),
    created_at  timestamp not null,
    updated_at  timestamp not null
);

create table campaigns (
    id          integer primary key,
    name        text not null,
    name_key    text not null unique,
    service_id  bigint not null references services (id),
    channel_id  bigint not null references channels (id),
    budget      bigint not null check (budget >= 0),
    starts_on   date not null,
    ends_on     date check (ends_on is null or ends_on >= starts_on),
    -- set by the start and finish actions; the status is derived from these and the dates
    started_at  timestamp,
    finished_at timestamp,
    search      text not null,
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_by  bigint references users (id),
    created_at  timestamp not null,
    updated_at  timestamp not null
);
create index campaigns_service on campaigns (service_id);
create index campaigns_channel on campaigns (channel_id);
create index campaigns_starts_on on campaigns (starts_on);

-- The channels marketers start with; they can add their own.
insert into channels (name, name_key, created_at) values
    ('Контекстная реклама', 'контекстная реклама', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Социальные сети', 'социальные сети', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('E-mail рассылка', 'e-mail рассылка', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Наружная реклама', 'наружная реклама', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('ТВ и радио', 'тв и радио', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    ('Партнёры и рекомендации', 'партнёры и рекомендации', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
