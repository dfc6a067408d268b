// The import wizard: choose a file (native dialog; the Rust side reads it), pick the sheet, see
// the first rows with the guessed field of each column (changeable), choose a campaign for rows
// without one and what a duplicate does, check it (a dry run with the real figures), then import
// with a progress bar and a cancel button; rejected rows are listed and saved to a file.
import { call } from './api.js';
import { h, fill, toast, confirmDialog } from './dom.js';
import { t, fmtNumber } from './i18n.js';
import { picker } from './picker.js';
import { withProgress } from './progress.js';

/** Opens the wizard for `kind` (leads, services or campaigns); `onDone` after an import. */
export async function openImport(kind, { onDone = () => {} } = {}) {
  let picked;
  try { picked = await call('pick_import_file'); } catch (e) { toast(e.message, 'error'); return; }
  if (!picked) return;
  const body = h('div', { class: 'import-body' });
  const banner = h('div', { class: 'form-banner', role: 'alert', hidden: true });
  const bar = h('progress', { class: 'export-progress', hidden: true });
  const barLabel = h('span', { class: 'muted small', role: 'status' });
  const buttons = h('div', { class: 'dialog-buttons' });
  const dialog = h('dialog', { class: 'dialog dialog-wide', 'data-form': 'import' },
    h('div', { class: 'dialog-body' },
      h('h2', { class: 'dialog-title', text: t(`import.title_${kind}`) }),
      h('p', { class: 'muted', text: t('import.file', { name: picked.file_name, size: fmtNumber(Math.ceil(picked.size_bytes / 1024)) }) }),
      banner, body, h('div', { class: 'move-progress' }, bar, barLabel), buttons));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  const showError = (error) => { banner.hidden = !error; banner.textContent = error ? error.message : ''; };

  let preview;
  let mapping = [];
  const state = { sheet: '', campaign: null, onDuplicate: 'skip' };

  async function load(sheet) {
    try {
      preview = await call('preview_import', { kind, sheet });
    } catch (e) {
      showError(e);
      fill(buttons, h('button', { class: 'btn', 'data-action': 'cancel', text: t('action.close'), onclick: () => dialog.close() }));
      return;
    }
    state.sheet = preview.sheet;
    mapping = [...preview.mapping];
    renderMapping();
  }

  function renderMapping() {
    showError(null);
    const options = [h('option', { value: '', text: t('import.skip_column') }),
      ...preview.fields.map((f) => h('option', { value: f.name, text: f.required ? `${f.label} *` : f.label }))];
    const heads = preview.headers.map((header, i) => {
      const select = h('select', { class: 'import-field', 'data-column': String(i), 'aria-label': header || `#${i + 1}` },
        options.map((o) => o.cloneNode(true)));
      select.value = mapping[i] || '';
      select.classList.toggle('mapped', !!mapping[i]);
      select.addEventListener('change', () => { mapping[i] = select.value || null; select.classList.toggle('mapped', !!select.value); });
      return h('th', {}, h('div', { class: 'import-header', text: header || `#${i + 1}` }), select);
    });
    const rows = preview.rows.map((row) => h('tr', {}, preview.headers.map((_, i) => h('td', { text: row[i] ?? '' }))));
    const sheetPicker = preview.file.sheets.length > 1
      ? h('label', { class: 'field-inline' }, t('import.sheet'), ' ', (() => {
        const s = h('select', { name: 'sheet' }, preview.file.sheets.map((name) => h('option', { value: name, text: name })));
        s.value = state.sheet;
        s.addEventListener('change', () => load(s.value));
        return s;
      })())
      : null;
    const how = preview.file.encoding
      ? h('span', { class: 'muted small', text: t('import.read_as', { encoding: preview.file.encoding, delimiter: preview.file.delimiter === '\t' ? 'Tab' : preview.file.delimiter }) })
      : null;
    const campaign = kind === 'leads' || kind === 'clients'
      ? picker({ name: 'campaign_id', label: t('import.default_campaign'), empty: t('import.no_campaign'),
        search: (text) => call('campaign_options', { search: text }), value: state.campaign?.id ?? null, text: state.campaign?.name ?? '',
        onChange: (id) => { state.campaign = id === null ? null : { id, name: campaign.input.value }; } })
      : null;
    const duplicates = h('select', { name: 'on_duplicate', 'aria-label': t('import.duplicates') },
      h('option', { value: 'skip', text: t('import.dup_skip') }),
      kind === 'leads' ? h('option', { value: 'update', text: t('import.dup_update') }) : null);
    duplicates.value = state.onDuplicate;
    duplicates.addEventListener('change', () => { state.onDuplicate = duplicates.value; });
    fill(body,
      h('div', { class: 'import-options', hidden: !sheetPicker && !how }, sheetPicker, how),
      h('p', { class: 'muted small', text: t('import.mapping_hint') }),
      h('div', { class: 'table-wrap import-preview' }, h('table', { class: 'table' }, h('thead', {}, h('tr', {}, heads)), h('tbody', {}, rows))),
      h('div', { class: 'import-options' },
        campaign ? h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('import.default_campaign') }), campaign.element) : null,
        h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('import.duplicates') }), duplicates)));
    fill(buttons,
      h('button', { type: 'button', class: 'btn', 'data-action': 'cancel', text: t('action.cancel'), onclick: () => dialog.close() }),
      h('button', { type: 'button', class: 'btn', 'data-action': 'check', text: t('import.check'), onclick: () => run(true) }),
      h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'import', text: t('import.run'), onclick: () => run(false) }));
  }

  async function run(dryRun) {
    showError(null);
    const options = { sheet: state.sheet, mapping, campaign_id: state.campaign?.id ?? null, on_duplicate: state.onDuplicate, dry_run: dryRun };
    for (const b of buttons.querySelectorAll('button')) b.disabled = true;
    const cancel = h('button', { type: 'button', class: 'btn', 'data-action': 'cancel-import', text: t('action.cancel'),
      onclick: () => { cancel.disabled = true; call('cancel_import'); } });
    buttons.prepend(cancel);
    let result;
    try {
      result = await withProgress(bar, () => call('run_import', { kind, options }));
    } catch (e) {
      showError(e);
      cancel.remove();
      for (const b of buttons.querySelectorAll('button')) b.disabled = false;
      return;
    }
    showResult(result);
  }

  function showResult(result) {
    const figure = (key, n, attr) => h('div', { class: 'import-figure', dataset: { figure: attr } },
      h('span', { class: 'import-count', text: fmtNumber(n) }), h('span', { class: 'muted', text: t(key) }));
    const list = result.rejected.map((r) => h('tr', {}, h('td', { class: 'num', text: String(r.line) }), h('td', { text: r.reason })));
    const more = result.rejected_count > result.rejected.length
      ? h('p', { class: 'muted small', text: t('import.more_rejected', { n: fmtNumber(result.rejected_count - result.rejected.length) }) }) : null;
    fill(body, ...[
      h('p', { 'data-outcome': result.dry_run ? 'check' : 'done', text: t(result.dry_run ? 'import.checked' : 'import.done', { rows: fmtNumber(result.rows) }) }),
      h('div', { class: 'import-figures' },
        figure(result.dry_run ? 'import.will_create' : 'import.created', result.created, 'created'),
        figure(result.dry_run ? 'import.will_update' : 'import.updated', result.updated, 'updated'),
        figure('import.skipped', result.skipped, 'skipped'),
        figure('import.rejected', result.rejected_count, 'rejected')),
      list.length ? h('div', { class: 'table-wrap import-rejected' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { class: 'num', text: t('import.line') }), h('th', { text: t('import.reason') }))),
        h('tbody', {}, list))) : null,
      more].filter(Boolean));
    const save = result.rejected_count
      ? h('button', { type: 'button', class: 'btn', 'data-action': 'save-rejected', text: t('import.save_rejected'),
        onclick: async () => {
          try {
            const name = await call('save_rejected_rows');
            if (name) toast(t('import.rejected_saved', { file: name }));
          } catch (e) { toast(e.message, 'error'); }
        } })
      : null;
    if (result.dry_run) {
      fill(buttons, ...[save,
        h('button', { type: 'button', class: 'btn', 'data-action': 'back', text: t('import.back'), onclick: () => renderMapping() }),
        h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'import', text: t('import.run'), onclick: () => run(false) })].filter(Boolean));
    } else {
      // the import can be taken back at once (later, from the History page)
      const undo = result.import_id && result.created
        ? h('button', { type: 'button', class: 'btn', 'data-action': 'undo-import', text: t('import.undo'),
          onclick: async () => {
            if (!(await confirmDialog(t('import.undo_confirm'), t('import.undo'), true))) return;
            try {
              const n = await call('undo_import', { id: result.import_id });
              toast(t('import.undone', { n }));
              onDone(result);
              dialog.close();
            } catch (e) { showError(e); }
          } })
        : null;
      fill(buttons, ...[save, undo,
        h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'close', text: t('action.close'), onclick: () => dialog.close() })].filter(Boolean));
      onDone(result);
    }
  }

  await load('');
}

/** "Import from a file…" for a list page, when the user may import that kind of record. */
export function importButton(kind, ctx, onDone) {
  const needs = { leads: ['leads.edit'], services: ['services.edit'], campaigns: ['campaigns.edit'], clients: ['leads.convert', 'contracts.edit'] }[kind];
  if (!ctx.can('data.import') || !needs.every((p) => ctx.can(p))) return null;
  return h('button', { class: 'btn', 'data-action': 'import', text: t('import.button'), onclick: () => openImport(kind, { onDone }) });
}
