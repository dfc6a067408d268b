// Active clients: converted leads with their contracts and revenue.
import { call } from '../api.js';
import { h, toast } from '../dom.js';
import { t, fmtMoney, fmtDate, fmtNumber } from '../i18n.js';
import { listPage } from '../list.js';
import { openForm } from '../form.js';
import { nameCell, contacts, clipped } from './services.js';
import { contractFields, contractInput } from './contract-form.js';
import { openCard } from '../card.js';
import { pickOwner, ownerFilter } from './leads.js';
import { importButton } from '../import.js';

export function render(container, ctx) {
  const canEdit = ctx.can('clients.edit');
  const list = listPage(container, {
    title: t('nav.clients'),
    command: 'list_clients',
    exportAs: 'clients',
    canExport: ctx.can('data.export'),
    savedAs: 'clients',
    headerExtra: importButton('clients', ctx, () => list.reload()),
    defaultSort: { sort: 'created_at', direction: 'desc' },
    peopleSearch: true,
    filters: [
      { name: 'campaign_id', type: 'picker', label: t('lead.campaign'), all: t('lead.all_campaigns'), search: (text) => call('campaign_options', { search: text }) },
      ownerFilter(ctx),
      { name: 'include_archived', type: 'checkbox', label: t('list.show_archived') },
    ],
    columns: [
      { key: 'full_name', label: t('client.full_name'), sort: 'full_name', value: (r) => nameCell(r.full_name, r.is_archived) },
      { key: 'phone', label: t('lead.contacts'), value: (r) => contacts(r) },
      { key: 'campaign_name', label: t('lead.campaign'), value: (r) => clipped(r.campaign_name) },
      { key: 'contracts', label: t('client.contracts'), num: true, value: (r) => fmtNumber(r.contracts) },
      { key: 'revenue', label: t('client.revenue'), sort: 'revenue', num: true, firstDirection: 'desc', value: (r) => fmtMoney(r.revenue) },
      { key: 'created_at', label: t('client.since'), sort: 'created_at', firstDirection: 'desc', value: (r) => fmtDate(r.created_at) },
    ],
    emptyText: t('client.empty'),
    emptyHint: t('client.empty_hint'),
    bulk: (() => {
      const actions = [
        ctx.can('owners.assign') ? { id: 'owner', label: t('bulk.owner'), prepare: () => pickOwner() } : null,
        canEdit ? { id: 'archive', label: t('action.archive'), prepare: () => ({ kind: 'archive' }) } : null,
        canEdit ? { id: 'restore', label: t('action.restore'), prepare: () => ({ kind: 'restore' }) } : null,
      ].filter(Boolean);
      return actions.length ? { command: 'bulk_clients', actions } : null;
    })(),
    // adding a contract is on the card a row opens (a button per row did not fit 1280 pixels)
    onRow: (row) => openCard({ kind: 'client', id: row.id }, ctx, { actions: { edit, addContract }, onChanged: () => list.reload() }),
  });

  function edit(client, changed) {
    openForm({
      title: t('client.edit'),
      testId: 'client',
      fields: [
        { name: 'full_name', label: t('client.full_name'), wide: true },
        { name: 'phone', label: t('lead.phone') },
        { name: 'email', label: t('lead.email') },
        { name: 'note', label: t('lead.note'), type: 'textarea', wide: true },
      ],
      values: { ...client, phone: client.phone || '', email: client.email || '' },
      submit: (input) => call('update_client', { id: client.id, version: client.version, input }),
      onSaved: (saved) => { toast(t('common.saved', { name: saved.full_name })); list.reload(); if (changed) changed(); },
    });
  }

  function addContract(client, changed) {
    openForm({
      title: t('client.add_contract', { name: client.full_name }),
      testId: 'contract',
      fields: contractFields(true),
      submit: (values) => {
        const { input, document } = contractInput(values);
        return call('add_contract_to_client', { client_id: client.id, input, document });
      },
      onSaved: (contract) => { toast(t('common.saved', { name: contract.name })); list.reload(); if (changed) changed(); },
    });
  }
}
