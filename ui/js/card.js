// A lead's or client's card: its fields, where it came from, its owner, open tasks, a note box and
// the timeline (the audit log, newest first). Opened from any list, task or search; the buttons
// are the ones the user's permissions allow, and the core checks them again.
import { call } from './api.js';
import { h, fill, toast } from './dom.js';
import { t, fmtDate, fmtDateTime, fmtMoney, fmtPhone, DASH } from './i18n.js';
import { openForm } from './form.js';
import { statusBadge } from './pages/campaigns.js';
import { emailText } from './pages/services.js';
import { taskForm, taskRow } from './tasks.js';
import { archiveButton } from './archive.js';

/**
 * Opens the card of `record` ({ kind: 'lead'|'client', id }). `actions` may offer what the page
 * that opened it does: edit(lead), convert(lead), archive(record). `onChanged` runs after any
 * change so the list behind can reload.
 */
export async function openCard(record, ctx, { actions = {}, onChanged = () => {} } = {}) {
  const body = h('div', { class: 'card-body' }, h('p', { class: 'muted', text: t('common.loading') }));
  const close = h('button', { type: 'button', class: 'btn btn-ghost btn-small card-close', 'data-action': 'close', 'aria-label': t('action.close'), text: '✕' });
  const dialog = h('dialog', { class: 'dialog dialog-card', 'data-card': record.kind }, h('div', { class: 'dialog-body' }, close, body));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();

  const changed = async () => { onChanged(); await load(); };
  async function load() {
    let card;
    try {
      card = await call(record.kind === 'lead' ? 'lead_card' : 'client_card', { id: record.id });
    } catch (e) {
      fill(body, h('p', { class: 'form-banner', role: 'alert', text: e.message }));
      return;
    }
    fill(body, ...renderCard(card, record, ctx, actions, changed, dialog).filter(Boolean));
  }
  await load();
  return dialog;
}

function renderCard(card, record, ctx, actions, changed, dialog) {
  const isLead = record.kind === 'lead';
  const main = isLead ? card.lead : card.client;
  const lead = card.lead;
  const title = h('div', { class: 'card-head' },
    h('h2', { class: 'dialog-title', 'data-card-title': '', text: main.full_name }),
    h('span', { class: 'muted', text: `№${main.id}` }),
    isLead ? statusBadge('lead', lead.status) : h('span', { class: 'badge badge-status-converted', text: t('card.client') }),
    main.is_archived ? h('span', { class: 'badge', text: t('card.archived') }) : null);

  const origin = card.origin;
  const facts = h('dl', { class: 'facts' },
    fact(t('lead.phone'), fmtPhone(main.phone)),
    fact(t('lead.email'), main.email ? emailText(main.email) : DASH),
    fact(t('lead.campaign'), origin ? campaignWithChannel(origin) : t('lead.no_campaign')),
    fact(t('card.service'), origin ? `${origin.service_name}, ${fmtMoney(origin.service_price)}` : DASH),
    fact(t('card.owner'), ownerCell(main, record, ctx, changed)),
    fact(isLead ? t('lead.created_by') : t('card.converted_by'),
      `${isLead ? lead.created_by_name : card.client.converted_by_name}, ${fmtDateTime(main.created_at)}`),
    isLead && lead.lost_reason ? fact(t('card.lost_reason'), lead.lost_reason) : null,
    !isLead ? fact(t('client.revenue'), `${fmtMoney(card.client.revenue)} · ${t('card.contract_count', { n: card.client.contracts })}`) : null,
    isLead && lead.client_id ? fact(t('card.client'), clientLink(lead, ctx, dialog)) : null,
    main.note ? fact(t('lead.note'), h('span', { class: 'pre', text: main.note })) : null);

  return [
    title,
    buttons(card, record, ctx, actions, changed, dialog),
    facts,
    isLead ? null : contractsBlock(card),
    !isLead ? h('p', { class: 'muted', text: t('card.from_lead', { date: fmtDate(lead.created_at), name: lead.created_by_name }) }) : null,
    isLead ? duplicatesBlock(card.lead, ctx, changed, dialog) : null,
    tasksBlock(card, record, ctx, changed),
    ctx.can('notes.add') ? noteBox(record, changed) : null,
    timelineBlock(card, record),
  ];
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', { text: label }), h('dd', {}, value));
}

/** The owner's name, and for those who may reassign, a picker. */
function ownerCell(main, record, ctx, changed) {
  const name = main.owner_name || DASH;
  const frozen = record.kind === 'lead' && main.status === 'converted';
  if (!ctx.can('owners.assign') || frozen) return name;
  const button = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-action': 'change-owner', text: t('card.change_owner'),
    onclick: async () => {
      let users;
      try { users = await call('user_options'); } catch (e) { toast(e.message, 'error'); return; }
      openForm({
        title: t('card.change_owner'), testId: 'owner',
        fields: [{ name: 'owner_id', label: t('card.owner'), type: 'select', numeric: true, options: users.map((u) => [u.id, u.full_name]), wide: true }],
        values: { owner_id: main.owner_id },
        submit: (v) => call('set_owner', { record, version: main.version, owner_id: v.owner_id ?? 0 }),
        onSaved: () => { toast(t('card.owner_changed')); changed(); },
      });
    } });
  return h('span', {}, name, ' ', button);
}

function clientLink(lead, ctx, dialog) {
  if (!ctx.can('clients.view')) return t('card.converted_no_access');
  return h('a', { href: '#', 'data-action': 'open-client', text: t('card.open_client'),
    onclick: (e) => { e.preventDefault(); dialog.close(); openCard({ kind: 'client', id: lead.client_id }, ctx); } });
}

function buttons(card, record, ctx, actions, changed, dialog) {
  const row = h('div', { class: 'card-actions' });
  const lead = card.lead;
  if (record.kind === 'lead') {
    const live = lead.status !== 'converted' && !lead.is_archived;
    if (ctx.can('leads.edit') && lead.status !== 'converted' && actions.edit) {
      row.append(h('button', { class: 'btn btn-small', 'data-action': 'edit', text: t('action.edit'), onclick: () => actions.edit(lead, changed) }));
    }
    if (ctx.can('leads.edit') && live) {
      for (const status of ['new', 'in_work', 'lost'].filter((s) => s !== lead.status)) {
        row.append(h('button', { class: 'btn btn-small btn-ghost', 'data-action': `status-${status}`, text: t(`card.to_${status}`),
          onclick: () => setStatus(lead, status, changed) }));
      }
    }
    if (ctx.can('leads.convert') && live && actions.convert) {
      row.append(h('button', { class: 'btn btn-small btn-primary', 'data-action': 'convert', text: t('lead.convert'),
        onclick: () => { dialog.close(); actions.convert(lead, card.origin); } }));
    }
    if (ctx.can('leads.edit') && lead.status !== 'converted') {
      row.append(archiveButton(lead, 'set_lead_archived', changed));
    }
    if (lead.status === 'converted' && !ctx.can('clients.view')) {
      row.append(h('span', { class: 'muted', text: t('card.converted_no_access') }));
    }
  } else if (ctx.can('clients.edit') && actions.edit) {
    row.append(h('button', { class: 'btn btn-small', 'data-action': 'edit', text: t('action.edit'), onclick: () => actions.edit(card.client, changed) }));
  }
  if (record.kind === 'client' && ctx.can('contracts.edit') && !card.client.is_archived && actions.addContract) {
    row.append(h('button', { class: 'btn btn-small', 'data-action': 'add-contract', text: t('client.add_contract_short'), onclick: () => actions.addContract(card.client, changed) }));
  }
  if (record.kind === 'client' && ctx.can('clients.edit')) {
    row.append(archiveButton(card.client, 'set_client_archived', changed));
  }
  return row;
}

/** A status change; "lost" asks why, from the reasons list. */
export async function setStatus(lead, status, changed) {
  if (status !== 'lost') {
    try { await call('set_lead_status', { id: lead.id, version: lead.version, status, lost_reason_id: null }); changed(); } catch (e) { toast(e.message, 'error'); }
    return;
  }
  let reasons;
  try { reasons = await call('list_lost_reasons', { include_archived: false }); } catch (e) { toast(e.message, 'error'); return; }
  openForm({
    title: t('card.why_lost', { name: lead.full_name }), testId: 'lost',
    fields: [{ name: 'lost_reason_id', label: t('card.lost_reason'), type: 'select', numeric: true, empty: t('common.choose'), options: reasons.map((r) => [r.id, r.name]), wide: true }],
    submitLabel: t('card.to_lost'),
    submit: (v) => call('set_lead_status', { id: lead.id, version: lead.version, status: 'lost', lost_reason_id: v.lost_reason_id }),
    onSaved: () => changed(),
  });
}

function contractsBlock(card) {
  if (!card.contracts) return null;
  return h('section', { class: 'card-section' },
    h('h3', { text: t('nav.contracts') }),
    card.contracts.length === 0 ? h('p', { class: 'muted', text: t('card.no_contracts') }) :
      h('ul', { class: 'card-list' }, card.contracts.map((c) => h('li', {},
        h('strong', { text: c.name }), ` · ${c.service_name} · ${fmtMoney(c.amount)} · ${fmtDate(c.valid_from)} – ${fmtDate(c.valid_to)}`,
        c.document ? h('span', { class: 'muted', text: ` · ${c.document.file_name}` }) : null,
        c.is_archived ? h('span', { class: 'badge', text: t('card.archived') }) : null))));
}

/** Probable duplicates of a lead, loaded after the card, each with why and, for those who may,
 *  a Merge button. A lead merged into another says so and links to it. */
function duplicatesBlock(lead, ctx, changed, dialog) {
  const section = h('section', { class: 'card-section', 'data-section': 'duplicates', hidden: true });
  if (lead.merged_into) {
    section.hidden = false;
    section.append(h('p', { class: 'muted' }, t('merge.merged_into'), ' ',
      h('a', { href: '#', 'data-action': 'open-survivor', text: `№${lead.merged_into}`,
        onclick: (e) => { e.preventDefault(); dialog.close(); openCard({ kind: 'lead', id: lead.merged_into }, ctx); } })));
    return section;
  }
  call('lead_duplicates', { id: lead.id }).then((found) => {
    if (found.length === 0) return;
    section.hidden = false;
    const canMerge = ctx.can('leads.merge') && ctx.can('leads.edit');
    section.append(h('h3', { text: t('merge.title', { n: found.length }) }),
      h('ul', { class: 'card-list' }, found.map((d) => h('li', { 'data-duplicate': d.lead.id },
        h('strong', { text: d.lead.full_name }), ` №${d.lead.id} · ${d.lead.phone || ''} ${d.lead.email || ''} · `,
        h('span', { class: 'muted', text: d.reasons.map((r) => t(`merge.why_${r}`)).join(', ') }),
        d.lead.is_archived ? h('span', { class: 'badge', text: t('card.archived') }) : null,
        canMerge ? h('button', { class: 'btn btn-small', 'data-action': 'merge', text: t('merge.merge'),
          onclick: () => mergeDialog(lead, d.lead, changed) }) : null))));
  }).catch((e) => toast(e.message, 'error'));
  return section;
}

/** Which lead stays (a converted one always does) and, field by field, whose value it keeps. */
function mergeDialog(current, other, changed) {
  const [keep, drop] = other.status === 'converted' ? [other, current] : [current, other];
  const frozen = keep.status === 'converted';
  const fields = ['full_name', 'phone', 'email', 'campaign_id', 'note'];
  const shown = (lead, field) => (field === 'campaign_id' ? lead.campaign_name : lead[field]) || DASH;
  openForm({
    title: t('merge.dialog_title'), testId: 'merge',
    intro: t(frozen ? 'merge.intro_converted' : 'merge.intro', { keep: keep.full_name, keep_id: keep.id, drop: drop.full_name, drop_id: drop.id }),
    fields: frozen ? [] : fields.filter((f) => shown(keep, f) !== shown(drop, f)).map((f) => ({
      name: f, label: t(`field.${f === 'campaign_id' ? 'campaign' : f}`), type: 'select', wide: true,
      options: [['keep', shown(keep, f)], ['drop', shown(drop, f)]],
    })),
    values: Object.fromEntries(fields.map((f) => [f, 'keep'])),
    submitLabel: t('merge.merge'),
    submit: (v) => call('merge_leads', { input: {
      keep: keep.id, keep_version: keep.version, drop: drop.id, drop_version: drop.version,
      take: Object.entries(v).filter(([, side]) => side === 'drop').map(([f]) => f),
    } }),
    onSaved: (merged) => { toast(t('merge.done', { name: merged.full_name })); changed(); },
  });
}

function tasksBlock(card, record, ctx, changed) {
  const quick = h('button', { class: 'btn btn-small', 'data-action': 'call-back', text: t('task.call_back_tomorrow'),
    onclick: async () => {
      try {
        await call('create_task', { input: { subject: t('task.call_back_subject'), kind: 'call', due_at: tomorrowAt(10), record } });
        toast(t('task.added')); changed();
      } catch (e) { toast(e.message, 'error'); }
    } });
  const add = h('button', { class: 'btn btn-small btn-ghost', 'data-action': 'new-task', text: t('task.new'),
    onclick: () => taskForm(null, { record, onSaved: changed, ctx }) });
  return h('section', { class: 'card-section', 'data-section': 'tasks' },
    h('div', { class: 'section-head' }, h('h3', { text: t('task.open_tasks') }), quick, add),
    card.tasks.length === 0 ? h('p', { class: 'muted', text: t('task.none_open') }) :
      h('ul', { class: 'card-list' }, card.tasks.map((task) => taskRow(task, changed, { showRecord: false }))));
}

/** `YYYY-MM-DDTHH:MM` of tomorrow at `hour`, local time: what the task form sends. */
export function tomorrowAt(hour) {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(hour)}:00`;
}

function noteBox(record, changed) {
  const text = h('textarea', { rows: 2, name: 'note', placeholder: t('card.note_placeholder'), 'aria-label': t('card.add_note') });
  const error = h('div', { class: 'field-error' });
  const add = h('button', { class: 'btn btn-small', 'data-action': 'add-note', text: t('card.add_note'),
    onclick: async () => {
      error.textContent = '';
      try { await call('add_note', { record, body: text.value }); text.value = ''; changed(); } catch (e) {
        error.textContent = (e.fields && e.fields[0] && e.fields[0].message) || e.message;
      }
    } });
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); add.click(); } });
  return h('section', { class: 'card-section note-box' }, text, h('div', { class: 'note-buttons' }, error, add));
}

function timelineBlock(card, record) {
  const list = h('ol', { class: 'timeline', 'data-timeline': '' });
  let shown = 0;
  const more = h('button', { class: 'btn btn-ghost btn-small', 'data-action': 'more', text: t('card.more') });
  const append = (page) => {
    for (const entry of page.items) list.append(entryRow(entry));
    shown += page.items.length;
    more.hidden = shown >= page.total;
  };
  more.addEventListener('click', async () => {
    try { append(await call('timeline', { record, page: { offset: shown, limit: 20 } })); } catch (e) { toast(e.message, 'error'); }
  });
  append(card.timeline);
  return h('section', { class: 'card-section' }, h('h3', { text: t('card.history', { n: card.timeline.total }) }), list, more);
}

/** A campaign and its channel, the channel once: marketers often name a campaign after it. */
function campaignWithChannel(origin) {
  const named = origin.campaign_name.toLocaleLowerCase().includes(origin.channel_name.toLocaleLowerCase());
  return named ? origin.campaign_name : `${origin.campaign_name} · ${origin.channel_name}`;
}

/** What an entry's row shows under its head (a note, a task's subject, a contract), or ''
 * where its details are only the record's name at the time (the History page shows that
 * beside the row instead). */
export function entryDetail(entry) {
  return ['note', 'task_added', 'task_done', 'task_reopened', 'task_changed', 'merge', 'merged'].includes(entry.action) || entry.entity === 'contract'
    ? entry.details : '';
}

/** One audit entry in words: who, when, what; field edits as old -> new. */
export function entryRow(entry) {
  const what = t(`entry.${entry.entity}.${entry.action}`) !== `entry.${entry.entity}.${entry.action}`
    ? t(`entry.${entry.entity}.${entry.action}`) : t(`entry.${entry.action}`);
  const detail = entryDetail(entry);
  return h('li', { class: `entry entry-${entry.action}`, 'data-action-kind': entry.action },
    h('div', { class: 'entry-head' },
      h('strong', { text: what }),
      h('span', { class: 'muted', text: ` · ${entry.user_name || DASH} · ${fmtDateTime(entry.at)}` })),
    detail ? h('div', { class: entry.action === 'note' ? 'entry-note pre' : 'entry-detail', text: detail }) : null,
    entry.changes.length ? h('ul', { class: 'changes' }, entry.changes.map((c) => h('li', {},
      h('span', { class: 'change-field', text: `${t(`field.${c.field}`)}: ` }),
      h('span', { class: 'change-old', text: shownValue(c.field, c.old) }), ' → ',
      h('span', { class: 'change-new', text: shownValue(c.field, c.new) })))) : null);
}

function shownValue(field, value) {
  if (value === '') return DASH;
  if (field === 'status') return t(`lead.status_${value}`);
  if (field === 'phone') return fmtPhone(value);
  if (field === 'due_at') return fmtDateTime(value);
  if (field === 'kind') return t(`task.kind_${value}`);
  return value;
}
