// "Export" and "Print" on every list and on the statistics: Excel or CSV of everything the list
// shows (all pages, with its search, filters and sort), written by the core after the native
// save dialog; printing through the system dialog with the print layout of app.css.
import { call } from './api.js';
import { h, toast, appendPendingRows } from './dom.js';
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

/** The height of A4 portrait inside the margins of app.css's `@page` (265 mm), in CSS pixels,
 *  less a little for rounding: what one printed page holds. Its width (186 mm, 700 px) is
 *  `.print-measure`'s in app.css. */
const SHEET = { height: 985 };

/** What the print layout leaves out (app.css hides the same in `.print-pages`). */
const NOT_PRINTED = '.toolbar, .bulk-bar, .pager button, .pager-page, .export-controls, .page-header button, .chart, script';

/** Prints the page. WebKitGTK draws no page-margin boxes, so CSS cannot number the pages: the
 *  page's content is laid out here on sheets of A4 (tables split between rows, their header
 *  repeated), each with the title, the filters, the date and "page k of n", and the print
 *  layout shows only those sheets. */
export function printPage() {
  appendPendingRows();
  document.querySelector('.print-pages')?.remove();
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
  const head = { title, filters: filters ? `${t('export.print_filters')}: ${filters}` : '', stamp };
  const sheets = layOut(page, head);
  document.body.append(sheets);
  document.body.classList.add('printing');
  const done = () => {
    sheets.remove();
    document.body.classList.remove('printing');
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
  window.print();
}

/** The sheets of `page`'s content (see [`printPage`]), measured at the printed width. */
function layOut(page, head) {
  const sheets = h('div', { class: 'print-pages print-measure' });
  document.body.append(sheets);
  const header = () => h('div', { class: 'print-head' },
    h('div', { class: 'print-title', text: head.title }),
    head.filters ? h('div', { text: head.filters }) : null,
    h('div', { text: head.stamp }));
  const footer = h('div', { class: 'print-foot', text: t('export.print_page', { page: 99, pages: 99 }) });
  const probe = h('div', { class: 'print-sheet' }, header(), footer);
  sheets.append(probe);
  const room = SHEET.height - probe.offsetHeight;
  probe.remove();

  // the content as blocks: a table's rows one by one (its header goes on every sheet it
  // reaches), anything else whole
  const content = page.cloneNode(true);
  content.removeAttribute('id');
  content.querySelectorAll(NOT_PRINTED).forEach((el) => el.remove());
  content.querySelector('.page-header h1')?.remove();
  const blocks = [];
  const collect = (el) => {
    const table = el.matches('table') ? el : null;
    const rows = table ? [...table.tBodies].flatMap((b) => [...b.rows]) : [];
    if (table && rows.length) {
      blocks.push({ table, rows });
    } else if (el.querySelector('table') && el.children.length) {
      [...el.children].forEach(collect);
    } else {
      blocks.push({ el });
    }
  };
  [...content.children].forEach(collect);

  const pages = [];
  let sheet = null;
  let left = 0;
  const next = () => {
    sheet = h('div', { class: 'print-sheet' });
    pages.push(sheet);
    left = room;
  };
  const measured = (el) => {
    sheets.append(el);
    const height = el.offsetHeight;
    el.remove();
    return height;
  };
  next();
  for (const block of blocks) {
    if (block.el) {
      const height = measured(block.el.cloneNode(true));
      if (height > left && left < room) next();
      sheet.append(block.el);
      left -= height;
      continue;
    }
    const shell = () => {
      const copy = block.table.cloneNode(false);
      if (block.table.tHead) copy.append(block.table.tHead.cloneNode(true));
      copy.append(h('tbody'));
      return copy;
    };
    const whole = shell();
    block.rows.forEach((row) => whole.tBodies[0].append(row.cloneNode(true)));
    sheets.append(whole);
    const headHeight = whole.tHead ? whole.tHead.offsetHeight : 0;
    const heights = [...whole.tBodies[0].rows].map((row) => row.offsetHeight);
    whole.remove();
    let part = null;
    block.rows.forEach((row, i) => {
      // a row that does not fit starts a new sheet (unless the sheet is empty: a row taller
      // than a sheet is printed as it comes)
      const need = heights[i] + (part ? 0 : headHeight);
      if (need > left && left < room) {
        next();
        part = null;
      }
      if (!part) {
        part = shell();
        sheet.append(part);
        left -= headHeight;
      }
      part.tBodies[0].append(row);
      left -= heights[i];
    });
    // a total row goes under the last part
    if (block.table.tFoot) part.append(block.table.tFoot.cloneNode(true));
  }
  sheets.classList.remove('print-measure');
  pages.forEach((body, i) => {
    body.prepend(header());
    body.append(h('div', { class: 'print-foot', text: t('export.print_page', { page: i + 1, pages: pages.length }) }));
    sheets.append(body);
  });
  sheets.remove();
  return sheets;
}
