// Leads as a board: a column per status with its count, each paged on its own; the list's search
// and filters. Dragging a card to another column changes the status through the core: to
// "converted" opens the conversion, to "lost" asks why. Each card also has a "move to" menu
// for the keyboard.
import { call, rendered } from '../api.js';
import { h, fill, asTyped, toast } from '../dom.js';
import { t, fmtDateTime, fmtPhone, fmtNumber } from '../i18n.js';
import { filterControl } from '../list.js';
import { openCard, setStatus } from '../card.js';

const STATUSES = ['new', 'in_work', 'converted', 'lost'];
// Cards a column adds at a time past its first ones (those are the core's default `per_column`,
// eight: about two screens of a column, since each card drawn costs the window's layout and paint).
const PER_COLUMN = 20;
// How near its end (px) a column scrolled down reads its next cards.
const NEAR_END = 200;

export function render(container, ctx) {
  const canEdit = ctx.can('leads.edit');
  const canConvert = ctx.can('leads.convert');
  const state = { search: '', filters: { campaign_id: null, owner_id: null }, request: 0 };
  const search = h('input', { type: 'search', class: 'search', placeholder: t('lead.search'), title: t('search.people_hint'), 'data-search': true, maxlength: 200, 'aria-label': t('list.search') });
  search.addEventListener('input', asTyped(() => { state.search = search.value; return load(); }));
  const filters = [
    { name: 'campaign_id', type: 'picker', label: t('lead.campaign'), all: t('lead.all_campaigns'), search: (text) => call('campaign_options', { search: text }) },
    { name: 'owner_id', type: 'select', label: t('card.owner'), all: t('lead.all_owners'), numeric: true, options: [[ctx.user.user_id, t('lead.mine')]],
      load: () => call('user_options').then((users) => users.filter((u) => u.id !== ctx.user.user_id).map((u) => [u.id, u.full_name])) },
  ].map((f) => filterControl(f, state, () => load()));
  const board = h('div', { class: 'board', 'data-board': '' });
  fill(container,
    h('header', { class: 'page-header' }, h('h1', { text: t('nav.board') })),
    h('div', { class: 'toolbar' }, search, filters),
    board);

  const leadFilter = () => ({ ...state.filters, search: state.search });

  async function load() {
    const request = ++state.request;
    let columns;
    try { columns = await call('lead_board', { filter: leadFilter() }); } catch (e) { toast(e.message, 'error'); return; }
    if (request !== state.request) return;
    fill(board, ...columns.map(column));
    rendered();
  }

  function column(col) {
    const list = h('div', { class: 'board-cards' });
    const more = h('button', { class: 'btn btn-ghost btn-small', 'data-action': 'more', text: t('card.more') });
    let shown = 0;
    let loading = false;
    const add = (page) => {
      list.append(...page.items.map(card));
      shown += page.items.length;
      // a searched column counted up to a bound has more while pages come full
      more.hidden = page.capped ? page.items.length < page.limit : shown >= page.total;
    };
    const next = async () => {
      if (loading || more.hidden) return;
      loading = true;
      const request = state.request;
      try {
        const page = await call('board_column', { filter: leadFilter(), status: col.status, page: { offset: shown, limit: PER_COLUMN } });
        if (request === state.request) add(page.cards);
      } catch (e) { toast(e.message, 'error'); } finally { loading = false; }
    };
    more.addEventListener('click', next);
    // scrolled near its end, a column reads on by itself ("more" stays for the keyboard)
    list.addEventListener('scroll', () => {
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - NEAR_END) next();
    }, { passive: true });
    add(col.cards);
    return h('section', { class: `board-column board-${col.status}`, 'data-column': col.status },
      h('h2', {}, t(`lead.status_${col.status}`), h('span', { class: 'count', text: col.cards.capped ? `${fmtNumber(col.cards.total)}+` : fmtNumber(col.cards.total) })),
      list, more);
  }

  function card(lead) {
    const movable = canEdit && lead.status !== 'converted';
    const el = h('article', { class: `board-card${movable ? ' movable' : ''}`, tabindex: 0, 'data-lead': lead.id, 'data-name': lead.full_name },
      h('div', { class: 'board-name', text: lead.full_name }),
      lead.phone ? h('div', { class: 'sub', text: fmtPhone(lead.phone) }) : null,
      lead.campaign_name ? h('div', { class: 'sub clip', text: lead.campaign_name }) : null,
      h('div', { class: 'sub', text: lead.owner_name || '' }),
      lead.next_task ? h('div', { class: `board-task${new Date(lead.next_task.due_at) < new Date() ? ' late' : ''}`,
        text: `${fmtDateTime(lead.next_task.due_at)} · ${lead.next_task.subject}` }) : null,
      movable ? moveMenu(lead) : null);
    const open = () => openCard({ kind: 'lead', id: lead.id }, ctx, { onChanged: load });
    el.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === el) open(); });
    if (movable) dragging(el, lead, open); else el.addEventListener('click', open);
    return el;
  }

  function moveMenu(lead) {
    const targets = STATUSES.filter((s) => s !== lead.status && (s !== 'converted' || canConvert));
    const select = h('select', { class: 'board-move', 'aria-label': t('board.move_to'), 'data-action': 'move' },
      h('option', { value: '', text: t('board.move_to') }), targets.map((s) => h('option', { value: s, text: t(`lead.status_${s}`) })));
    select.addEventListener('click', (e) => e.stopPropagation());
    select.addEventListener('pointerdown', (e) => e.stopPropagation());
    select.addEventListener('change', () => { if (select.value) move(lead, select.value); });
    return select;
  }

  /** Drag with the pointer (mouse or touch): the card follows, the column under it lights up,
   *  and a drop there moves the lead. A click without moving opens the card. */
  function dragging(el, lead, open) {
    el.addEventListener('pointerdown', (down) => {
      if (down.button !== 0) return;
      const start = { x: down.clientX, y: down.clientY };
      let moved = false;
      let target = null;
      const onMove = (e) => {
        const dx = e.clientX - start.x;
        const dy = e.clientY - start.y;
        if (!moved && Math.hypot(dx, dy) < 6) return;
        // a drag, not a text selection: WebKit starts one from the column under the press
        // (user-select notwithstanding) and left it highlighted after the drop
        if (!moved) window.getSelection()?.removeAllRanges();
        e.preventDefault();
        moved = true;
        el.classList.add('dragging');
        el.style.transform = `translate(${dx}px, ${dy}px)`;
        el.style.pointerEvents = 'none';
        const over = document.elementFromPoint(e.clientX, e.clientY)?.closest('[data-column]');
        if (target !== over) {
          target?.classList.remove('drop-target');
          target = over && over.dataset.column !== lead.status ? over : null;
          target?.classList.add('drop-target');
        }
      };
      const onUp = () => {
        document.removeEventListener('pointermove', onMove);
        document.removeEventListener('pointerup', onUp);
        el.classList.remove('dragging');
        el.style.transform = '';
        el.style.pointerEvents = '';
        target?.classList.remove('drop-target');
        if (!moved) { open(); return; }
        window.getSelection()?.removeAllRanges();
        if (target) move(lead, target.dataset.column);
      };
      document.addEventListener('pointermove', onMove);
      document.addEventListener('pointerup', onUp);
    });
  }

  async function move(lead, status) {
    if (status === 'converted') {
      if (!canConvert) { toast(t('board.cannot_convert'), 'error'); return; }
      const { convertLead } = await import('./leads.js');
      convertLead(lead, ctx, load);
      return;
    }
    await setStatus(lead, status, load);
  }

  load();
}
