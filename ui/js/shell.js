// The signed-in window: sidebar navigation (only what the user's permissions allow; the core
// refuses the rest anyway), the page area and the keyboard shortcuts.
import { call, onForbidden, answered } from './api.js';
import { h, clear, fill, toast } from './dom.js';
import { t, getLang, setLang } from './i18n.js';

/** Pages in navigation order; `permission` decides whether the link shows. */
export const PAGES = [
  { id: 'today', permission: null, module: () => import('./pages/today.js') },
  { id: 'stats', permission: 'stats.view', module: () => import('./pages/stats.js') },
  { id: 'leads', permission: 'leads.view', module: () => import('./pages/leads.js') },
  { id: 'board', permission: 'leads.view', module: () => import('./pages/board.js') },
  { id: 'clients', permission: 'clients.view', module: () => import('./pages/clients.js') },
  { id: 'contracts', permission: 'contracts.view', module: () => import('./pages/contracts.js') },
  { id: 'campaigns', permission: 'campaigns.view', module: () => import('./pages/campaigns.js') },
  { id: 'services', permission: 'services.view', module: () => import('./pages/services.js') },
  { id: 'admin', permission: 'users.manage', module: () => import('./pages/admin.js') },
  { id: 'history', permission: 'history.view', module: () => import('./pages/history.js') },
  { id: 'account', permission: null, module: () => import('./pages/account.js'), footer: true },
  { id: 'settings', permission: null, module: () => import('./pages/settings.js'), footer: true },
];

/** Longest a click on a link keeps the page it leaves while the new page's answers come. */
const HOLD_MS = 150;

let keyboardBound = false;
const reminders = { poll: null, due: null, announcedFor: null };
// the signed-in shell's permission check; refusals anywhere trigger it
const permissionsWatch = { current: null };
onForbidden(() => { if (permissionsWatch.current) permissionsWatch.current(); });
// "open this lead" from anywhere (a field error naming a duplicate): the card, with this user's rights
const openRecord = { current: null };
document.addEventListener('crm:open-record', (event) => { if (openRecord.current) openRecord.current(event.detail); });

function stopReminders() {
  clearInterval(reminders.poll);
  clearTimeout(reminders.due);
}

export function showShell(app, info, route) {
  const user = info.user;
  const can = (permission) => !permission || user.permissions.includes(permission);
  let main = h('main', { class: 'page', id: 'page', tabindex: -1 });
  const nav = h('nav', { class: 'nav', 'aria-label': t('nav.label') });
  const footerNav = h('div', { class: 'nav nav-footer' });
  const ctx = { user, can, info, route, navigate, refreshUser, updateBadge };

  for (const page of PAGES.filter((p) => can(p.permission))) {
    const link = h('a', { href: `#/${page.id}`, class: 'nav-link', 'data-page': page.id }, h('span', { text: t(`nav.${page.id}`) }),
      page.id === 'today' ? h('span', { class: 'nav-badge', 'data-badge': '', hidden: true }) : null);
    (page.footer ? footerNav : nav).append(link);
  }
  const langButton = h('button', { class: 'btn btn-ghost btn-small', 'data-action': 'language', text: t('lang.switch'),
    onclick: async () => {
      const next = getLang() === 'ru' ? 'en' : 'ru';
      try { await call('set_language', { lang: next }); } catch (e) { toast(e.message, 'error'); }
      setLang(next);
      route({ ...info, lang: next });
    } });
  const signOut = h('button', { class: 'btn btn-ghost btn-small', 'data-action': 'sign-out', text: t('auth.sign_out'),
    onclick: async () => {
      stopReminders();
      reminders.announcedFor = null;
      // the next person at this computer sees none of this one's messages
      clear(document.getElementById('toasts'));
      await call('sign_out');
      route(await call('app_start'));
    } });
  const sidebar = h('aside', { class: 'sidebar' },
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { text: t('app.name') })),
    nav,
    h('div', { class: 'sidebar-bottom' }, footerNav,
      h('div', { class: 'user-box' },
        h('div', { class: 'user-name', 'data-user': user.username, text: user.full_name }),
        h('div', { class: 'user-roles', text: user.roles.map((r) => t(`role.${r}`)).join(', ') || t('role.none') }),
        h('div', { class: 'user-buttons' }, langButton, signOut))));
  fill(app, h('div', { class: 'shell' }, sidebar, main));

  // navigations begun: a later one wins over one still waiting for its page's answers
  let navigations = 0;
  async function navigate(target) {
    const turn = ++navigations;
    // `contracts?expiring=1`: a page, and what it opens with (its module reads ctx.params)
    const [id, query] = target.split('?');
    ctx.params = new URLSearchParams(query || '');
    const page = PAGES.find((p) => p.id === id) || PAGES[0];
    // the shell's first page goes straight in (the shell itself is the frame before it)
    const next = main.dataset.page ? h('main', { class: 'page', id: 'page', tabindex: -1 }) : main;
    if (can(page.permission)) {
      const module = await page.module();
      if (turn !== navigations) return;
      clear(next);
      module.render(next, ctx);
      // The page is drawn aside and shown once its answers are in (or after HOLD_MS): the
      // window changes in one frame, not an empty page then its rows. Without a GPU each frame
      // that changes the page took 60-120 ms to composite, and the rows' frame waited for the
      // empty page's.
      if (next !== main) await answered(HOLD_MS);
      if (turn !== navigations) return;
    } else {
      fill(next, h('div', { class: 'no-access' }, h('h1', { text: t('error.no_access_title') }), h('p', { text: t('error.no_access') })));
    }
    for (const link of app.querySelectorAll('.nav-link')) link.classList.toggle('active', link.dataset.page === page.id);
    next.dataset.page = page.id;
    if (next !== main) main.replaceWith(next);
    main = next;
  }

  async function refreshUser() {
    route(await call('app_start'));
  }

  // Statistics is everyone's home page; should an administrator take it from a role, the first
  // page the user may open instead.
  const home = (PAGES.find((p) => p.id === 'stats' && can(p.permission)) || PAGES.find((p) => !p.footer && can(p.permission)) || PAGES.find((p) => p.id === 'account')).id;
  const fromHash = () => navigate(location.hash.replace(/^#\//, '') || home);
  window.onhashchange = fromHash;
  fromHash();
  // the overdue tasks (and an administrator's notices about the database) are announced once a
  // sign-in, not again when the language changes
  if (reminders.announcedFor !== user.user_id && can('users.manage')) {
    call('server_notices').then((notices) => notices.forEach((text) => toast(text, 'warning'))).catch(() => {});
  }
  startReminders(reminders.announcedFor !== user.user_id);
  reminders.announcedFor = user.user_id;
  permissionsWatch.current = checkPermissions;
  openRecord.current = (record) => import('./card.js').then(({ openCard }) => openCard(record, ctx));

  /** Redraws the navigation when the core reports other permissions than it shows (an
   *  administrator changed this user's roles meanwhile). */
  async function checkPermissions() {
    let next;
    try { next = await call('app_start'); } catch { return; }
    const same = next.user && JSON.stringify(next.user.permissions) === JSON.stringify(user.permissions)
      && JSON.stringify(next.user.roles) === JSON.stringify(user.roles);
    if (same) return;
    stopReminders();
    if (next.user) toast(t('nav.permissions_changed'), 'warning');
    route(next);
  }

  /** The badge: overdue and today's open tasks. */
  function updateBadge(counts) {
    const badge = app.querySelector('[data-badge]');
    if (!badge) return;
    const n = counts.overdue + counts.today;
    badge.hidden = n === 0;
    badge.textContent = String(n);
    badge.classList.toggle('nav-badge-late', counts.overdue > 0);
    badge.title = t('day.badge', { overdue: counts.overdue, today: counts.today });
  }

  /** Every minute the counts; at sign-in the overdue tasks are announced, and while the window is
   *  open each task when it falls due. */
  function startReminders(atSignIn) {
    stopReminders();
    let announced = new Set();
    const check = async (first) => {
      if (!document.querySelector('[data-badge]')) { stopReminders(); return; }
      let counts;
      try { counts = await call('task_counts'); } catch { return; }
      updateBadge(counts);
      if (!first) checkPermissions();
      if (first && counts.overdue > 0) toast(t('day.overdue_at_sign_in', { n: counts.overdue }), 'warning');
      const next = counts.next_due;
      clearTimeout(reminders.due);
      if (next) {
        const wait = new Date(next.due_at) - Date.now();
        if (wait < 2 ** 31 - 1) {
          reminders.due = setTimeout(() => {
            if (announced.has(next.id)) return;
            announced.add(next.id);
            toast(t('day.due_now', { subject: next.subject, about: next.record_name ? ` · ${next.record_name}` : '' }), 'warning');
            check(false);
          }, Math.max(0, wait));
        }
      }
    };
    check(atSignIn);
    reminders.poll = setInterval(() => check(false), 60_000);
  }
  if (!keyboardBound) { bindKeyboard(); keyboardBound = true; }
}

/** Ctrl+F (Cmd+F) or / focuses the search; Ctrl+N (Cmd+N) or Insert creates. Enter/Esc are handled
 *  by the forms. */
function bindKeyboard() {
  document.addEventListener('keydown', (event) => {
    if (document.querySelector('dialog[open]')) return;
    const typing = event.target.closest && event.target.closest('input, textarea, select');
    const page = document.getElementById('page');
    if (!page) return;
    const command = event.ctrlKey || event.metaKey; // Ctrl, or Cmd on macOS
    if ((command && event.key.toLowerCase() === 'f') || (event.key === '/' && !typing)) {
      const search = page.querySelector('[data-search]');
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if ((command && event.key.toLowerCase() === 'n') || (event.key === 'Insert' && !typing)) {
      const create = page.querySelector('[data-action=create]');
      if (create) { event.preventDefault(); create.click(); }
    }
  });
}
