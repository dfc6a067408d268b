// "Export" and "Print" on every list and on the statistics: Excel or CSV of everything the list
// shows (all pages, with its search, filters and sort), written by the core after the native
// save dialog; printing through the system dialog with the print layout of app.css.
import { call } from './api.js';
import { h, toast } from './dom.js';
import { t, fmtNumber } from './i18n.js';
import { withProgress } from './progress.js';

/** The export menu and the print button. `what()` gives `{ list, filter }` as shown now. */
export function exportControls(what, { canExport }) {
  const bar = h('progress', { class: 'export-progress', hidden: true });
  const label = h('span', { class: 'muted small', role: 'status' });
  const run = async (format) => {
    menu.open = false;
    try {
      const done = await withProgress(bar, () => call('export_list', { what: what(), format }));
      if (done) toast(t('export.done', { rows: fmtNumber(done.rows), file: done.file_name }));
    } catch (e) { toast(e.message, 'error'); }
  };
  const menu = h('details', { class: 'menu export-menu' },
    h('summary', { class: 'btn', 'data-action': 'export', text: t('export.button') }),
    h('div', { class: 'menu-items' },
      h('button', { type: 'button', class: 'menu-item', 'data-export': 'xlsx', text: t('export.xlsx'), onclick: () => run('xlsx') }),
      h('button', { type: 'button', class: 'menu-item', 'data-export': 'csv', text: t('export.csv'), onclick: () => run('csv') })));
  const print = h('button', { type: 'button', class: 'btn btn-ghost', 'data-action': 'print', text: t('export.print'),
    onclick: () => printPage() });
  return h('span', { class: 'export-controls' }, canExport ? menu : null, print, bar, label);
}

/** Prints the page: the print layout hides the navigation and tools and adds a title line with
 *  the filters and the date (`data-print-*` attributes read by app.css). */
export function printPage() {
  const page = document.getElementById('page');
  const title = page?.querySelector('h1')?.textContent || '';
  const filters = [...(page?.querySelectorAll('.toolbar select, .toolbar input') || [])]
    .map((el) => {
      if (el.tagName === 'SELECT') return el.value ? el.selectedOptions[0]?.textContent : '';
      if (el.type === 'checkbox') return el.checked ? (el.closest('label')?.textContent || '') : '';
      return el.value;
    })
    .filter((v) => v && v.trim())
    .join(' · ');
  const stamp = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: 'long', timeStyle: 'short' }).format(new Date());
  document.body.dataset.printTitle = title;
  document.body.dataset.printFilters = filters ? `${t('export.print_filters')}: ${filters}` : '';
  document.body.dataset.printDate = stamp;
  window.print();
}
