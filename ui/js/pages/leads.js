// Leads: who came from which campaign; operators add and edit them, managers convert them into
// active clients with a new or an existing contract.
import { call } from '../api.js';
import { h, toast } from '../dom.js';
import { t, fmtDate, moneyInput } from '../i18n.js';
import { listPage } from '../list.js';
import { openForm, askChoice } from '../form.js';
import { nameCell, contacts, clipped } from './services.js';
import { statusBadge } from './campaigns.js';
import { contractFields, contractInput } from './contract-form.js';
import { openCard } from '../card.js';
import { importButton } from '../import.js';

const STATUSES = ['new', 'in_work', 'converted', 'lost'];

export function render(container, ctx) {
  const canEdit = ctx.can('leads.edit');
  const canConvert = ctx.can('leads.convert');
  const list = listPage(container, {
    title: t('nav.leads'),
    command: 'list_leads',
    exportAs: 'leads',
    canExport: ctx.can('data.export'),
    savedAs: 'leads',
    headerExtra: importButton('leads', ctx, () => list.reload()),
    defaultSort: { sort: 'created_at', direction: 'desc' },
    searchPlaceholder: t('lead.search'),
    peopleSearch: true,
    filters: [
      { name: 'status', type: 'select', label: t('lead.status'), all: t('lead.all_statuses'), options: STATUSES.map((s) => [s, t(`lead.status_${s}`)]) },
      { name: 'campaign_id', type: 'picker', label: t('lead.campaign'), all: t('lead.all_campaigns'), search: (text) => call('campaign_options', { search: text }) },
      ownerFilter(ctx),
      { name: 'created_from', type: 'date', label: t('stats.from') },
      { name: 'created_to', type: 'date', label: t('stats.to') },
      { name: 'include_archived', type: 'checkbox', label: t('list.show_archived') },
      { name: 'duplicates', type: 'checkbox', label: t('lead.duplicates_only'), title: t('lead.duplicates_hint') },
    ],
    columns: [
      { key: 'full_name', label: t('lead.full_name'), sort: 'full_name', value: (r) => nameCell(r.full_name, r.is_archived) },
      { key: 'phone', label: t('lead.contacts'), value: (r) => contacts(r) },
      { key: 'campaign_name', label: t('lead.campaign'), value: (r) => clipped(r.campaign_name) },
      // the owner under the status: who works the lead, without a column more
      { key: 'status', label: t('lead.status'), sort: 'status',
        value: (r) => h('span', { class: 'stack' }, statusBadge('lead', r.status), h('span', { class: 'sub', title: t('card.owner'), text: r.owner_name || '' })) },
      // who added it is on the card; the list keeps to what a row is worked by
      { key: 'created_at', label: t('lead.created_at'), sort: 'created_at', firstDirection: 'desc', value: (r) => fmtDate(r.created_at) },
    ],
    emptyText: t('lead.empty'),
    emptyHint: canEdit ? t('lead.empty_hint') : null,
    create: canEdit ? { label: t('lead.create'), open: () => edit(null) } : null,
    onRow: (row) => card(row),
    bulk: bulkActions(ctx),
    actions: canConvert ? (row, reload) => actions(row, reload) : null,
  });

  function card(row) {
    openCard({ kind: 'lead', id: row.id }, ctx, { actions: { edit, convert }, onChanged: () => list.reload() });
  }

  async function edit(lead, changed) {
    if (lead && lead.status === 'converted') { toast(t('lead.converted_locked')); return; }
    openForm({
      title: lead ? t('lead.edit') : t('lead.create'),
      testId: 'lead',
      fields: [
        { name: 'full_name', label: t('lead.full_name'), wide: true },
        { name: 'phone', label: t('lead.phone'), placeholder: t('format.phone_example') },
        { name: 'email', label: t('lead.email'), placeholder: t('format.email_example') },
        { name: 'campaign_id', label: t('lead.campaign'), type: 'picker', empty: t('lead.no_campaign'), text: lead?.campaign_name,
          search: (text) => call('campaign_options', { search: text }) },
        // "lost" asks why: it is set from the card
        ...(lead && lead.status === 'lost' ? [] : [{ name: 'status', label: t('lead.status'), type: 'select', options: ['new', 'in_work'].map((s) => [s, t(`lead.status_${s}`)]) }]),
        { name: 'note', label: t('lead.note'), type: 'textarea', wide: true },
      ],
      values: lead ? { ...lead, phone: lead.phone || '', email: lead.email || '' } : { status: 'new' },
      submit: (input) => (lead
        ? call('update_lead', { id: lead.id, version: lead.version, input })
        : call('create_lead', { input })),
      onSaved: (saved) => { toast(t('common.saved', { name: saved.full_name })); list.reload(); if (changed) changed(); },
    });
  }

  function actions(row, reload) {
    const buttons = [];
    if (canConvert && row.status !== 'converted' && !row.is_archived) {
      buttons.push(h('button', { class: 'btn btn-small', 'data-action': 'convert', text: t('lead.convert'), onclick: () => convert(row) }));
    }
    return buttons;
  }

  function convert(lead, origin) {
    convertLead(lead, ctx, () => list.reload(), origin);
  }
}

/** What the leads list does to the ticked rows, as the user's permissions allow. */
function bulkActions(ctx) {
  const canEdit = ctx.can('leads.edit');
  const actions = [
    canEdit ? { id: 'in_work', label: t('card.to_in_work'), prepare: () => ({ kind: 'set_status', status: 'in_work' }) } : null,
    canEdit ? { id: 'lost', label: t('card.to_lost'), prepare: async () => {
      const reasons = await call('list_lost_reasons', { include_archived: false });
      const reason = await askChoice({ title: t('bulk.why_lost'), label: t('card.lost_reason'), options: reasons.map((r) => [r.id, r.name]), testId: 'bulk-lost' });
      return reason === null ? null : { kind: 'set_status', status: 'lost', lost_reason_id: reason };
    } } : null,
    ctx.can('owners.assign') ? { id: 'owner', label: t('bulk.owner'), prepare: () => pickOwner() } : null,
    canEdit ? { id: 'archive', label: t('action.archive'), prepare: () => ({ kind: 'archive' }) } : null,
    canEdit ? { id: 'restore', label: t('action.restore'), prepare: () => ({ kind: 'restore' }) } : null,
  ].filter(Boolean);
  return actions.length ? { command: 'bulk_leads', actions } : null;
}

/** A list's owner filter: one's own records first ("mine"), then each colleague's. */
export function ownerFilter(ctx) {
  return { name: 'owner_id', type: 'select', label: t('card.owner'), all: t('lead.all_owners'), numeric: true, options: [[ctx.user.user_id, t('lead.mine')]],
    load: () => call('user_options').then((users) => users.filter((u) => u.id !== ctx.user.user_id).map((u) => [u.id, u.full_name])) };
}

/** Asks whom to give the ticked records to. */
export async function pickOwner() {
  const users = await call('user_options');
  const owner = await askChoice({ title: t('bulk.owner'), label: t('card.owner'), options: users.map((u) => [u.id, u.full_name]), testId: 'bulk-owner' });
  return owner === null ? null : { kind: 'set_owner', owner_id: owner };
}

/** Converts `lead` with a new or an existing contract; `onDone` after it. */
/** Converts `lead` into a client; `origin` (its campaign, channel and service) pre-fills the
 *  contract: the card has it, a list row does not, so it is read then. */
export async function convertLead(lead, ctx, onDone, origin) {
  if (origin === undefined) {
    try { origin = (await call('lead_card', { id: lead.id })).origin; } catch (e) { toast(e.message, 'error'); return; }
  }
  const canCreate = ctx.can('contracts.edit');
  const modes = [canCreate ? ['new_contract', t('convert.new_contract')] : null, ['existing_contract', t('convert.existing_contract')]].filter(Boolean);
  const dialog = openForm({
    title: t('convert.title', { name: lead.full_name }),
    intro: t('convert.intro'),
    testId: 'convert',
    submitLabel: t('convert.confirm'),
    fields: [
      { name: 'kind', label: t('convert.contract'), type: 'select', options: modes, wide: true },
      { name: 'contract_id', label: t('convert.pick_contract'), type: 'picker', wide: true,
        search: (text) => call('list_contracts', { filter: { unassigned_only: true, search: text, page: { offset: 0, limit: 50 } } })
          .then((page) => page.items.map((c) => [c.id, `${c.name} · ${c.service_name}`])) },
      ...(canCreate ? contractFields(true, origin?.service_name) : []),
    ],
    // the service the campaign advertised, at its price, for a year from today: all editable
    values: { kind: modes[0][0], ...contractDefaults(origin) },
    submit: (values) => {
      const conversion = values.kind === 'existing_contract'
        ? { kind: 'existing_contract', contract_id: values.contract_id ?? 0 }
        : { kind: 'new_contract', ...newContract(values) };
      return call('convert_lead', { lead_id: lead.id, lead_version: lead.version, conversion });
    },
    onSaved: (client) => { toast(t('convert.done', { name: client.full_name })); onDone(); },
  });
  const kind = dialog.querySelector('[name=kind]');
  const toggle = () => {
    const existing = kind.value === 'existing_contract';
    for (const row of dialog.querySelectorAll('.field')) {
      const name = row.dataset.field;
      if (name === 'kind') continue;
      row.hidden = existing ? name !== 'contract_id' : name === 'contract_id';
    }
  };
  kind.addEventListener('change', toggle);
  toggle();
}

/** A new contract's starting values: the campaign's service at its price, signed today, valid
 *  for a year. */
function contractDefaults(origin) {
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const today = new Date();
  const end = new Date(today.getFullYear() + 1, today.getMonth(), today.getDate() - 1);
  const dates = { signed_on: iso(today), valid_from: iso(today), valid_to: iso(end) };
  return origin ? { ...dates, service_id: origin.service_id, amount: moneyInput(origin.service_price) } : dates;
}

/** The new-contract part of the conversion form. */
function newContract(values) {
  const { name, service_id: serviceId, amount, signed_on: signedOn, valid_from: validFrom, valid_to: validTo, document } = values;
  const { input, document: token } = contractInput({ name, service_id: serviceId, amount, signed_on: signedOn, valid_from: validFrom, valid_to: validTo, document });
  return { contract: input, document: token };
}
