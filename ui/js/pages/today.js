// "My day": the user's overdue, today's and upcoming tasks, and for those who see contracts the
// ones that run out soon. Every task opens its lead's or client's card.
import { call } from '../api.js';
import { h, fill, toast } from '../dom.js';
import { t, fmtDate, fmtMoney, fmtNumber } from '../i18n.js';
import { openCard } from '../card.js';
import { taskForm, taskRow } from '../tasks.js';

export function render(container, ctx) {
  const body = h('div', { class: 'day' });
  const add = h('button', { class: 'btn btn-primary', 'data-action': 'create', text: t('task.new'), onclick: () => taskForm(null, { onSaved: load, ctx }) });
  fill(container, h('header', { class: 'page-header' }, h('h1', { text: t('nav.today') }), add), body);
  const open = (record) => openCard(record, ctx, { onChanged: load });

  async function load() {
    let day;
    try { day = await call('my_day'); } catch (e) { toast(e.message, 'error'); return; }
    ctx.updateBadge(day.counts);
    const group = (key, tasks, count) => h('section', { class: `day-group day-${key}`, 'data-group': key },
      h('h2', {}, t(`day.${key}`), h('span', { class: 'count', text: String(count) })),
      tasks.length === 0 ? h('p', { class: 'muted', text: t(`day.${key}_none`) })
        : h('ul', { class: 'card-list' }, tasks.map((task) => taskRow(task, load, { open }))),
      count > tasks.length ? h('p', { class: 'muted', text: t('day.more', { n: count - tasks.length }) }) : null);
    const columns = h('div', { class: 'day-columns' },
      group('overdue', day.overdue, day.counts.overdue),
      group('today', day.today, day.counts.today),
      group('upcoming', day.upcoming, day.counts.upcoming));
    const expiring = day.expiring ? h('section', { class: 'day-group', 'data-group': 'expiring' },
      h('h2', {}, t('day.expiring', { days: day.expiring_days }), h('span', { class: 'count', text: String(day.expiring.total) })),
      day.expiring.items.length === 0 ? h('p', { class: 'muted', text: t('day.expiring_none') })
        : h('ul', { class: 'card-list' }, day.expiring.items.map((c) => h('li', {},
          h('strong', { text: fmtDate(c.valid_to) }), ` · ${c.name} · `,
          c.client_id ? h('a', { href: '#', text: c.client_name, onclick: (e) => { e.preventDefault(); open({ kind: 'client', id: c.client_id }); } }) : t('contract.no_client'),
          ` · ${fmtMoney(c.amount)}`))),
      day.expiring.total > day.expiring.items.length
        ? h('p', {}, h('a', { href: '#/contracts?expiring=1', 'data-action': 'all-expiring', text: t('day.expiring_all', { n: fmtNumber(day.expiring.total) }) }))
        : null) : null;
    fill(body, ...[columns, expiring].filter(Boolean));
  }
  load();
}
