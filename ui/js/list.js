// One list screen: search (as typed), filters, sort by clicking a header, pages with totals,
// empty states. Each page module describes its columns and calls the core's list command.
import { call, rendered } from './api.js';
import { h, clear, fill, asTyped, toast, appendOnScreenFirst } from './dom.js';
import { t, fmtNumber, isoToInput } from './i18n.js';
import { openForm } from './form.js';
import { picker } from './picker.js';
import { dateField } from './datepicker.js';
import { exportControls } from './exporter.js';

const PAGE_SIZES = [25, 50, 100];

/** How long a bulk action runs before its bar says it is at work. */
const BULK_QUIET_MS = 400;

/**
 * command: the list command; it gets {filter: {search, sort, direction, page: {offset, limit}, ...filters}}.
 * columns: [{key, label, sort?, value(row) -> text|Node, num?}]
 * filters: [{name, label, type: select|checkbox|date, options?, value?, title?, sortsBy?: {sort, direction}}]
 * create: {label, open()} or null; onRow(row) opens it; actions(row) -> [Node].
 */
export function listPage(container, spec) {
  const state = {
    search: '',
    sort: spec.defaultSort?.sort,
    direction: spec.defaultSort?.direction,
    offset: 0,
    limit: 50,
    filters: Object.fromEntries((spec.filters || []).map((f) => [f.name, f.value ?? (f.type === 'checkbox' ? false : null)])),
    request: 0,
    // bulk selection: ticked ids, or every row the filter matches
    selected: new Set(),
    allMatching: false,
    // a bulk action is on its way (the bar takes no second one meanwhile)
    bulkRunning: false,
    lastTicked: null,
    page: null,
  };
  const bulkBar = h('div', { class: 'bulk-bar', hidden: true, 'data-bulk': '' });
  const search = h('input', { type: 'search', class: 'search', placeholder: spec.searchPlaceholder || t('list.search'), title: spec.peopleSearch ? t('search.people_hint') : null, 'data-search': true, maxlength: 200, 'aria-label': t('list.search') });
  search.addEventListener('input', asTyped(() => { state.search = search.value; state.offset = 0; return load(); }));
  const filterControls = (spec.filters || []).map((f) => filterControl(f, state, () => { state.offset = 0; load(); }));
  const total = h('span', { class: 'list-total' });
  const head = h('thead');
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  const createButton = spec.create
    ? h('button', { class: 'btn btn-primary', 'data-action': 'create', title: t('shortcut.create'), onclick: () => spec.create.open(), text: spec.create.label })
    : null;

  const saved = spec.savedAs ? savedFilters() : null;
  // every row the list matches, as filtered and sorted now, not only the page shown
  const exporter = spec.exportAs
    ? exportControls(() => ({ list: spec.exportAs, filter: currentFilter() }), { canExport: spec.canExport })
    : null;
  const table = h('table', { class: 'table', 'data-list': spec.command }, head, body);
  fill(container,
    h('header', { class: 'page-header' }, h(spec.sub ? 'h2' : 'h1', { text: spec.title }), exporter, spec.headerExtra || null, createButton),
    h('div', { class: 'toolbar' }, spec.noSearch ? null : search, filterControls, saved, h('span', { class: 'spacer' }), total),
    bulkBar,
    h('div', { class: 'table-wrap' }, table),
    pager);

  /** The user's saved filters of this list: pick one, save the current one under a name, or
   *  delete the one picked. */
  function savedFilters() {
    const select = h('select', { name: 'saved_filter', class: 'filter', 'aria-label': t('saved.title') });
    const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-action': 'delete-filter', title: t('saved.delete'), text: '✕', hidden: true });
    let items = [];
    const refill = async (chosen = '') => {
      try { items = await call('saved_filters', { list: spec.savedAs }); } catch (e) { toast(e.message, 'error'); return; }
      fill(select, h('option', { value: '', text: t('saved.title') }), ...items.map((f) => h('option', { value: String(f.id), text: f.name })));
      select.value = chosen;
      remove.hidden = !chosen;
    };
    select.addEventListener('change', () => {
      const found = items.find((f) => String(f.id) === select.value);
      remove.hidden = !found;
      if (!found) return;
      const f = found.filter;
      state.search = f.search || '';
      search.value = state.search;
      for (const name of Object.keys(state.filters)) state.filters[name] = f.filters?.[name] ?? (typeof state.filters[name] === 'boolean' ? false : null);
      for (const control of container.querySelectorAll('.toolbar [name]')) {
        if (!(control.name in state.filters)) continue;
        const value = state.filters[control.name];
        if (control.type === 'checkbox') control.checked = Boolean(value);
        else if (control.classList.contains('date-input')) control.value = value ? isoToInput(value) : '';
        else control.value = value === null || value === undefined ? '' : String(value);
      }
      if (f.sort) { state.sort = f.sort; state.direction = f.direction; }
      state.offset = 0;
      load();
    });
    remove.addEventListener('click', async () => {
      try { await call('delete_saved_filter', { id: Number(select.value) }); refill(); } catch (e) { toast(e.message, 'error'); }
    });
    const save = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-action': 'save-filter', text: t('saved.save'),
      onclick: () => openForm({
        title: t('saved.save_title'), testId: 'save-filter',
        fields: [{ name: 'name', label: t('saved.name'), wide: true }],
        submit: (v) => call('save_filter', { list: spec.savedAs, name: v.name,
          filter: { search: state.search, filters: state.filters, sort: state.sort, direction: state.direction } }),
        onSaved: (f) => { toast(t('saved.saved', { name: f.name })); refill(String(f.id)); },
      }) });
    refill();
    return h('span', { class: 'saved-filters' }, select, remove, save);
  }

  function renderHead() {
    const pick = spec.bulk ? h('th', { class: 'pick-col' }, h('input', { type: 'checkbox', 'data-action': 'select-page', 'aria-label': t('bulk.select_page'),
      onchange: (e) => {
        for (const row of state.page?.items || []) { if (e.target.checked) state.selected.add(row.id); else state.selected.delete(row.id); }
        state.allMatching = false;
        renderRows(state.page);
      } })) : null;
    const cells = spec.columns.map((c) => {
      if (!c.sort) return h('th', { class: c.num ? 'num' : '', text: c.label });
      const active = state.sort === c.sort;
      const arrow = active ? (state.direction === 'asc' ? ' ▲' : ' ▼') : '';
      return h('th', { class: c.num ? 'num' : '', 'aria-sort': active ? (state.direction === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', {
          class: 'sort', 'data-sort': c.sort, text: c.label + arrow,
          onclick: () => {
            state.direction = active && state.direction === 'asc' ? 'desc' : (active ? 'asc' : (c.firstDirection || 'asc'));
            state.sort = c.sort;
            state.offset = 0;
            load();
          },
        }));
    });
    if (spec.actions) cells.push(h('th', { class: 'actions-col', text: '' }));
    fill(head, h('tr', {}, pick, cells));
  }

  /** The filter of the list as shown: search, filters, sort and page. */
  function currentFilter() {
    const filter = { ...state.filters, search: state.search, page: { offset: state.offset, limit: state.limit } };
    if (state.sort) { filter.sort = state.sort; filter.direction = state.direction; }
    return spec.mapFilter ? spec.mapFilter(filter) : filter;
  }

  /** Reads the page at state.offset; `edge` names the row the page starts after ({after: id})
   *  or ends before ({before: id}), or asks for the last page ({last: true}): the core then
   *  finds it by that row's sort key instead of counting rows from the top. */
  async function load({ keepSelection = false, edge = null } = {}) {
    const request = ++state.request;
    // the rows shown are not yet those asked for (screen readers; tests wait on it)
    table.setAttribute('aria-busy', 'true');
    if (!keepSelection) { state.selected.clear(); state.allMatching = false; }
    const filter = currentFilter();
    if (edge) filter.page = { ...filter.page, ...edge };
    let page;
    try {
      page = await call(spec.command, { filter });
    } catch (error) {
      if (request === state.request) { table.removeAttribute('aria-busy'); renderFailure(error); }
      return;
    }
    if (request !== state.request) return;
    // a page of several parts paints them in one frame: this list waits for the others
    if (spec.beforeRender) {
      await spec.beforeRender();
      if (request !== state.request) return;
    }
    // the head (the sort's arrow) with the rows: one frame, where a head drawn at the click
    // made two, the rows' waiting for the head's to be composited (80 ms without a GPU)
    renderHead();
    // the rows on screen in this frame, the rest in the next; busy until they are all in (or
    // until a tick re-drew them all), unless another page has been asked for since
    renderRows(page, () => { if (request === state.request) table.removeAttribute('aria-busy'); });
    rendered();
  }

  /** The table's columns: the list's own, its actions and its ticks. */
  function columnCount() {
    return spec.columns.length + (spec.actions ? 1 : 0) + (spec.bulk ? 1 : 0);
  }

  /** A list the core refused to read (a search too long, say): what is wrong, in place of the
   *  rows, and no total or pager left from the list before. */
  function renderFailure(error) {
    renderHead();
    state.page = null;
    fill(body, h('tr', { class: 'empty-row' }, h('td', { class: 'empty error-text', colspan: columnCount(), role: 'alert', text: error.message })));
    total.textContent = '';
    clear(pager);
    bulkBar.hidden = true;
    clear(bulkBar);
  }

  /** Shows `page`; given `done`, the rows that can be on screen first (see appendOnScreenFirst),
   *  `done` once all are in. */
  function renderRows(page, done = null) {
    state.page = page;
    // the core may place the page otherwise than asked (the last page, the top reached early)
    state.offset = page.offset;
    clear(body);
    const span = columnCount();
    if (page.items.length === 0) {
      const filtered = state.search || Object.values(state.filters).some((v) => v !== null && v !== false && v !== '');
      body.append(h('tr', { class: 'empty-row' }, h('td', { class: 'empty', colspan: span },
        h('div', { class: 'empty-title', text: filtered ? t('list.nothing_found') : spec.emptyText || t('list.empty') }),
        !filtered && spec.emptyHint ? h('div', { class: 'empty-hint', text: spec.emptyHint }) : null,
        // a search of people this short finds the names it starts (leads::Search::Prefix)
        spec.peopleSearch && shortSearch(state.search) ? h('div', { class: 'empty-hint', text: t('search.people_hint') }) : null)));
    }
    const rows = page.items.map((row, index) => {
      const ticked = state.allMatching || state.selected.has(row.id);
      const pick = spec.bulk ? h('td', { class: 'pick-col' }, h('input', { type: 'checkbox', checked: ticked, disabled: state.allMatching, 'data-action': 'select', 'aria-label': t('bulk.select_row'),
        onclick: (e) => {
          // shift-click ticks (or unticks) the whole range from the last row ticked
          const from = e.shiftKey && state.lastTicked !== null ? Math.min(state.lastTicked, index) : index;
          const to = e.shiftKey && state.lastTicked !== null ? Math.max(state.lastTicked, index) : index;
          for (const r of page.items.slice(from, to + 1)) { if (e.target.checked) state.selected.add(r.id); else state.selected.delete(r.id); }
          state.lastTicked = index;
          renderRows(page);
        } })) : null;
      const tr = h('tr', { class: spec.onRow ? 'clickable' : '', tabindex: spec.onRow ? 0 : null, 'data-id': row.id ?? row.client_id ?? '', 'data-name': row.full_name ?? row.name ?? '' },
        pick,
        spec.columns.map((c) => {
          const value = c.value ? c.value(row) : row[c.key];
          return h('td', { class: [c.num ? 'num' : '', c.class || ''].join(' ').trim(), 'data-col': c.key }, value instanceof Node ? value : String(value ?? ''));
        }),
        spec.actions ? h('td', { class: 'actions-col' }, spec.actions(row, load)) : null);
      if (row.is_archived) tr.classList.add('archived');
      if (ticked) tr.classList.add('selected');
      if (spec.onRow) {
        tr.addEventListener('click', (event) => { if (!event.target.closest('button, input, select, a')) spec.onRow(row, load); });
        tr.addEventListener('keydown', (event) => { if (event.key === 'Enter' && event.target === tr) spec.onRow(row, load); });
      }
      return tr;
    });
    if (done) appendOnScreenFirst(body, rows, done);
    else body.append(...rows);
    total.textContent = t(page.capped ? 'list.total_capped' : 'list.total', { count: fmtNumber(page.total) });
    renderPager(page);
    renderBulk(page);
  }

  /** The bar over the table while rows are ticked: how many, "all N matching", the actions. */
  function renderBulk(page) {
    if (!spec.bulk) return;
    const count = state.allMatching ? page.total : state.selected.size;
    // a search counted up to a bound: "more than 1,000", not a number
    const matching = page.capped ? t('list.more_than', { count: fmtNumber(page.total) }) : fmtNumber(page.total);
    bulkBar.hidden = count === 0;
    if (count === 0) { clear(bulkBar); return; }
    const all = !spec.bulk.idsOnly && !state.allMatching && page.total > state.selected.size
      ? h('button', { class: 'btn btn-ghost btn-small', 'data-action': 'select-all', text: t('bulk.select_all', { count: matching }),
        onclick: () => { state.allMatching = true; renderRows(page); } }) : null;
    const actions = spec.bulk.actions.map((a) => h('button', { class: 'btn btn-small', 'data-bulk-action': a.id, text: a.label,
      onclick: async () => {
        // thousands of records take seconds on an office server: the bar takes no second action
        // meanwhile, and past a moment says it is at work (a still line, not a spinner: an
        // animation is painted on the same two cores the change needs; a quick change shows none)
        if (state.bulkRunning) return;
        state.bulkRunning = true;
        try {
          const action = await a.prepare();
          if (!action) return;
          const selection = state.allMatching
            ? { kind: 'matching', filter: { ...state.filters, search: state.search } }
            : { kind: 'ids', ids: [...state.selected] };
          const buttons = [...bulkBar.querySelectorAll('button')];
          const working = h('span', { class: 'muted', 'data-bulk-working': '', text: t('bulk.working') });
          const slow = setTimeout(() => {
            // (the line in the buttons' place: the bar keeps its one line, the table stays put)
            for (const button of buttons) { button.disabled = true; button.hidden = true; }
            bulkBar.append(working);
            bulkBar.setAttribute('aria-busy', 'true');
          }, BULK_QUIET_MS);
          let summary;
          try {
            summary = spec.bulk.run ? await spec.bulk.run(selection, action) : await call(spec.bulk.command, { selection, action });
          } catch (e) { toast(e.message, 'error'); return; } finally {
            clearTimeout(slow);
            for (const button of buttons) { button.disabled = false; button.hidden = false; }
            working.remove();
            bulkBar.removeAttribute('aria-busy');
          }
          showSummary(summary);
          load();
        } finally {
          state.bulkRunning = false;
        }
      } }));
    fill(bulkBar,
      h('strong', { 'data-selected': count, text: t('bulk.selected', { count: state.allMatching ? matching : fmtNumber(count) }) }), all, ...actions,
      h('button', { class: 'btn btn-ghost btn-small', 'data-action': 'clear-selection', text: t('bulk.clear'),
        onclick: () => { state.selected.clear(); state.allMatching = false; renderRows(page); } }));
  }

  function renderPager(page) {
    // an empty list has no pages to go through ("0-0 of 0", page 1 of 1)
    if (page.total === 0 && page.offset === 0 && !page.capped) { clear(pager); return; }
    const from = page.total === 0 ? 0 : page.offset + 1;
    const to = Math.min(page.offset + page.items.length, page.total);
    const size = h('select', { 'aria-label': t('list.page_size'), onchange: (e) => { state.limit = Number(e.target.value); state.offset = 0; load(); } },
      PAGE_SIZES.map((n) => h('option', { value: n, text: t('list.per_page', { count: n }) })));
    size.value = String(state.limit);
    // a capped total ("more than 10,000") has no last page to offer
    const pages = Math.max(1, Math.ceil(page.total / state.limit));
    const current = Math.floor(page.offset / state.limit) + 1;
    const go = (n) => {
      const to = Math.min(Math.max(1, n), pages);
      state.offset = (to - 1) * state.limit;
      load({ keepSelection: true, edge: to === pages && pages > 1 && !page.capped ? { last: true } : null });
    };
    // an empty field (cleared to type another number) goes nowhere
    const goTo = (value) => { const n = Number(value); if (value !== '' && Number.isInteger(n) && n !== current) go(n); };
    const edgeId = (row) => (row && row.id != null ? row.id : null);
    const step = (by, edge) => {
      state.offset = Math.max(0, state.offset + by);
      load({ keepSelection: true, edge: state.offset > 0 && edge != null ? edge : null });
    };
    const number = h('input', { type: 'number', class: 'page-input', min: 1, max: pages, value: current, 'aria-label': t('list.go_to_page'), 'data-action': 'page',
      onchange: (e) => goTo(e.target.value),
      onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); goTo(e.target.value); } } });
    const last = page.capped ? page.items.length < state.limit : page.offset + page.items.length >= page.total;
    fill(pager,
      h('span', { class: 'pager-range', text: t(page.capped ? 'list.range_capped' : 'list.range', { from: fmtNumber(from), to: fmtNumber(to), total: fmtNumber(page.total) }) }),
      size,
      h('button', { class: 'btn btn-small', 'data-action': 'first', disabled: page.offset === 0, title: t('list.first'), text: '«', onclick: () => go(1) }),
      h('button', { class: 'btn btn-small', 'data-action': 'prev', disabled: page.offset === 0, text: t('list.prev'),
        onclick: () => step(-state.limit, edgeId(page.items[0]) != null ? { before: edgeId(page.items[0]) } : null) }),
      h('label', { class: 'pager-page' }, number, page.capped ? null : h('span', { text: t('list.of_pages', { pages: fmtNumber(pages) }) })),
      h('button', { class: 'btn btn-small', 'data-action': 'next', disabled: last, text: t('list.next'),
        onclick: () => step(state.limit, edgeId(page.items.at(-1)) != null ? { after: edgeId(page.items.at(-1)) } : null) }),
      page.capped ? null : h('button', { class: 'btn btn-small', 'data-action': 'last', disabled: last, title: t('list.last'), text: '»', onclick: () => go(pages) }));
  }

  load();
  return { reload: () => load({ keepSelection: false }), state };
}

/** Whether a search is one or two characters, as the core reads it (white space folded): the
 *  core's `leads::Search::parse` decides what it finds; this only chooses the hint. */
function shortSearch(text) {
  const folded = (text || '').trim().split(/\s+/).join(' ');
  return folded !== '' && [...folded].length < 3;
}

/** What a bulk action did: changed and refused counts, each refusal with its reason. */
function showSummary(summary) {
  const close = h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'close', text: t('action.close') });
  const dialog = h('dialog', { class: 'dialog', 'data-form': 'bulk-summary' },
    h('form', { method: 'dialog', class: 'dialog-body' },
      h('h2', { class: 'dialog-title', text: t('bulk.done') }),
      h('p', { 'data-changed': summary.changed, text: t('bulk.changed', { count: fmtNumber(summary.changed) }) }),
      summary.refused.length ? h('p', { text: t('bulk.refused', { count: fmtNumber(summary.refused.length) }) }) : null,
      summary.refused.length ? h('ul', { class: 'card-list refusals' }, summary.refused.slice(0, 200).map((r) =>
        h('li', {}, h('strong', { text: r.name || `№${r.id}` }), ` — ${r.message}`))) : null,
      h('div', { class: 'dialog-buttons' }, close)));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

export function filterControl(f, state, changed) {
  if (f.type === 'checkbox') {
    const box = h('input', { type: 'checkbox', name: f.name, checked: Boolean(state.filters[f.name]),
      onchange: (e) => {
        state.filters[f.name] = e.target.checked;
        // a filter with an order of its own ("ending soon": soonest first) sorts so when ticked
        if (e.target.checked && f.sortsBy) Object.assign(state, f.sortsBy);
        changed();
      } });
    return h('label', { class: 'check filter', title: f.title || null }, box, ' ', f.label);
  }
  if (f.type === 'select') {
    const select = h('select', { name: f.name, class: 'filter', 'aria-label': f.label,
      onchange: (e) => {
        const v = e.target.value;
        state.filters[f.name] = v === '' ? null : (f.numeric ? Number(v) : v);
        changed();
      } },
    h('option', { value: '', text: f.all || f.label }),
    (f.options || []).map(([v, text]) => h('option', { value: String(v), text })));
    if (f.load) {
      f.load().then((options) => select.append(...options.map(([v, text]) => h('option', { value: String(v), text }))))
        .catch((e) => toast(e.message, 'error'));
    }
    return select;
  }
  if (f.type === 'picker') {
    const p = picker({ name: f.name, label: f.label, search: f.search, empty: f.all, placeholder: f.all,
      onChange: (id) => { state.filters[f.name] = id; changed(); } });
    p.element.classList.add('filter');
    return p.element;
  }
  if (f.type === 'date') {
    const d = dateField({ name: f.name, label: f.label, cls: 'date-input',
      onChange: (iso) => {
        const ok = iso === '' || /^\d{4}-\d{2}-\d{2}$/.test(iso);
        d.input.classList.toggle('invalid-input', !ok);
        d.input.title = ok ? '' : t('error.date_invalid');
        if (!ok) return;
        state.filters[f.name] = iso || null;
        changed();
      } });
    return h('label', { class: 'filter-label' }, h('span', { text: f.label }), d.element);
  }
  return null;
}
