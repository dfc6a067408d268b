// Statistics, the home page for everyone: per-campaign figures with totals, a chart of revenue
// against budget, and sales volume per client. Figures come computed from the core.
import { call, rendered } from '../api.js';
import { h, svg, clear, fill, toast, appendOnScreenFirst } from '../dom.js';
import { t, fmtMoney, fmtMoneyCompact, fmtRoubles, fmtPercent, fmtRatio, fmtNumber } from '../i18n.js';
import { listPage } from '../list.js';
import { dateField } from '../datepicker.js';
import { exportControls } from '../exporter.js';
import { timeChart, hasFigures } from '../timechart.js';

/** Campaign rows drawn and asked for at once: the rest are a page away (2,000 rows cost a second
 *  to paint, and 700 KB of figures to take in at every change of period). */
const TABLE_PAGE = 50;

const COLUMNS = [
  { key: 'name', label: 'stats.campaign', text: true },
  { key: 'leads', label: 'stats.leads', format: fmtNumber },
  { key: 'clients', label: 'stats.clients', format: fmtNumber },
  { key: 'conversion', label: 'stats.conversion', format: fmtPercent },
  { key: 'revenue', label: 'stats.revenue', format: fmtRoubles },
  { key: 'budget', label: 'stats.budget', format: fmtRoubles },
  { key: 'roas', label: 'stats.roas', format: fmtRatio, hint: 'stats.roas_hint' },
  // every money column in whole roubles: kopecks of campaign figures are noise
  { key: 'cost_per_lead', label: 'stats.cost_per_lead', format: fmtRoubles },
  { key: 'cost_per_client', label: 'stats.cost_per_client', format: fmtRoubles },
];

export function render(container, ctx) {
  const state = { filter: { from: null, to: null, channel_id: null, service_id: null }, sort: 'revenue', direction: 'desc', data: null, channels: null, offset: 0,
    step: 'month', campaign: null };
  let salesList = null;
  const periodField = (name, label) => {
    const d = dateField({ name, label, cls: 'date-input',
      onChange: (iso) => {
        const ok = iso === '' || /^\d{4}-\d{2}-\d{2}$/.test(iso);
        d.input.classList.toggle('invalid-input', !ok);
        d.input.title = ok ? '' : t('error.date_invalid');
        if (!ok) { toast(t('error.date_invalid'), 'error'); return; }
        state.filter[name] = iso || null;
        load();
        // sales per client follow the same period (contracts signed in it)
        if (salesList) { salesList.state.offset = 0; salesList.reload(); }
      } });
    return h('label', { class: 'filter-label' }, h('span', { text: label }), d.element);
  };
  const channel = h('select', { name: 'channel_id', class: 'filter', 'aria-label': t('stats.channel') }, h('option', { value: '', text: t('stats.all_channels') }));
  const service = h('select', { name: 'service_id', class: 'filter', 'aria-label': t('stats.service') }, h('option', { value: '', text: t('stats.all_services') }));
  channel.addEventListener('change', () => { state.filter.channel_id = channel.value ? Number(channel.value) : null; load(); });
  service.addEventListener('change', () => { state.filter.service_id = service.value ? Number(service.value) : null; load(); });
  call('service_options').then((options) => service.append(...options.map(([id, name]) => h('option', { value: id, text: name }))))
    .catch((error) => toast(error.message, 'error'));

  const summary = h('div', { class: 'summary' });
  const chart = h('div', { class: 'chart card' });
  const table = h('table', { class: 'table stats-table', 'data-list': 'campaign_stats' });
  const tablePager = h('div', { class: 'pager' });
  const overTime = h('div', { class: 'time-chart-card card', 'data-chart': 'series' });
  const sales = h('div', { class: 'sales' });
  fill(container,
    h('header', { class: 'page-header' }, h('h1', { text: t('nav.stats') }),
      exportControls(() => ({ list: 'stats', filter: state.filter }), { canExport: ctx.can('data.export') })),
    h('div', { class: 'toolbar' }, periodField('from', t('stats.from')), periodField('to', t('stats.to')), channel, service),
    summary,
    overTime,
    h('div', { class: 'table-wrap' }, table),
    tablePager,
    chart,
    sales);

  // The table, the chart over time and the sales per client are asked for at once and painted
  // in one go (each part painted on its own arrival cost a frame each: 100-150 ms apiece on a
  // machine without a GPU); the sales list waits for this promise before it paints.
  let statsPainted = Promise.resolve();

  async function load() {
    let painted;
    statsPainted = new Promise((resolve) => { painted = resolve; });
    try {
      state.offset = 0;
      const [stats, series] = await Promise.all([fetchStats(), fetchSeries()]);
      paintSeries(series);
      if (!paintStats(stats)) return;
      if (!state.channels) {
        state.channels = state.data.channels.map((c) => [c.channel_id, c.channel]);
        channel.append(...state.channels.map(([id, name]) => h('option', { value: id, text: name })));
      }
      renderSummary();
      renderTable();
      renderChart();
      shownFilter = stats.filter;
      rendered();
    } finally {
      painted();
    }
  }

  // The campaigns come sorted and one page at a time; a sort or another page asks for them alone.
  let statsAsked = 0;
  // the period and filters the totals and the chart show (a page asked for just after a change
  // of period may answer in place of the whole page's answer: then it paints them too)
  let shownFilter = null;
  async function fetchStats() {
    const asked = ++statsAsked;
    const filter = JSON.stringify(state.filter);
    const view = { sort: state.sort, direction: state.direction, page: { offset: state.offset, limit: TABLE_PAGE } };
    try {
      return { asked, filter, data: await call('campaign_stats', { filter: state.filter, view }) };
    } catch (error) {
      return { asked, filter, error };
    }
  }

  /** Takes an answer in; whether it is the latest and has figures to draw. */
  function paintStats({ asked, data, error }) {
    if (asked !== statsAsked) return false; // a later answer is on its way
    if (error) {
      fill(table, h('tbody', {}, h('tr', {}, h('td', { class: 'empty error-text', text: error.message }))));
      table.removeAttribute('aria-busy');
      clear(tablePager);
      return false;
    }
    state.data = data;
    return true;
  }

  async function loadTable() {
    const stats = await fetchStats();
    if (!paintStats(stats)) return;
    renderTable();
    if (stats.filter !== shownFilter) {
      renderSummary();
      renderChart();
      shownFilter = stats.filter;
    }
    rendered();
  }

  // The figures over time; a click on a campaign's row (or another step) asks for them alone.
  let seriesAsked = 0;
  async function loadSeries() {
    paintSeries(await fetchSeries());
    rendered();
  }

  async function fetchSeries() {
    const asked = ++seriesAsked;
    const filter = { ...state.filter, step: state.step, campaign_id: state.campaign ? state.campaign.id : null };
    try {
      return { asked, series: await call('stats_series', { filter }) };
    } catch (error) {
      return { asked, error };
    }
  }

  function paintSeries({ asked, series, error }) {
    if (asked !== seriesAsked) return; // a later answer is on its way
    if (error) {
      fill(overTime, h('p', { class: 'error-text', text: error.message }));
      return;
    }
    const steps = h('select', { class: 'filter', name: 'step', 'aria-label': t('stats.step'),
      onchange: (e) => { state.step = e.target.value; loadSeries(); } },
    ['day', 'week', 'month'].map((s) => h('option', { value: s, text: t(`stats.step_${s}`) })));
    steps.value = series.step;
    const which = state.campaign
      ? h('span', { class: 'chip', 'data-chart-campaign': state.campaign.name }, state.campaign.name,
        h('button', { class: 'chip-close', 'aria-label': t('stats.all_campaigns'), title: t('stats.all_campaigns'), text: '×',
          onclick: () => { state.campaign = null; loadSeries(); } }))
      : h('span', { class: 'muted', text: t('stats.series_hint') });
    // one campaign over no chosen period: its own weeks, not the months before and after it
    const shown = state.campaign && !state.filter.from && !state.filter.to ? busyPart(series) : series;
    fill(overTime, h('div', { class: 'chart-head' }, h('h2', { text: t('stats.series_title') }), steps, which), timeChart(shown));
  }

  /** `series` without the periods before its first figure and after its last. */
  function busyPart(series) {
    const first = series.points.findIndex(hasFigures);
    if (first < 0) return series;
    let last = series.points.length - 1;
    while (!hasFigures(series.points[last])) last -= 1;
    return { ...series, points: series.points.slice(first, last + 1) };
  }

  function renderSummary() {
    const total = state.data.total;
    const tile = (label, value, key, exact) => h('div', { class: 'tile', 'data-total': key, title: exact || '' }, h('div', { class: 'tile-label', text: label }), h('div', { class: 'tile-value', text: value }));
    fill(summary,
      tile(t('stats.leads'), fmtNumber(total.leads), 'leads'),
      tile(t('stats.clients'), fmtNumber(total.clients), 'clients'),
      tile(t('stats.conversion'), fmtPercent(total.conversion), 'conversion'),
      tile(t('stats.revenue'), fmtMoneyCompact(total.revenue), 'revenue', fmtMoney(total.revenue)),
      tile(t('stats.roas'), fmtRatio(total.roas), 'roas', t('stats.roas_hint')));
  }

  let tableDrawn = 0;
  function renderTable() {
    const rows = state.data.campaigns.items;
    const head = h('tr', {}, COLUMNS.map((c) => {
      const active = state.sort === c.key;
      return h('th', { class: c.text ? '' : 'num', title: c.hint ? t(c.hint) : null, 'aria-sort': active ? (state.direction === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', { class: 'sort', 'data-sort': c.key, text: t(c.label) + (active ? (state.direction === 'asc' ? ' ▲' : ' ▼') : ''),
          onclick: () => {
            state.direction = active && state.direction === 'desc' ? 'asc' : (active ? 'desc' : (c.text ? 'asc' : 'desc'));
            state.sort = c.key;
            state.offset = 0;
            loadTable();
          } }));
    }));
    const cell = (c, row) => (c.key === 'name' && row.channel
      ? nameCell(c, row)
      : h('td', { class: c.text ? '' : 'num', 'data-col': c.key, text: c.format ? c.format(row[c.key]) : row[c.key] }));
    const body = h('tbody', {}, rows.length === 0
      ? h('tr', { class: 'empty-row' }, h('td', { class: 'empty', colspan: COLUMNS.length },
        h('div', { class: 'empty-title', text: t('stats.empty') }), h('div', { class: 'empty-hint', text: t('stats.empty_hint') })))
      : null);
    const rowElements = rows.map((row) => h('tr', { 'data-campaign': row.name, class: 'clickable', title: t('stats.show_over_time'),
      onclick: () => { state.campaign = { id: row.campaign_id, name: row.name }; loadSeries(); overTime.scrollIntoView({ block: 'nearest', behavior: 'smooth' }); } },
    COLUMNS.map((c) => cell(c, row))));
    const total = { ...state.data.total, name: t('stats.total'), channel: '', service: '' };
    const foot = h('tfoot', {}, h('tr', { class: 'total-row' }, COLUMNS.map((c) => cell(c, total))));
    fill(table, h('thead', {}, head), body, foot);
    // the rows on screen in this frame, the rest in the next; busy until they are all in,
    // unless the table has been drawn again since
    const drawn = ++tableDrawn;
    table.setAttribute('aria-busy', 'true');
    appendOnScreenFirst(body, rowElements, () => { if (drawn === tableDrawn) table.removeAttribute('aria-busy'); });
    renderTablePager(state.data.campaigns.total);
  }

  function renderTablePager(total) {
    clear(tablePager);
    if (total <= TABLE_PAGE) return;
    const to = Math.min(state.offset + TABLE_PAGE, total);
    const go = (offset) => { state.offset = offset; loadTable(); };
    const lastOffset = Math.floor((total - 1) / TABLE_PAGE) * TABLE_PAGE;
    tablePager.append(
      h('span', { class: 'pager-range', text: t('list.range', { from: fmtNumber(state.offset + 1), to: fmtNumber(to), total: fmtNumber(total) }) }),
      h('button', { class: 'btn btn-small', 'data-action': 'first', disabled: state.offset === 0, title: t('list.first'), text: '«', onclick: () => go(0) }),
      h('button', { class: 'btn btn-small', 'data-action': 'prev', disabled: state.offset === 0, text: t('list.prev'), onclick: () => go(Math.max(0, state.offset - TABLE_PAGE)) }),
      h('button', { class: 'btn btn-small', 'data-action': 'next', disabled: to >= total, text: t('list.next'), onclick: () => go(state.offset + TABLE_PAGE) }),
      h('button', { class: 'btn btn-small', 'data-action': 'last', disabled: to >= total, title: t('list.last'), text: '»', onclick: () => go(lastOffset) }));
  }

  function renderChart() {
    const rows = state.data.top;
    fill(chart, h('h2', { text: t('stats.chart_title') }));
    if (rows.length === 0) { chart.append(h('p', { class: 'muted', text: t('stats.empty') })); return; }
    const max = Math.max(1, ...rows.flatMap((r) => [Number(r.revenue), Number(r.budget)]));
    const labelWidth = 200;
    const barArea = 560;
    const rowHeight = 40;
    const width = labelWidth + barArea + 140;
    const height = rows.length * rowHeight + 10;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'bars', role: 'img', 'aria-label': t('stats.chart_title') });
    rows.forEach((r, i) => {
      const y = i * rowHeight + 4;
      const name = r.name.length > 26 ? `${r.name.slice(0, 25)}…` : r.name;
      root.append(svg('text', { x: 0, y: y + 20, class: 'bar-label', text: name }));
      const revenue = (Number(r.revenue) / max) * barArea;
      const budget = (Number(r.budget) / max) * barArea;
      root.append(svg('rect', { x: labelWidth, y, width: Math.max(1, revenue), height: 14, rx: 3, class: 'bar-revenue' }));
      root.append(svg('rect', { x: labelWidth, y: y + 17, width: Math.max(1, budget), height: 14, rx: 3, class: 'bar-budget' }));
      root.append(svg('text', { x: labelWidth + revenue + 6, y: y + 12, class: 'bar-value', text: fmtRoubles(r.revenue) }));
      root.append(svg('text', { x: labelWidth + budget + 6, y: y + 29, class: 'bar-value muted', text: fmtRoubles(r.budget) }));
    });
    chart.append(root, h('div', { class: 'legend' },
      h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-revenue' }), t('stats.revenue')),
      h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-budget' }), t('stats.budget'))));
  }

  load();
  salesList = listPage(sales, {
    title: t('stats.sales_title'),
    command: 'client_sales',
    mapFilter: (f) => ({ search: f.search, page: f.page, from: state.filter.from, to: state.filter.to }),
    columns: [
      { key: 'full_name', label: t('stats.client') },
      { key: 'campaign', label: t('stats.campaign'), value: (r) => r.campaign || '—' },
      { key: 'contracts', label: t('stats.contracts'), num: true, value: (r) => fmtNumber(r.contracts) },
      { key: 'revenue', label: t('stats.revenue'), num: true, value: (r) => fmtRoubles(r.revenue) },
    ],
    emptyText: t('stats.sales_empty'),
    searchPlaceholder: t('stats.search_client'),
    peopleSearch: true,
    sub: true,
    beforeRender: () => statsPainted,
  });
}

/** A campaign's name over its channel and service: each line cut to the column with an ellipsis,
 *  the whole in the tooltip (nine columns must fit a 1280-pixel window). */
function nameCell(column, row) {
  const sub = [row.channel, row.service, row.is_archived ? t('stats.archived') : null].filter(Boolean).join(' · ');
  return h('td', { 'data-col': column.key, class: 'campaign-cell', title: sub ? `${row.name}\n${sub}` : row.name },
    h('span', { class: 'stack' }, h('span', { class: 'clip-line', text: row.name }), h('span', { class: 'sub clip-line', text: sub })));
}
