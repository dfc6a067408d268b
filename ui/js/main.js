// Start-up: ask the Rust side where we stand, then show the first-run, sign-in or main screen.
import { call, onUnauthenticated } from './api.js';
import { setLang, t } from './i18n.js';
import { h, fill, toast } from './dom.js';
import { showStart, brand } from './pages/start.js';
import { showShell } from './shell.js';

const app = document.getElementById('app');

/** Shows the screen for a StartInfo from the Rust side. */
export function route(info) {
  setLang(info.lang);
  // the next start's first words before the answer (see boot)
  try { localStorage.setItem(LANG_KEY, info.lang); } catch { /* storage off: the system's language */ }
  app.classList.remove('boot');
  app.removeAttribute('aria-busy');
  if (info.stage === 'signed_in') showShell(app, info, route);
  else showStart(app, info, route);
}

// A bug should be visible, not a blank page.
window.addEventListener('error', (event) => toast(`${t('error.internal')}: ${event.message}`, 'error'));
window.addEventListener('unhandledrejection', (event) => {
  const reason = event.reason || {};
  toast(reason.message || String(reason), 'error');
});

onUnauthenticated(async () => {
  const info = await call('app_start');
  route(info.stage === 'sign_in' ? { ...info, notice: t('auth.session_ended') } : info);
});

/** Where the window remembers the language of its last start. */
const LANG_KEY = 'crm.lang';

/** How long the first answer may take before the window says what it is waiting for. */
const BOOT_NOTE_MS = 700;

async function boot() {
  // Opening the database brings its schema up to date first: after an update of the app that
  // can take a minute at a million leads (an index built anew). Meanwhile the window says so
  // in the language of the last start, or the system's (the chosen one comes with the answer).
  let last = null;
  try { last = localStorage.getItem(LANG_KEY); } catch { /* storage off */ }
  setLang(last || ((navigator.language || '').toLowerCase().startsWith('ru') ? 'ru' : 'en'));
  const note = setTimeout(() => fill(app, h('div', { class: 'start', 'data-boot': '' },
    brand(),
    h('div', { class: 'card start-card boot-note' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      h('div', {}, h('h1', { text: t('boot.opening') }), h('p', { class: 'muted', text: t('boot.opening_hint') }))))), BOOT_NOTE_MS);
  try {
    const info = await call('app_start');
    clearTimeout(note);
    route(info);
  } catch (error) {
    clearTimeout(note);
    fill(app, h('p', { class: 'fatal', text: error.message }));
  }
}

boot();
