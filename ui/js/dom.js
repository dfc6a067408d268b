// Building the page from data safely: text goes in with textContent, never as HTML.
import { t } from './i18n.js';

/**
 * Creates an element. `props`: `class`, `text`, `on*` handlers, `dataset` object, anything else
 * as an attribute (`true` sets it empty, `false`/`null` leaves it out). Children: nodes or strings.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') el.textContent = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Replaces the children of `el` with `children`, as `h` takes them (a `null` or `false` left
 *  out: `Element.append` would show it as the text "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Appends `rows` to `body` (a table's), those that can be on screen first: the rest follow once
 * that frame is painted, then `done()` runs. A page of 50 rows shows about 15 at a time; without
 * a GPU, laying out and painting the 35 below the window delayed the visible ones by 30-40 ms
 * (tests/window). A body emptied or given other rows before then keeps them: the late ones are
 * dropped, and `done` still runs (the caller knows whether its rows are still the ones shown).
 */
export function appendOnScreenFirst(body, rows, done) {
  const top = body.getBoundingClientRect().top;
  // rows are at least 30 px high; a table starting below the window gets its rows at once
  const fit = top >= 0 && top < window.innerHeight ? Math.ceil((window.innerHeight - top) / 30) : rows.length;
  body.append(...rows.slice(0, fit));
  if (fit >= rows.length) { done(); return; }
  const rest = () => {
    pendingRows.delete(rest);
    if (rows[0].parentNode === body) body.append(...rows.slice(fit));
    done();
  };
  pendingRows.add(rest);
  // a frame callback runs before that frame is painted; a task queued from it, after
  requestAnimationFrame(() => setTimeout(() => { if (pendingRows.has(rest)) rest(); }, 0));
}

/** The rows [`appendOnScreenFirst`] has yet to append. */
const pendingRows = new Set();

/** Appends at once every row still to come (before printing what the page shows). */
export function appendPendingRows() {
  for (const rest of [...pendingRows]) rest();
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A short message in the corner that goes away by itself. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', text: message });
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 7000 : 3500);
}

/** A yes/no question in a modal dialog; resolves true on yes. */
export function confirmDialog(message, okLabel = t('action.confirm'), danger = false) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-action': 'confirm', text: okLabel });
    const cancel = h('button', { type: 'button', class: 'btn', 'data-action': 'cancel', text: t('action.cancel') });
    const dialog = h('dialog', { class: 'dialog dialog-small' },
      h('form', { method: 'dialog', class: 'dialog-body' },
        h('p', { class: 'confirm-text', text: message }),
        h('div', { class: 'dialog-buttons' }, cancel, ok)));
    let answer = false;
    ok.addEventListener('click', () => { answer = true; });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  });
}

/** A search box's runner: `fn` (async, reading what is typed when it runs) runs at once when
 *  nothing of it is running, else once more as soon as the running one ends, for whatever was
 *  typed last. A search answers in milliseconds, so the first letters are not waited for (a
 *  pause after typing added 150 ms to every search), and a fast typist never queues more than
 *  one; a stale answer is dropped by the caller when a newer one is asked for. */
export function asTyped(fn) {
  let running = false;
  let again = false;
  const run = async () => {
    running = true;
    try { await fn(); } catch (error) { console.error(error); } finally { running = false; }
    if (again) { again = false; run(); }
  };
  return () => { if (running) again = true; else run(); };
}
