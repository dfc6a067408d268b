// Services the company sells: name, description, price.
import { call } from '../api.js';
import { h, toast } from '../dom.js';
import { t, fmtMoney, fmtDate, fmtPhone, moneyInput } from '../i18n.js';
import { listPage } from '../list.js';
import { openForm } from '../form.js';
import { archiveButton, bulkArchive } from '../archive.js';
import { importButton } from '../import.js';

export function render(container, ctx) {
  const canEdit = ctx.can('services.edit');
  const list = listPage(container, {
    title: t('nav.services'),
    command: 'list_services',
    exportAs: 'services',
    canExport: ctx.can('data.export'),
    bulk: canEdit ? bulkArchive('services') : null,
    headerExtra: importButton('services', ctx, () => list.reload()),
    defaultSort: { sort: 'name', direction: 'asc' },
    filters: [{ name: 'include_archived', type: 'checkbox', label: t('list.show_archived') }],
    columns: [
      { key: 'name', label: t('service.name'), sort: 'name', value: (r) => nameCell(r.name, r.is_archived) },
      { key: 'description', label: t('service.description'), class: 'muted clip' },
      { key: 'price', label: t('service.price'), sort: 'price', num: true, firstDirection: 'desc', value: (r) => fmtMoney(r.price) },
      { key: 'created_at', label: t('common.created'), sort: 'created_at', firstDirection: 'desc', value: (r) => fmtDate(r.created_at) },
    ],
    emptyText: t('service.empty'),
    emptyHint: canEdit ? t('service.empty_hint') : null,
    create: canEdit ? { label: t('service.create'), open: () => edit(null) } : null,
    onRow: canEdit ? (row) => edit(row) : null,
    actions: canEdit ? (row, reload) => archiveButton(row, 'set_service_archived', reload) : null,
  });

  function edit(service) {
    openForm({
      title: service ? t('service.edit') : t('service.create'),
      testId: 'service',
      fields: [
        { name: 'name', label: t('service.name'), wide: true },
        { name: 'price', label: t('service.price'), type: 'money' },
        { name: 'description', label: t('service.description'), type: 'textarea', wide: true },
      ],
      values: service ? { ...service, price: moneyInput(service.price) } : {},
      submit: (input) => (service
        ? call('update_service', { id: service.id, version: service.version, input })
        : call('create_service', { input })),
      onSaved: (saved) => { toast(t('common.saved', { name: saved.name })); list.reload(); },
    });
  }
}

export function nameCell(name, archived) {
  return h('span', {}, name, archived ? h('span', { class: 'badge badge-muted', text: t('common.archived') }) : null);
}

/** Phone above e-mail in one cell. */
export function contacts(row) {
  return h('span', { class: 'stack' }, h('span', { class: 'nowrap', text: fmtPhone(row.phone) }), row.email ? emailText(row.email, 'sub email') : null);
}

/** An e-mail that breaks before its `@` rather than inside a word where the room runs out
 *  (a table's cell, a card's column). */
export function emailText(email, cls = 'email') {
  const at = email.lastIndexOf('@');
  if (at <= 0) return h('span', { class: cls, text: email });
  return h('span', { class: cls }, email.slice(0, at), h('wbr'), email.slice(at));
}

/** A long text cell cut to one line, whole in its tooltip. */
export function clipped(text) {
  return text ? h('span', { class: 'clip', title: text, text }) : '—';
}
