// Administration: users (create, edit name/active/roles/extra permissions, reset password) and
// which permissions each role has. The core refuses all of it without users.manage.
import { call } from '../api.js';
import { h, fill, toast } from '../dom.js';
import { t, fmtDate, fmtNumber } from '../i18n.js';
import { openForm } from '../form.js';

const roleLabel = (role) => (t(`role.${role.code}`) === `role.${role.code}` ? role.name : t(`role.${role.code}`));

export function render(container) {
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const body = h('div', { class: 'tab-body' });
  const show = (which) => {
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.tab === which));
    (which === 'roles' ? renderRoles : renderUsers)(body);
  };
  tabs.append(
    h('button', { class: 'tab', role: 'tab', dataset: { tab: 'users' }, text: t('admin.users'), onclick: () => show('users') }),
    h('button', { class: 'tab', role: 'tab', dataset: { tab: 'roles' }, text: t('admin.roles'), onclick: () => show('roles') }));
  fill(container, h('header', { class: 'page-header' }, h('h1', { text: t('nav.admin') })), tabs, body);
  show('users');
}

async function renderUsers(body) {
  let users;
  let roles;
  let permissions;
  try {
    [users, roles, permissions] = await Promise.all([call('list_users'), call('list_roles'), call('list_permissions')]);
  } catch (error) {
    fill(body, h('p', { class: 'error-text', text: error.message }));
    return;
  }
  const reload = () => renderUsers(body);
  const roleOptions = roles.map((r) => [r.code, roleLabel(r)]);
  const permissionOptions = permissions.map((p) => [p, t(`perm.${p}`)]);
  const rows = users.map((u) => h('tr', { class: `clickable${u.is_active ? '' : ' archived'}`, tabindex: 0, 'data-id': u.id, 'data-username': u.username,
    onclick: (e) => { if (!e.target.closest('button')) edit(u); },
    onkeydown: (e) => { if (e.key === 'Enter' && !e.target.closest('button')) edit(u); } },
  h('td', { text: u.username }),
  h('td', { text: u.full_name }),
  h('td', { text: u.roles.map((code) => roleLabel(roles.find((r) => r.code === code) || { code, name: code })).join(', ') }),
  h('td', { text: u.extra_permissions.map((p) => t(`perm.${p}`)).join(', ') || '—' }),
  h('td', {}, h('span', { class: `badge ${u.is_active ? 'badge-ok' : 'badge-muted'}`, text: u.is_active ? t('user.active') : t('user.inactive') })),
  h('td', { text: fmtDate(u.created_at) }),
  h('td', { class: 'actions-col' }, h('button', { class: 'btn btn-small btn-ghost', 'data-action': 'reset-password', text: t('user.reset_password'), onclick: () => reset(u) }))));
  // An office has tens of users, all loaded at once: the search filters the rows in place.
  const total = h('span', { class: 'list-total', text: t('list.total', { count: fmtNumber(users.length) }) });
  const nothing = h('tr', { class: 'empty-row', hidden: true }, h('td', { class: 'empty', colspan: 7 }, h('div', { class: 'empty-title', text: t('list.nothing_found') })));
  const search = h('input', { type: 'search', class: 'search', placeholder: t('list.search'), 'data-search': true, 'aria-label': t('list.search') });
  search.addEventListener('input', () => {
    const query = search.value.trim().toLocaleLowerCase();
    let shown = 0;
    rows.forEach((row, i) => {
      const user = users[i];
      row.hidden = query !== '' && !`${user.username} ${user.full_name}`.toLocaleLowerCase().includes(query);
      if (!row.hidden) shown += 1;
    });
    nothing.hidden = shown > 0;
    total.textContent = t('list.total', { count: fmtNumber(shown) });
  });
  fill(body,
    h('div', { class: 'toolbar' }, search, h('span', { class: 'spacer' }), total,
      h('button', { class: 'btn btn-primary', 'data-action': 'create', text: t('user.create'), onclick: () => create() })),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-list': 'list_users' },
      h('thead', {}, h('tr', {}, [t('user.username'), t('user.full_name'), t('user.roles'), t('user.extra_permissions'), t('user.status'), t('common.created'), ''].map((text) => h('th', { text })))),
      h('tbody', {}, rows, nothing))));

  function create() {
    openForm({
      title: t('user.create'),
      testId: 'user',
      fields: [
        { name: 'username', label: t('user.username') },
        { name: 'full_name', label: t('user.full_name') },
        { name: 'password', label: t('user.password'), type: 'password', autocomplete: 'new-password', wide: true, hint: t('user.password_hint') },
        { name: 'roles', label: t('user.roles'), type: 'checks', options: roleOptions, wide: true },
        { name: 'extra_permissions', label: t('user.extra_permissions'), type: 'checks', options: permissionOptions, wide: true },
      ],
      submit: (input) => call('create_user', { input }),
      onSaved: (u) => { toast(t('common.saved', { name: u.full_name })); reload(); },
    });
  }

  function edit(user) {
    openForm({
      title: t('user.edit', { name: user.username }),
      testId: 'user',
      fields: [
        { name: 'full_name', label: t('user.full_name'), wide: true },
        { name: 'is_active', label: t('user.active'), type: 'checkbox', wide: true },
        { name: 'roles', label: t('user.roles'), type: 'checks', options: roleOptions, wide: true },
        { name: 'extra_permissions', label: t('user.extra_permissions'), type: 'checks', options: permissionOptions, wide: true },
      ],
      values: user,
      submit: (input) => call('update_user', { id: user.id, version: user.version, input }),
      onSaved: (u) => { toast(t('common.saved', { name: u.full_name })); reload(); },
    });
  }

  function reset(user) {
    openForm({
      title: t('user.reset_password_for', { name: user.username }),
      testId: 'reset-password',
      fields: [{ name: 'password', label: t('account.new'), type: 'password', autocomplete: 'new-password', hint: t('user.password_hint') }],
      submit: ({ password }) => call('reset_password', { id: user.id, password }),
      onSaved: () => toast(t('user.password_reset_done')),
    });
  }
}

async function renderRoles(body) {
  let roles;
  let permissions;
  try {
    [roles, permissions] = await Promise.all([call('list_roles'), call('list_permissions')]);
  } catch (error) {
    fill(body, h('p', { class: 'error-text', text: error.message }));
    return;
  }
  fill(body, h('p', { class: 'muted', text: t('admin.roles_intro') }),
    h('div', { class: 'role-grid' }, roles.map((role) => roleCard(role, permissions, () => renderRoles(body)))));
}

function roleCard(role, permissions, reload) {
  const chosen = new Set(role.permissions);
  const boxes = permissions.map((p) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: p, checked: chosen.has(p) }), ' ', t(`perm.${p}`)));
  const save = h('button', { class: 'btn btn-primary btn-small', 'data-action': 'save', text: t('action.save'),
    onclick: async () => {
      const permissions = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      try {
        await call('set_role_permissions', { role_id: role.id, version: role.version, permissions });
        toast(t('common.saved', { name: roleLabel(role) }));
        reload();
      } catch (e) { toast(e.message, 'error'); }
    } });
  return h('section', { class: 'card role-card', 'data-role': role.code },
    h('h2', { text: roleLabel(role) }), h('div', { class: 'checks' }, boxes), h('div', { class: 'form-buttons' }, save));
}
