// Start-up: ask the Rust side where we stand, then show the first-run, sign-in or main screen.
import { call, onUnauthenticated } from './api.js';
import { setLang, t } from './i18n.js';
import { h, fill, toast } from './dom.js';
import { showStart } from './pages/start.js';
import { showShell } from './shell.js';

const app = document.getElementById('app');

/** Shows the screen for a StartInfo from the Rust side. */
export function route(info) {
  setLang(info.lang);
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

async function boot() {
  try {
    route(await call('app_start'));
  } catch (error) {
    fill(app, h('p', { class: 'fatal', text: error.message }));
  }
}

boot();
