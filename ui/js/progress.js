// A long job in the core (a backup, a restore, a move, an export) while a progress bar follows
// the core's `progress` report: written once, used by every page that starts one.
import { call } from './api.js';
import { t } from './i18n.js';

/** Runs `work` (a promise-returning function) while `bar` (a <progress> followed by a label
 *  element) shows how far the core has come. */
export async function withProgress(bar, work) {
  bar.hidden = false;
  bar.removeAttribute('value');
  const label = bar.nextElementSibling;
  const timer = setInterval(async () => {
    try {
      const p = await call('progress');
      if (p && p.total > 0) {
        bar.max = p.total;
        bar.value = p.done;
        if (label) label.textContent = t('backups.progress', { percent: Math.floor((p.done * 100) / p.total) });
      }
    } catch { /* the bar just stands still */ }
  }, 250);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    bar.hidden = true;
    if (label) label.textContent = '';
  }
}
