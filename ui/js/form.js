// Create/edit forms in a modal dialog. Enter saves, Esc closes; the core's field errors appear
// under their fields in the user's language; a conflict (someone else saved first) says so.
import { h, clear } from './dom.js';
import { t, moneyToCore } from './i18n.js';
import { picker } from './picker.js';
import { dateField } from './datepicker.js';

let counter = 0;

/**
 * fields: [{ name, label, type: text|password|textarea|money|date|number|select|checkbox|checks|custom,
 *            options: [[value, label]] (select/checks), required, hint, wide, placeholder,
 *            render(value) -> {element, get()} for custom }]
 * submit(values) resolves with the saved record or rejects with a UI error.
 */
export function openForm({ title, fields, values = {}, submitLabel, submit, onSaved, intro, testId }) {
  const inputs = new Map();
  const banner = h('div', { class: 'form-banner', role: 'alert', hidden: true });
  const body = h('div', { class: 'form-grid' });
  for (const field of fields) {
    const { row, get, focus } = renderField(field, values[field.name]);
    inputs.set(field.name, { row, get, focus, field });
    body.append(row);
  }
  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'save', text: submitLabel || t('action.save') });
  const cancel = h('button', { type: 'button', class: 'btn', 'data-action': 'cancel', text: t('action.cancel') });
  const form = h('form', { class: 'dialog-body', novalidate: true },
    h('h2', { class: 'dialog-title', text: title }),
    intro ? h('p', { class: 'dialog-intro', text: intro }) : null,
    banner, body,
    h('div', { class: 'dialog-buttons' }, cancel, save));
  const dialog = h('dialog', { class: 'dialog', 'data-form': testId || '' }, form);

  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = {};
    for (const [name, input] of inputs) data[name] = input.get();
    showErrors(inputs, banner, null);
    save.disabled = true;
    try {
      const result = await submit(data);
      dialog.close();
      if (onSaved) onSaved(result);
    } catch (error) {
      showErrors(inputs, banner, error);
    } finally {
      save.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = fields.find((f) => f.type !== 'checks' && f.type !== 'checkbox' && !f.readonly);
  if (first) inputs.get(first.name).focus();
  return dialog;
}

/** Asks for one choice from `options` ([[value, label]]) in a small form; resolves with the
 *  value, or null when cancelled. */
export function askChoice({ title, label, options, submitLabel, testId }) {
  return new Promise((resolve) => {
    let chosen = null;
    const dialog = openForm({
      title, testId, submitLabel,
      fields: [{ name: 'choice', label, type: 'select', numeric: typeof options[0]?.[0] === 'number', empty: t('common.choose'), options, wide: true }],
      submit: async ({ choice }) => {
        if (choice === null) throw { message: t('common.choose'), fields: [{ field: 'choice', message: t('common.choose') }] };
        chosen = choice;
      },
    });
    dialog.addEventListener('close', () => resolve(chosen));
  });
}

function showErrors(inputs, banner, error) {
  for (const { row } of inputs.values()) {
    row.classList.remove('invalid');
    const slot = row.querySelector('.field-error');
    if (slot) slot.textContent = '';
  }
  banner.hidden = true;
  clear(banner);
  if (!error) return;
  const unplaced = [];
  let focused = false;
  for (const { field, message, lead_id: leadId } of error.fields || []) {
    const input = inputs.get(field) || [...inputs.values()].find((i) => (i.field.aliases || []).includes(field));
    if (!input) { unplaced.push(message); continue; }
    input.row.classList.add('invalid');
    const slot = input.row.querySelector('.field-error');
    slot.textContent = message;
    if (leadId) {
      // the lead that has this phone or e-mail: its card opens over the form
      slot.append(' ', h('button', { type: 'button', class: 'link', 'data-action': 'open-duplicate', text: t('card.open_lead'),
        onclick: () => document.dispatchEvent(new CustomEvent('crm:open-record', { detail: { kind: 'lead', id: leadId } })) }));
    }
    if (!focused) { input.focus(); focused = true; }
  }
  banner.hidden = false;
  banner.classList.toggle('form-banner-conflict', error.code === 'conflict');
  banner.append(h('div', { text: error.title || error.message }), ...unplaced.map((m) => h('div', { text: m })));
}

function renderField(field, value) {
  const id = `f${++counter}`;
  const error = h('div', { class: 'field-error', id: `${id}-error` });
  const label = h('label', { for: id, class: 'field-label', text: field.label });
  const common = { id, name: field.name, 'aria-describedby': `${id}-error`, placeholder: field.placeholder, readonly: field.readonly };
  let control;
  let get;
  switch (field.type) {
    case 'textarea':
      control = h('textarea', { ...common, rows: 3, value: value ?? '' });
      get = () => control.value;
      break;
    case 'select': {
      control = h('select', common,
        field.empty !== undefined ? h('option', { value: '', text: field.empty }) : null,
        (field.options || []).map(([v, text]) => h('option', { value: String(v), text })));
      control.value = value === null || value === undefined ? '' : String(value);
      get = () => (control.value === '' ? null : (field.numeric ? Number(control.value) : control.value));
      break;
    }
    case 'checkbox':
      control = h('input', { ...common, type: 'checkbox', checked: Boolean(value) });
      get = () => control.checked;
      return {
        row: h('div', { class: 'field field-check', dataset: { field: field.name } }, h('label', { class: 'check' }, control, ' ', field.label), error),
        get, focus: () => control.focus(),
      };
    case 'checks': {
      const chosen = new Set(value || []);
      const boxes = (field.options || []).map(([v, text]) =>
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: field.name, value: v, checked: chosen.has(v) }), ' ', text));
      control = h('div', { class: 'checks', id }, boxes);
      get = () => [...control.querySelectorAll('input:checked')].map((i) => i.value);
      break;
    }
    case 'picker': {
      const p = picker({ id, name: field.name, label: field.label, search: field.search, value: value ?? null, text: field.text ?? '', empty: field.empty ?? null });
      p.input.setAttribute('aria-describedby', `${id}-error`);
      control = p.element;
      get = p.get;
      const row = h('div', { class: `field${field.wide ? ' field-wide' : ''}`, dataset: { field: field.name } },
        label, control, field.hint ? h('div', { class: 'field-hint', text: field.hint }) : null, error);
      return { row, get, focus: () => p.input.focus() };
    }
    case 'custom': {
      const custom = field.render(value);
      control = custom.element;
      get = custom.get;
      break;
    }
    case 'date': {
      const d = dateField({ id, name: field.name, value: value ?? '', label: field.label });
      d.input.setAttribute('aria-describedby', `${id}-error`);
      const row = h('div', { class: `field${field.wide ? ' field-wide' : ''}`, dataset: { field: field.name } },
        label, d.element, field.hint ? h('div', { class: 'field-hint', text: field.hint }) : null, error);
      return { row, get: d.get, focus: () => d.input.focus() };
    }
    case 'datetime': {
      // a day in the app's own date field and a 24-hour time: the same forms the app shows
      // (a native date-time input follows the system's locale, not the app's language)
      const [day, time] = String(value || '').split('T');
      const d = dateField({ id, name: `${field.name}_date`, value: day || '', label: field.label });
      d.input.setAttribute('aria-describedby', `${id}-error`);
      const clock = h('input', { type: 'text', name: `${field.name}_time`, class: 'time-input', inputmode: 'numeric', autocomplete: 'off',
        maxlength: 5, placeholder: t('format.time'), 'aria-label': `${field.label}: ${t('format.time')}`, value: (time || '').slice(0, 5) });
      const row = h('div', { class: `field${field.wide ? ' field-wide' : ''}`, dataset: { field: field.name } },
        label, h('div', { class: 'datetime-field' }, d.element, clock), error);
      const get = () => {
        const on = d.get();
        const at = clock.value.trim().replace(/^(\d{1,2})[.\s-]?(\d{2})$/, '$1:$2').replace(/^(\d{1,2})$/, '$1:00').replace(/^(\d):/, '0$1:');
        return on || at ? `${on}T${at}` : '';
      };
      return { row, get, focus: () => d.input.focus() };
    }
    case 'money':
      control = h('input', { ...common, type: 'text', inputmode: 'decimal', value: value ?? '', placeholder: field.placeholder || t('format.money_example') });
      get = () => moneyToCore(control.value);
      break;
    default:
      control = h('input', { ...common, type: field.type || 'text', autocomplete: field.autocomplete || 'off', value: value ?? '' });
      get = () => control.value;
  }
  const row = h('div', { class: `field${field.wide ? ' field-wide' : ''}`, dataset: { field: field.name } },
    label, control, field.hint ? h('div', { class: 'field-hint', text: field.hint }) : null, error);
  return { row, get, focus: () => control.focus() };
}
