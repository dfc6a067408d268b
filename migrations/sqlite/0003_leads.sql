-- Potential clients. Phone (E.164) and e-mail (lower-cased) are unique among live leads; the
-- application checks first so the error can name the existing lead, and these partial indexes
-- guard against a race.

create table leads (
    id          integer primary key,
    full_name   text not null,
    phone       text,
    email       text,
    campaign_id bigint references campaigns (id),
    status      text not null default 'new'
                check (status in ('new', 'in_work', 'converted', 'lost')),
    note        text not null default '',
    -- lower-cased name, phone digits and e-mail for case-insensitive search on both backends
    search      text not null,
    is_archived boolean not null default false,
    version     bigint not null default 1,
    created_by  bigint not null references users (id),
    created_at  timestamp not null,
    updated_at  timestamp not null
);
create unique index leads_phone_live on leads (phone) where is_archived = false and phone is not null;
create unique index leads_email_live on leads (email) where is_archived = false and email is not null;
-- statistics: leads of a campaign in a period
create index leads_campaign_created on leads (campaign_id, created_at) where is_archived = false;
-- the lead list. The default shows live leads: partial indexes on exactly `is_archived = false`
-- serve its count and its page alike, newest first, by status or by name. `leads_created` serves
-- lists that include archived leads and the created-date filter over them.
create index leads_created on leads (created_at, id);
create index leads_live_created on leads (created_at, id) where is_archived = false;
create index leads_live_status on leads (status, created_at, id) where is_archived = false;
create index leads_live_name on leads (full_name, id) where is_archived = false;
