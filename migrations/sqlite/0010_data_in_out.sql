-- Data in and out: exporting what one may view (every role unless an administrator takes it
-- away), and importing (with the permission to create each kind of record as well).

insert into permissions (code, sort_order) values
    ('data.export', 92),
    ('data.import', 93);
insert into role_permissions (role_id, permission_code)
select r.id, p.code from roles r, permissions p
where p.code in ('data.export', 'data.import')
  and r.code in ('administrator', 'operator', 'marketer', 'manager');
