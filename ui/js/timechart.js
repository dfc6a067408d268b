// The statistics over time: revenue and spend as bars (roubles, left axis), leads and clients as
// lines (counts, right axis), one group per day, week or month of the period. Plain SVG: the
// chart library it would replace is larger than this file. Hovering (or focusing) a period shows
// its figures; the chart is redrawn whole for each answer of the core (a few hundred points).
import { h, svg } from './dom.js';
import { t, fmtRoubles, fmtNumber, fmtDate, dateFormat, numberFormat } from './i18n.js';

const WIDTH = 1000;
const HEIGHT = 220;
const PAD = { left: 64, right: 64, top: 12, bottom: 28 };

/** A period's label on the axis: `12.03`, `мар 2026`, `12 Mar`. */
function periodLabel(point, step, short) {
  const [y, m, d] = point.start.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  const options = step === 'month'
    ? { month: short ? 'short' : 'long', year: 'numeric' }
    : { day: 'numeric', month: 'short' };
  return dateFormat({ ...options, timeZone: 'UTC' }).format(date);
}

/** Round steps for an axis up to `max`: 0, 1/2/5 x 10^k, ... */
function ticks(max, count = 4) {
  if (!(max > 0)) return { top: 1, values: [0, 1] };
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw);
  const top = Math.ceil(max / step) * step;
  const values = [];
  for (let v = 0; v <= top + step / 2; v += step) values.push(v);
  return { top, values };
}

/** A compact money figure for an axis: `1,2 млн`, `350 тыс.` / `1.2M`, `350K`. */
function axisMoney(value) {
  return numberFormat({ notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** A count for an axis up to `top`: `950`, `12 345`; all compact on an axis that reaches
 *  100,000 (`50 тыс.`, `200 тыс.` / `50K`, `200K`), whose full figures would not fit. */
function axisCount(value, top) {
  return top >= 100000 ? axisMoney(value) : fmtNumber(value);
}

/** Whether a period of the series has any figure other than zero. */
export function hasFigures(point) {
  return Boolean(point.leads || point.clients || Number(point.revenue) || Number(point.spend));
}

/** The chart of `series` ({ step, points: [{ start, end, leads, clients, revenue, spend }] }). */
export function timeChart(series) {
  const points = series.points;
  const wrap = h('div', { class: 'time-chart' });
  // a period of nothing but zeros (a new database, a quiet month) is said, not drawn as flat axes
  if (!points.some(hasFigures)) {
    wrap.append(h('p', { class: 'muted', text: t('stats.series_empty') }));
    return wrap;
  }
  const money = ticks(Math.max(...points.flatMap((p) => [Number(p.revenue), Number(p.spend)])));
  const counts = ticks(Math.max(...points.flatMap((p) => [p.leads, p.clients])));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / points.length;
  const yMoney = (v) => PAD.top + plotH - (Number(v) / money.top) * plotH;
  const yCount = (v) => PAD.top + plotH - (v / counts.top) * plotH;
  const x = (i) => PAD.left + i * slot;

  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'time-svg', role: 'img', 'aria-label': t('stats.series_title') });
  money.values.forEach((v, i) => {
    const y = yMoney(v);
    root.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: 'grid' }));
    root.append(svg('text', { x: PAD.left - 6, y: y + 4, class: 'axis axis-left', text: axisMoney(v) }));
    const count = counts.values[i];
    if (count !== undefined) root.append(svg('text', { x: WIDTH - PAD.right + 6, y: yCount(count) + 4, class: 'axis', text: axisCount(count, counts.top) }));
  });

  const barW = Math.max(1, Math.min(18, slot * 0.36));
  const labelEvery = Math.max(1, Math.ceil(points.length / 12));
  points.forEach((p, i) => {
    const cx = x(i) + slot / 2;
    const revenueY = yMoney(p.revenue);
    const spendY = yMoney(p.spend);
    root.append(svg('rect', { x: cx - barW, y: revenueY, width: barW, height: PAD.top + plotH - revenueY, class: 'bar-revenue' }));
    root.append(svg('rect', { x: cx, y: spendY, width: barW, height: PAD.top + plotH - spendY, class: 'bar-budget' }));
    if (i % labelEvery === 0) {
      root.append(svg('text', { x: cx, y: HEIGHT - 8, class: 'axis axis-x', text: periodLabel(p, series.step, true) }));
    }
  });
  const line = (key, cls) => svg('polyline', {
    class: cls,
    points: points.map((p, i) => `${x(i) + slot / 2},${yCount(p[key])}`).join(' '),
  });
  root.append(line('leads', 'line-leads'), line('clients', 'line-clients'));

  // hover and keyboard: one transparent band per period
  const tip = h('div', { class: 'chart-tip', hidden: true });
  const marker = svg('rect', { class: 'hover-band', x: 0, y: PAD.top, width: slot, height: plotH, visibility: 'hidden' });
  root.append(marker);
  const show = (i) => {
    const p = points[i];
    marker.setAttribute('x', x(i));
    marker.setAttribute('visibility', 'visible');
    const range = p.start === p.end ? fmtDate(p.start) : `${fmtDate(p.start)} – ${fmtDate(p.end)}`;
    tip.replaceChildren(
      h('div', { class: 'tip-title', text: series.step === 'month' ? periodLabel(p, 'month', false) : range }),
      h('div', { text: `${t('stats.leads')}: ${fmtNumber(p.leads)}` }),
      h('div', { text: `${t('stats.clients')}: ${fmtNumber(p.clients)}` }),
      h('div', { text: `${t('stats.revenue')}: ${fmtRoubles(p.revenue)}` }),
      h('div', { text: `${t('stats.spend')}: ${fmtRoubles(p.spend)}` }));
    tip.hidden = false;
    const left = ((x(i) + slot / 2) / WIDTH) * 100;
    tip.style.left = `${Math.min(Math.max(left, 12), 88)}%`;
  };
  const hide = () => { marker.setAttribute('visibility', 'hidden'); tip.hidden = true; };
  points.forEach((p, i) => {
    const band = svg('rect', { x: x(i), y: PAD.top, width: slot, height: plotH, class: 'hit', 'data-period': p.start, tabindex: i === 0 ? 0 : -1 });
    band.addEventListener('mouseenter', () => show(i));
    band.addEventListener('focus', () => show(i));
    band.addEventListener('keydown', (event) => {
      const next = event.key === 'ArrowRight' ? i + 1 : event.key === 'ArrowLeft' ? i - 1 : null;
      if (next !== null && next >= 0 && next < points.length) {
        event.preventDefault();
        root.querySelector(`[data-period="${points[next].start}"]`).focus();
      }
    });
    root.append(band);
  });
  root.addEventListener('mouseleave', hide);
  root.addEventListener('focusout', (event) => { if (!root.contains(event.relatedTarget)) hide(); });

  wrap.append(root, tip, h('div', { class: 'legend' },
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-revenue' }), t('stats.revenue')),
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-budget' }), t('stats.spend')),
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-leads' }), t('stats.leads')),
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-clients' }), t('stats.clients'))));
  return wrap;
}
