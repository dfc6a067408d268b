// A date field: typed in the same form the app shows dates (21.11.2026, or 21 Nov 2026 in
// English), or picked from a month calendar in the user's language (Monday first). Arrows move
// the day, PageUp/PageDown the month, Enter picks, Esc closes.
import { h, fill } from './dom.js';
import { t, dateToIso, isoToInput, dateFormat } from './i18n.js';

const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const parse = (text) => {
  const value = dateToIso(text);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(y, m - 1, d);
  return date.getMonth() === m - 1 ? date : null;
};

/** { element, input, get() -> ISO or what was typed }; `onChange(iso)` after a pick or an edit. */
export function dateField({ id, name, value = '', label, cls = '', onChange = () => {} }) {
  const input = h('input', { type: 'text', id, name, class: cls, inputmode: 'numeric', autocomplete: 'off', placeholder: t('format.date'), 'aria-label': label, value: isoToInput(value) });
  const button = h('button', { type: 'button', class: 'date-button', 'data-action': 'calendar', 'aria-label': t('date.open_calendar'), tabindex: -1, text: '▦' });
  const popup = h('div', { class: 'calendar', role: 'dialog', 'aria-label': t('date.calendar'), hidden: true });
  const element = h('span', { class: 'date-field' }, input, button, popup);
  let shown = null;
  let focused = null;

  const close = () => {
    popup.hidden = true;
    document.removeEventListener('mousedown', outside, true);
    document.removeEventListener('scroll', close, true);
  };
  const outside = (e) => { if (!element.contains(e.target)) close(); };
  const pick = (date) => {
    input.value = isoToInput(iso(date));
    close();
    input.focus();
    input.dispatchEvent(new Event('change', { bubbles: true }));
  };
  const render = () => {
    const first = new Date(shown.getFullYear(), shown.getMonth(), 1);
    const start = new Date(first);
    start.setDate(1 - ((first.getDay() + 6) % 7)); // back to Monday
    const title = dateFormat({ month: 'long', year: 'numeric' }).format(first);
    const weekdays = [...Array(7)].map((_, i) => dateFormat({ weekday: 'short' }).format(new Date(2024, 0, 1 + i)));
    const today = iso(new Date());
    const chosen = parse(input.value);
    const days = [...Array(42)].map((_, i) => {
      const day = new Date(start);
      day.setDate(start.getDate() + i);
      const key = iso(day);
      return h('button', { type: 'button', class: ['day', day.getMonth() !== shown.getMonth() ? 'other' : '', key === today ? 'today' : '',
        chosen && key === iso(chosen) ? 'chosen' : '', focused && key === iso(focused) ? 'focused' : ''].join(' ').trim(),
      'data-date': key, tabindex: -1, text: String(day.getDate()), onclick: () => pick(day) });
    });
    const move = (months) => { shown = new Date(shown.getFullYear(), shown.getMonth() + months, 1); render(); };
    fill(popup,
      h('div', { class: 'calendar-head' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': t('date.previous_month'), text: '‹', onclick: () => move(-1) }),
        h('strong', { text: title }),
        h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': t('date.next_month'), text: '›', onclick: () => move(1) })),
      h('div', { class: 'calendar-grid' }, weekdays.map((w) => h('span', { class: 'weekday', text: w })), days),
      h('div', { class: 'calendar-foot' }, h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-action': 'today', text: t('date.today'), onclick: () => pick(new Date()) })));
  };
  const open = () => {
    focused = parse(input.value) || new Date();
    shown = new Date(focused.getFullYear(), focused.getMonth(), 1);
    render();
    popup.hidden = false;
    place();
    document.addEventListener('mousedown', outside, true);
    // fixed to the window: a scroll would leave it behind
    document.addEventListener('scroll', close, true);
  };
  // Under the field, or above it when the window has no room below; fixed to the window, so
  // that a dialog's edge (which scrolls and clips) does not cut it.
  const place = () => {
    const field = input.getBoundingClientRect();
    const height = popup.offsetHeight;
    const below = field.bottom + 4;
    const top = below + height <= window.innerHeight - 8 ? below : Math.max(8, field.top - 4 - height);
    popup.style.top = `${top}px`;
    popup.style.left = `${Math.min(field.left, window.innerWidth - popup.offsetWidth - 8)}px`;
  };
  button.addEventListener('click', () => (popup.hidden ? open() : close()));
  input.addEventListener('keydown', (e) => {
    if (popup.hidden) {
      if (e.key === 'ArrowDown' && e.altKey) { e.preventDefault(); open(); }
      return;
    }
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key];
    if (step || e.key === 'PageUp' || e.key === 'PageDown') {
      e.preventDefault();
      focused = new Date(focused);
      if (step) focused.setDate(focused.getDate() + step);
      else focused.setMonth(focused.getMonth() + (e.key === 'PageUp' ? -1 : 1));
      shown = new Date(focused.getFullYear(), focused.getMonth(), 1);
      render();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      e.stopPropagation();
      pick(focused);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  input.addEventListener('change', () => onChange(dateToIso(input.value)));
  return { element, input, get: () => dateToIso(input.value) };
}
