// Tasks as every page shows them: one row (done box, when, what, about whom) and the task form.
import { call } from './api.js';
import { h, toast } from './dom.js';
import { t, fmtDateTime, fmtPhone } from './i18n.js';
import { openForm } from './form.js';

export const KINDS = ['call', 'meeting', 'email', 'other'];

/** A task row: tick it done (asking what came of it), or open it again. `open(record)` opens the
 *  card of the task's lead or client when given. */
export function taskRow(task, changed, { showRecord = true, open = null } = {}) {
  const overdue = !task.is_done && new Date(task.due_at) < new Date();
  const box = h('input', { type: 'checkbox', checked: task.is_done, 'data-action': 'done', 'aria-label': t('task.done'),
    onchange: async () => {
      box.disabled = true;
      if (!task.is_done) {
        openForm({
          title: t('task.done_title', { subject: task.subject }), testId: 'task-done',
          fields: [{ name: 'result', label: t('task.result'), type: 'textarea', wide: true }],
          submitLabel: t('task.mark_done'),
          submit: (v) => call('set_task_done', { id: task.id, version: task.version, done: true, result: v.result }),
          onSaved: () => { toast(t('task.marked_done')); changed(); },
        }).addEventListener('close', () => { box.checked = task.is_done; box.disabled = false; });
      } else {
        try { await call('set_task_done', { id: task.id, version: task.version, done: false, result: '' }); changed(); } catch (e) { toast(e.message, 'error'); box.disabled = false; }
      }
    } });
  const record = task.lead_id ? { kind: 'lead', id: task.lead_id } : task.client_id ? { kind: 'client', id: task.client_id } : null;
  const about = showRecord && record && task.record_name
    ? (open ? h('a', { href: '#', 'data-action': 'open-record', text: task.record_name, onclick: (e) => { e.preventDefault(); open(record); } })
      : h('span', { text: task.record_name }))
    : null;
  return h('li', { class: `task${overdue ? ' task-overdue' : ''}${task.is_done ? ' task-done' : ''}`, 'data-task': task.id },
    box,
    h('span', { class: 'task-when', text: fmtDateTime(task.due_at) }),
    h('span', { class: `badge badge-kind-${task.kind}`, text: t(`task.kind_${task.kind}`) }),
    h('button', { type: 'button', class: 'link task-subject', text: task.subject, onclick: () => taskForm(task, { onSaved: changed }) }),
    about ? h('span', { class: 'task-about' }, '· ', about) : null,
    h('span', { class: 'muted task-who', text: task.assignee_name }));
}

/** The first leads and clients the user may see whose name, phone or e-mail has `text`, as
 *  picker options `lead:12` / `client:5` (a task on its own may be about either). */
async function recordOptions(text, ctx) {
  const filter = { search: text, page: { offset: 0, limit: 8 } };
  const [leads, clients] = await Promise.all([
    ctx.can('leads.view') ? call('list_leads', { filter }) : null,
    ctx.can('clients.view') ? call('list_clients', { filter }) : null,
  ]);
  const option = (kind, r) => [`${kind}:${r.id}`, `${r.full_name} · ${t(`task.about_${kind}`)}${r.phone ? ` · ${fmtPhone(r.phone)}` : ''}`];
  // a converted lead is offered as its client
  return [...(leads?.items || []).filter((l) => !clients || l.status !== 'converted').map((l) => option('lead', l)),
    ...(clients?.items || []).map((c) => option('client', c))];
}

/** The task form: new (about `record`, if any) or an edit of `task`. A new task without a record
 *  offers to pick the lead or client it is about (`ctx` says which the user may see). */
export async function taskForm(task, { record = null, onSaved, ctx = null }) {
  let users = [];
  try { users = await call('user_options'); } catch (e) { toast(e.message, 'error'); return; }
  const local = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  openForm({
    title: task ? t('task.edit') : t('task.new'), testId: 'task',
    fields: [
      { name: 'subject', label: t('task.subject'), wide: true },
      { name: 'kind', label: t('task.kind'), type: 'select', options: KINDS.map((k) => [k, t(`task.kind_${k}`)]) },
      { name: 'due_at', label: t('task.due_at'), type: 'datetime' },
      { name: 'assignee_id', label: t('task.assignee'), type: 'select', numeric: true, options: users.map((u) => [u.id, u.full_name]), wide: true },
      ...(!task && !record && ctx && (ctx.can('leads.view') || ctx.can('clients.view'))
        ? [{ name: 'about', label: t('task.about'), type: 'picker', empty: t('task.about_nobody'), wide: true, search: (text) => recordOptions(text, ctx) }]
        : []),
    ],
    values: task ? { ...task, due_at: local(task.due_at) } : { kind: 'call', due_at: '', assignee_id: ctx?.user?.user_id ?? null },
    submit: (v) => {
      const [kind, id] = String(v.about ?? '').split(':');
      const about = id ? { kind, id: Number(id) } : record;
      const input = { subject: v.subject, kind: v.kind, due_at: v.due_at, assignee_id: v.assignee_id, record: task ? null : about };
      return task ? call('update_task', { id: task.id, version: task.version, input }) : call('create_task', { input });
    },
    onSaved: () => { toast(t('task.saved')); if (onSaved) onSaved(); },
  });
}
