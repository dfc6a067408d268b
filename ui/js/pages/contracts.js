// Contracts: number, service, dates, amount and the signed document stored in the database.
import { call } from '../api.js';
import { h, toast } from '../dom.js';
import { t, fmtMoney, fmtDate } from '../i18n.js';
import { listPage } from '../list.js';
import { openForm } from '../form.js';
import { bulkArchive } from '../archive.js';
import { nameCell } from './services.js';
import { contractFields, contractInput, contractValues } from './contract-form.js';
import { documentButtons, documentField } from '../documents.js';

export function render(container, ctx) {
  const canEdit = ctx.can('contracts.edit');
  // "My day" links here for all the contracts that end soon, soonest first
  const expiring = ctx.params?.get('expiring') === '1';
  const list = listPage(container, {
    title: t('nav.contracts'),
    command: 'list_contracts',
    exportAs: 'contracts',
    canExport: ctx.can('data.export'),
    bulk: canEdit ? bulkArchive('contracts') : null,
    savedAs: 'contracts',
    defaultSort: expiring ? { sort: 'valid_to', direction: 'asc' } : { sort: 'signed_on', direction: 'desc' },
    filters: [
      { name: 'service_id', type: 'picker', label: t('contract.service'), all: t('campaign.all_services'), search: (text) => call('service_options', { search: text }) },
      { name: 'signed_from', type: 'date', label: t('contract.signed_from') },
      { name: 'signed_to', type: 'date', label: t('stats.to') },
      { name: 'unassigned_only', type: 'checkbox', label: t('contract.unassigned_only') },
      { name: 'expiring', type: 'checkbox', label: t('contract.expiring'), value: expiring, sortsBy: { sort: 'valid_to', direction: 'asc' } },
      { name: 'include_archived', type: 'checkbox', label: t('list.show_archived') },
    ],
    columns: [
      { key: 'name', label: t('contract.name'), sort: 'name', value: (r) => h('span', { class: 'stack' }, nameCell(r.name, r.is_archived), h('span', { class: 'sub', text: r.service_name })) },
      { key: 'client_name', label: t('contract.client'), value: (r) => r.client_name || h('span', { class: 'badge badge-warn', text: t('contract.unassigned') }) },
      { key: 'signed_on', label: t('contract.signed_on'), sort: 'signed_on', firstDirection: 'desc', value: (r) => fmtDate(r.signed_on) },
      // the period on two lines keeps the table inside a 1280-pixel window
      { key: 'valid_to', label: t('contract.validity'), sort: 'valid_to',
        value: (r) => h('span', { class: 'stack' }, h('span', { text: `${fmtDate(r.valid_from)} –` }), h('span', { text: fmtDate(r.valid_to) })) },
      { key: 'amount', label: t('contract.amount'), sort: 'amount', num: true, firstDirection: 'desc', value: (r) => fmtMoney(r.amount) },
      { key: 'document', label: t('contract.document'), value: (r) => documentButtons(r, canEdit ? attachButton(r) : null) },
    ],
    emptyText: t('contract.empty'),
    emptyHint: canEdit ? t('contract.empty_hint') : null,
    create: canEdit ? { label: t('contract.create'), open: () => edit(null) } : null,
    onRow: canEdit ? (row) => edit(row) : null,

  });

  function edit(contract) {
    openForm({
      title: contract ? t('contract.edit') : t('contract.create'),
      intro: contract ? null : t('contract.create_intro'),
      testId: 'contract',
      fields: contractFields(!contract, contract?.service_name),
      values: contractValues(contract),
      submit: (values) => {
        const { input, document } = contractInput(values);
        return contract
          ? call('update_contract', { id: contract.id, version: contract.version, input })
          : call('create_contract', { input, document });
      },
      onSaved: (saved) => { toast(t('common.saved', { name: saved.name })); list.reload(); },
    });
  }

  function attach(contract) {
    openForm({
      title: t('contract.attach_title', { name: contract.name }),
      testId: 'attach',
      fields: [documentField(t('contract.document'))],
      submitLabel: t('contract.attach'),
      submit: ({ document }) => call('attach_document', { contract_id: contract.id, version: contract.version, document: document ?? null }),
      onSaved: () => list.reload(),
    });
  }

  function attachButton(row) {
    return h('button', { class: 'btn btn-small btn-ghost', 'data-action': 'attach', text: row.document ? t('contract.replace_document_short') : t('contract.attach_short'), onclick: () => attach(row) });
  }

}
