// Advertising campaigns: service, channel, budget, dates; start and finish; channels list.
import { call } from '../api.js';
import { h, fill, toast, confirmDialog } from '../dom.js';
import { t, fmtMoney, fmtDate, moneyInput } from '../i18n.js';
import { listPage } from '../list.js';
import { bulkArchive } from '../archive.js';
import { openForm } from '../form.js';
import { nameCell } from './services.js';
import { importButton } from '../import.js';

export const statusBadge = (prefix, status) => h('span', { class: `badge badge-status-${status}`, 'data-status': status, text: t(`${prefix}.status_${status}`) });

export function render(container, ctx) {
  const canEdit = ctx.can('campaigns.edit');
  const channels = () => call('list_channels', { include_archived: false }).then((list) => list.map((c) => [c.id, c.name]));
  const list = listPage(container, {
    title: t('nav.campaigns'),
    command: 'list_campaigns',
    exportAs: 'campaigns',
    canExport: ctx.can('data.export'),
    bulk: canEdit ? bulkArchive('campaigns') : null,
    defaultSort: { sort: 'starts_on', direction: 'desc' },
    filters: [
      { name: 'status', type: 'select', label: t('campaign.status'), all: t('campaign.all_statuses'),
        options: ['planned', 'active', 'finished'].map((s) => [s, t(`campaign.status_${s}`)]) },
      { name: 'channel_id', type: 'select', label: t('campaign.channel'), all: t('campaign.all_channels'), numeric: true, load: channels },
      { name: 'service_id', type: 'picker', label: t('campaign.service'), all: t('campaign.all_services'), search: (text) => call('service_options', { search: text }) },
      { name: 'include_archived', type: 'checkbox', label: t('list.show_archived') },
    ],
    columns: [
      { key: 'name', label: t('campaign.name'), sort: 'name', value: (r) => nameCell(r.name, r.is_archived) },
      { key: 'service_name', label: t('campaign.service') },
      { key: 'channel_name', label: t('campaign.channel') },
      { key: 'budget', label: t('campaign.budget'), sort: 'budget', num: true, firstDirection: 'desc', value: (r) => fmtMoney(r.budget) },
      { key: 'starts_on', label: t('campaign.period'), sort: 'starts_on', firstDirection: 'desc', value: (r) => `${fmtDate(r.starts_on)} – ${r.ends_on ? fmtDate(r.ends_on) : '…'}` },
      { key: 'status', label: t('campaign.status'), value: (r) => statusBadge('campaign', r.status) },
    ],
    emptyText: t('campaign.empty'),
    emptyHint: canEdit ? t('campaign.empty_hint') : null,
    headerExtra: [ctx.can('channels.edit') ? h('button', { class: 'btn', 'data-action': 'channels', text: t('channel.manage'), onclick: () => manageChannels() }) : null,
      importButton('campaigns', ctx, () => list.reload())],
    create: canEdit ? { label: t('campaign.create'), open: () => edit(null) } : null,
    onRow: canEdit ? (row) => edit(row) : null,
    actions: canEdit ? (row, reload) => actions(row, reload) : null,
  });

  async function edit(campaign) {
    let channelOptions;
    try { channelOptions = await channels(); } catch (e) { toast(e.message, 'error'); return; }
    openForm({
      title: campaign ? t('campaign.edit') : t('campaign.create'),
      testId: 'campaign',
      fields: [
        { name: 'name', label: t('campaign.name'), wide: true },
        { name: 'service_id', label: t('campaign.service'), type: 'picker', text: campaign?.service_name, search: (text) => call('service_options', { search: text }) },
        { name: 'channel_id', label: t('campaign.channel'), type: 'select', options: channelOptions, numeric: true, empty: t('common.choose') },
        { name: 'budget', label: t('campaign.budget_rub'), type: 'money', placeholder: t('format.budget_example') },
        { name: 'starts_on', label: t('campaign.starts_on'), type: 'date' },
        { name: 'ends_on', label: t('campaign.ends_on'), type: 'date', hint: t('campaign.ends_on_hint') },
      ],
      values: campaign ? { ...campaign, budget: moneyInput(campaign.budget) } : {},
      submit: (input) => (campaign
        ? call('update_campaign', { id: campaign.id, version: campaign.version, input })
        : call('create_campaign', { input })),
      onSaved: (saved) => { toast(t('common.saved', { name: saved.name })); list.reload(); },
    });
  }

  function actions(row, reload) {
    const act = (action, label, command, question) => h('button', { class: 'btn btn-small btn-ghost', 'data-action': action, text: label,
      onclick: async () => {
        if (question && !(await confirmDialog(question, label))) return;
        try {
          await call(command, command === 'set_campaign_archived'
            ? { id: row.id, version: row.version, archived: !row.is_archived }
            : { id: row.id, version: row.version });
          reload();
        } catch (e) { toast(e.message, 'error'); }
      } });
    return [
      row.status === 'planned' && !row.is_archived ? act('start', t('campaign.start'), 'start_campaign', t('campaign.start_confirm', { name: row.name })) : null,
      row.status === 'active' && !row.is_archived ? act('finish', t('campaign.finish'), 'finish_campaign', t('campaign.finish_confirm', { name: row.name })) : null,
      act(row.is_archived ? 'restore' : 'archive', row.is_archived ? t('action.restore') : t('action.archive'), 'set_campaign_archived',
        row.is_archived ? null : t('common.archive_confirm', { name: row.name })),
    ].filter(Boolean);
  }

  function manageChannels() {
    const body = h('div', { class: 'channel-list' });
    const name = h('input', { type: 'text', name: 'channel_name', placeholder: t('channel.new_placeholder'), 'aria-label': t('channel.name') });
    const error = h('div', { class: 'field-error' });
    const add = h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'add-channel', text: t('channel.add') });
    const form = h('form', { class: 'inline-form' }, name, add);
    const close = h('button', { type: 'button', class: 'btn', text: t('action.close'), onclick: () => dialog.close() });
    const dialog = h('dialog', { class: 'dialog', 'data-form': 'channels' },
      h('div', { class: 'dialog-body' }, h('h2', { class: 'dialog-title', text: t('channel.manage') }), form, error, body, h('div', { class: 'dialog-buttons' }, close)));
    const reload = async () => {
      try {
        const all = await call('list_channels', { include_archived: true });
        fill(body, ...all.map((c) => h('div', { class: `channel-row${c.is_archived ? ' archived' : ''}` },
          h('span', { class: 'channel-name', text: c.name }),
          h('button', { class: 'btn btn-small btn-ghost', text: t('channel.rename'), onclick: () => rename(c) }),
          h('button', { class: 'btn btn-small btn-ghost', text: c.is_archived ? t('action.restore') : t('action.archive'),
            onclick: async () => {
              try { await call('set_channel_archived', { id: c.id, version: c.version, archived: !c.is_archived }); reload(); } catch (e) { toast(e.message, 'error'); }
            } }))));
      } catch (e) { error.textContent = e.message; }
    };
    const rename = (c) => openForm({
      title: t('channel.rename'),
      fields: [{ name: 'name', label: t('channel.name'), wide: true }],
      values: c,
      submit: ({ name: value }) => call('rename_channel', { id: c.id, version: c.version, name: value }),
      onSaved: reload,
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        await call('create_channel', { name: name.value });
        name.value = '';
        reload();
      } catch (e) { error.textContent = e.fields?.[0]?.message || e.message; }
    });
    dialog.addEventListener('close', () => { dialog.remove(); list.reload(); });
    document.body.append(dialog);
    dialog.showModal();
    name.focus();
    reload();
  }
}
