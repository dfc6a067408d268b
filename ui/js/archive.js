// The archive / restore button every kind of record has: archiving asks first, restoring does
// not; `command` is the core's set_*_archived command.
import { call } from './api.js';
import { h, toast, confirmDialog } from './dom.js';
import { t } from './i18n.js';

export function archiveButton(row, command, done) {
  const name = row.name ?? row.full_name;
  return h('button', { class: 'btn btn-small btn-ghost', 'data-action': row.is_archived ? 'restore' : 'archive',
    text: row.is_archived ? t('action.restore') : t('action.archive'),
    onclick: async () => {
      if (!row.is_archived && !(await confirmDialog(t('common.archive_confirm', { name }), t('action.archive')))) return;
      try {
        await call(command, { id: row.id, version: row.version, archived: !row.is_archived });
        done();
      } catch (e) { toast(e.message, 'error'); }
    } });
}

/** Bulk archive and restore for a list of `list` ('contracts', 'campaigns', 'services'): the
 *  ticked rows, or every row matching the list's filter. */
export function bulkArchive(list) {
  return {
    actions: [
      { id: 'archive', label: t('action.archive'), prepare: () => ({ kind: 'archive' }) },
      { id: 'restore', label: t('action.restore'), prepare: () => ({ kind: 'restore' }) },
    ],
    run: (selection, action) => call('bulk_archive', { list, selection, archived: action.kind === 'archive' }),
  };
}
