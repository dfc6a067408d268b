// The History page: every change, latest first, by user, kind of record and period (the audit log).
import { call } from '../api.js';
import { h, toast, confirmDialog } from '../dom.js';
import { t } from '../i18n.js';
import { listPage } from '../list.js';
import { entryDetail, entryRow, openCard } from '../card.js';

const ENTITIES = ['lead', 'client', 'contract', 'task', 'service', 'campaign', 'channel', 'lost_reason', 'user', 'role', 'saved_filter', 'import'];

export function render(container, ctx) {
  const list = listPage(container, {
    title: t('nav.history'),
    command: 'history',
    noSearch: true,
    filters: [
      { name: 'user_id', type: 'select', label: t('history.user'), all: t('history.all_users'), numeric: true,
        load: () => call('user_options').then((users) => users.map((u) => [u.id, u.full_name])) },
      { name: 'entity', type: 'select', label: t('history.kind'), all: t('history.all_kinds'), options: ENTITIES.map((e) => [e, t(`history.kind_${e}`)]) },
      { name: 'from', type: 'date', label: t('stats.from') },
      { name: 'to', type: 'date', label: t('stats.to') },
    ],
    columns: [
      { key: 'at', label: t('history.what'), value: (r) => h('ul', { class: 'timeline timeline-flat' }, entryRow(r)) },
      { key: 'entity', label: t('history.record'), value: (r) => recordCell(r) },
      { key: 'undo', label: '', value: (r) => undoButton(r) },
    ],
    emptyText: t('history.empty'),
  });


  /** The record an entry is about, by its name at the time where the row does not show that
   * already, and its kind and number; a lead or client opens its card, for whoever may see it. */
  function recordCell(entry) {
    const number = `${t(`history.kind_${entry.entity}`)} №${entry.entity_id ?? ''}`;
    const name = entryDetail(entry) ? '' : entry.details;
    const kind = entry.entity;
    const may = (kind === 'lead' && ctx.can('leads.view')) || (kind === 'client' && ctx.can('clients.view'));
    const title = !may || entry.entity_id == null
      ? h('span', { text: name || number })
      : h('button', { type: 'button', class: 'link', 'data-action': 'open-record', text: name || number,
        onclick: () => openCard({ kind, id: entry.entity_id }, ctx) });
    return name ? h('div', {}, title, h('div', { class: 'muted small', text: number })) : title;
  }

  /** An import's entry offers its undo to whoever may import. */
  function undoButton(entry) {
    if (entry.entity !== 'import' || entry.action !== 'import' || !ctx.can('data.import')) return '';
    return h('button', { class: 'btn btn-small', 'data-action': 'undo-import', text: t('import.undo'),
      onclick: async (event) => {
        event.stopPropagation();
        if (!(await confirmDialog(t('import.undo_confirm'), t('import.undo'), true))) return;
        try {
          const n = await call('undo_import', { id: entry.entity_id });
          toast(t('import.undone', { n }));
          list.reload();
        } catch (e) { toast(e.message, 'error'); }
      } });
  }
}
