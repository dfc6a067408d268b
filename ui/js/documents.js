// Contract documents: the Rust side opens the native dialogs and reads the file; the page only
// holds a token for the picked file and the file's name.
import { call } from './api.js';
import { h, toast } from './dom.js';
import { t, fmtSize } from './i18n.js';

/** A form field "Document: [Choose file…] name.pdf"; its value is the picked file's token. */
export function documentField(label) {
  return {
    name: 'document',
    label,
    type: 'custom',
    wide: true,
    render: () => {
      let token = null;
      const name = h('span', { class: 'file-name', 'data-file-name': true, text: t('document.none_chosen') });
      const button = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'pick-document', text: t('document.choose'),
        onclick: async () => {
          try {
            const picked = await call('pick_document');
            if (!picked) return;
            token = picked.token;
            name.textContent = `${picked.file_name} (${fmtSize(picked.size_bytes)})`;
          } catch (error) {
            name.textContent = error.fields?.[0]?.message || error.message;
          }
        } });
      return { element: h('div', { class: 'file-box' }, button, name), get: () => token };
    },
  };
}

/** Open / save-a-copy buttons for a contract's document (or a dash). */
export function documentButtons(contract, extra = null) {
  if (!contract.document) {
    return h('span', { class: 'doc-cell' }, h('span', { class: 'muted doc-name', text: t('document.missing') }), extra ? h('span', { class: 'doc-buttons' }, extra) : null);
  }
  const open = h('button', { class: 'btn btn-small btn-ghost', 'data-action': 'open-document', title: t('document.open_hint'), text: t('document.open'),
    onclick: async () => { try { await call('open_document', { contract_id: contract.id }); } catch (e) { toast(e.message, 'error'); } } });
  const save = h('button', { class: 'btn btn-small btn-ghost', 'data-action': 'save-document', text: t('document.save_copy'),
    onclick: async () => {
      try {
        const where = await call('save_document_copy', { contract_id: contract.id });
        if (where) toast(t('document.saved', { path: where }));
      } catch (e) { toast(e.message, 'error'); }
    } });
  return h('span', { class: 'doc-cell' },
    h('span', { class: 'doc-name', title: contract.document.file_name, text: contract.document.file_name }),
    h('span', { class: 'doc-buttons' }, open, save, extra));
}
