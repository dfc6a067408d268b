// A picker that searches: type part of a name, the core answers with the first matches, arrows
// move, Enter picks, Esc closes. For campaigns, services and contracts, of which there can be
// thousands (a select of 1,895 campaigns is no choice at all).
import { h, fill, asTyped } from './dom.js';
import { t } from './i18n.js';

let counter = 0;

/**
 * search(text) -> Promise<[[id, label]]>; value/text: the current choice; empty: the label of
 * "no choice" (offered first) when the field may be left empty; onChange(id) after a pick.
 * Returns { element, input, get(), set(id, text) }.
 */
export function picker({ name, label, search, value = null, text = '', empty = null, placeholder, onChange = () => {}, id }) {
  const listId = `picker-list-${++counter}`;
  let chosen = value ?? null;
  let chosenText = chosen === null ? '' : (text || '');
  let options = [];
  let active = -1;
  let request = 0;
  // input events seen, and how many had been seen at the last pick: a search typed before a pick
  // must not reopen the list after it
  let typedCount = 0;
  let typedAtPick = -1;
  const input = h('input', { type: 'text', id, name, autocomplete: 'off', role: 'combobox', 'aria-expanded': 'false', 'aria-controls': listId,
    'aria-autocomplete': 'list', 'aria-label': label, 'data-picker': '', placeholder: placeholder || (empty ?? t('picker.type_to_search')), value: chosenText });
  const list = h('ul', { class: 'picker-list', id: listId, role: 'listbox', hidden: true });
  const element = h('div', { class: 'picker' }, input, list);

  const close = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; };
  const pick = (i) => {
    request++;
    typedAtPick = typedCount;
    const [id, label] = options[i];
    chosen = id;
    chosenText = id === null ? '' : label;
    input.value = chosenText;
    close();
    onChange(chosen);
  };
  const render = () => {
    fill(list, ...options.map(([id, label], i) => h('li', { role: 'option', 'data-value': id ?? '', 'aria-selected': String(i === active),
      class: `${i === active ? 'active' : ''}${id === null ? ' picker-empty' : ''}`, text: label,
      // mousedown, not click: the input's blur would close the list first
      onmousedown: (e) => { e.preventDefault(); pick(i); } })));
    if (options.length === 0) list.append(h('li', { class: 'picker-none', text: t('picker.nothing') }));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  const load = async (query) => {
    const mine = ++request;
    let found;
    try { found = await search(query); } catch { found = []; }
    if (mine !== request) return;
    options = [...(empty !== null && !query ? [[null, empty]] : []), ...found];
    active = options.length ? 0 : -1;
    render();
  };
  const typed = asTyped(() => (typedCount !== typedAtPick ? load(input.value.trim()) : undefined));
  input.addEventListener('input', () => { typedCount++; typed(); });
  input.addEventListener('focus', () => { input.select(); load(''); });
  input.addEventListener('blur', () => { close(); input.value = chosenText; });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (list.hidden) { load(input.value.trim()); return; }
      if (!options.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : -1) + options.length) % options.length;
      render();
      list.children[active]?.scrollIntoView({ block: 'nearest' });
    } else if (e.key === 'Enter' && !list.hidden && active >= 0) {
      // the pick, not the form's submit
      e.preventDefault();
      e.stopPropagation();
      pick(active);
    } else if (e.key === 'Escape' && !list.hidden) {
      e.preventDefault();
      e.stopPropagation();
      close();
      input.value = chosenText;
    }
  });
  return {
    element,
    input,
    get: () => chosen,
    set: (id, label) => { chosen = id; chosenText = label || ''; input.value = chosenText; },
  };
}
