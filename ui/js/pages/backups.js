// Settings → backups of a local database (an administrator's): the list, "Back up now",
// restoring from the list or from a file, and moving this computer's database to an office
// server. The copies run in the core; this page shows their progress and what they did.
import { call } from '../api.js';
import { h, fill, toast, confirmDialog } from '../dom.js';
import { t, fmtDateTime, fmtNumber, fmtSize } from '../i18n.js';
import { openForm } from '../form.js';
import { withProgress } from '../progress.js';

/** The one-time passwords a restore or a move issued, to hand over in person; then sign in. */
function showReplacement(result, titleKey, route) {
  const rows = result.one_time_passwords.map(([username, password]) =>
    h('tr', {}, h('td', { text: username }), h('td', { class: 'mono', text: password })));
  const done = h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'confirm', text: t('backups.sign_in_again') });
  const dialog = h('dialog', { class: 'dialog', 'data-form': 'replacement' },
    h('form', { method: 'dialog', class: 'dialog-body' },
      h('h2', { class: 'dialog-title', text: t(titleKey) }),
      h('p', { text: t('backups.rows_verified', { rows: fmtNumber(result.rows) }) }),
      result.kept_aside ? h('p', { class: 'muted', text: t('backups.kept_aside', { file: result.kept_aside }) }) : null,
      result.server ? h('p', { class: 'muted', text: t('backups.now_office', { server: result.server }) }) : null,
      rows.length ? h('p', { text: t('backups.one_time_intro') }) : null,
      rows.length ? h('table', { class: 'table one-time' },
        h('thead', {}, h('tr', {}, h('th', { text: t('user.username') }), h('th', { text: t('backups.one_time_password') }))),
        h('tbody', {}, rows)) : null,
      h('div', { class: 'dialog-buttons' }, done)));
  dialog.addEventListener('close', async () => { dialog.remove(); route(await call('app_start')); });
  document.body.append(dialog);
  dialog.showModal();
}

/** The backups section of the settings page. */
export function backupsSection(ctx) {
  const section = h('section', { class: 'card', 'data-section': 'backups' });
  const list = h('div', { class: 'backup-list' });
  const bar = h('progress', { class: 'backup-progress', hidden: true });
  const barLabel = h('span', { class: 'muted small', role: 'status' });
  const folder = h('p', { class: 'muted small' });
  const buttons = [];
  const busy = (on) => buttons.forEach((b) => { b.disabled = on; });

  const restore = async (item) => {
    const question = item
      ? t('backups.restore_confirm', { at: fmtDateTime(item.at) })
      : t('backups.restore_file_confirm');
    if (!(await confirmDialog(question, t('backups.restore'), true))) return;
    busy(true);
    try {
      const result = await withProgress(bar, () => call('restore_backup', { file_name: item ? item.file_name : null }));
      if (result) showReplacement(result, 'backups.restored', ctx.route);
    } catch (e) { toast(e.message, 'error'); } finally { busy(false); }
  };

  const load = async () => {
    let data;
    try { data = await call('list_backups'); } catch (e) { fill(list, h('p', { class: 'form-banner', text: e.message })); return; }
    folder.textContent = t('backups.folder', { folder: data.folder });
    if (!data.items.length) { fill(list, h('p', { class: 'muted', text: t('backups.none') })); return; }
    const rows = data.items.slice(0, 12).map((item) => h('tr', { dataset: { file: item.file_name } },
      h('td', { text: fmtDateTime(item.at) }),
      h('td', { text: t(`backups.made_${item.made}`) }),
      item.problem
        ? h('td', { colspan: 4, class: 'error-text', text: item.problem })
        : [h('td', { class: 'num', text: fmtNumber(item.leads) }), h('td', { class: 'num', text: fmtNumber(item.clients) }),
          h('td', { class: 'num', text: fmtNumber(item.contracts) }), h('td', { class: 'num', text: fmtSize(item.size_bytes) })],
      h('td', {}, item.problem ? null : (() => {
        const b = h('button', { class: 'btn btn-small', 'data-action': 'restore', text: t('backups.restore'), onclick: () => restore(item) });
        buttons.push(b);
        return b;
      })())));
    fill(list, h('table', { class: 'table backups' },
      h('thead', {}, h('tr', {}, h('th', { text: t('backups.when') }), h('th', { text: t('backups.kind') }),
        h('th', { class: 'num', text: t('nav.leads') }), h('th', { class: 'num', text: t('nav.clients') }),
        h('th', { class: 'num', text: t('nav.contracts') }), h('th', { class: 'num', text: t('backups.size') }), h('th', {}))),
      h('tbody', {}, rows)));
  };

  const now = h('button', { class: 'btn btn-primary', 'data-action': 'back-up-now', text: t('backups.now'),
    onclick: async () => {
      busy(true);
      try {
        const made = await withProgress(bar, () => call('back_up_now'));
        toast(t('backups.made', { leads: fmtNumber(made.leads), size: fmtSize(made.size_bytes) }));
        await load();
      } catch (e) { toast(e.message, 'error'); } finally { busy(false); }
    } });
  const fromFile = h('button', { class: 'btn', 'data-action': 'restore-file', text: t('backups.restore_file'), onclick: () => restore(null) });
  buttons.push(now, fromFile);
  section.append(h('h2', { text: t('backups.title') }), h('p', { class: 'muted', text: t('backups.intro') }),
    h('div', { class: 'form-buttons' }, now, fromFile, bar, barLabel), list, folder);
  load();
  return section;
}

/** "Move to an office database": an empty office database, set up with its owner's login (typed
 *  once, never kept), receives everything; then this computer works on it. */
export function moveSection(ctx) {
  const bar = h('progress', { class: 'backup-progress', hidden: true });
  const barLabel = h('span', { class: 'muted small', role: 'status' });
  const open = h('button', { class: 'btn', 'data-action': 'move-to-office', text: t('move.button'),
    onclick: () => {
      const dialog = openForm({
      title: t('move.title'),
      intro: t('move.intro'),
      testId: 'move',
      submitLabel: t('move.submit'),
      values: { host: 'localhost', port: '5432', database: 'crm', tls: 'prefer' },
      fields: [
        { name: 'host', label: t('setup.host'), required: true },
        { name: 'port', label: t('setup.port') },
        { name: 'database', label: t('setup.database'), required: true },
        { name: 'tls', label: t('setup.tls'), type: 'select',
          options: ['prefer', 'require', 'verify-full', 'disable'].map((mode) => [mode, t(`setup.tls_${mode}`)]) },
        // an office with its own certificate authority (verify-full): picked in the native dialog,
        // kept on the Rust side, as on the first-run office form
        { name: 'ca_file', label: t('setup.ca_file'), type: 'custom', wide: true, render: () => {
          const name = h('span', { class: 'muted small', 'data-ca-file': '', text: t('setup.ca_none') });
          const pick = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'pick-ca', text: t('setup.ca_pick'),
            onclick: async () => {
              try {
                const picked = await call('pick_ca_file');
                if (picked) name.textContent = picked;
              } catch (e) { toast(e.message, 'error'); }
            } });
          return { element: h('div', { class: 'ca-row' }, pick, ' ', name), get: () => null };
        } },
        { name: 'owner_username', label: t('setup.owner_username'), required: true },
        { name: 'owner_password', label: t('setup.owner_password'), type: 'password' },
      ],
      submit: async (v) => {
        const input = { host: v.host, port: v.port, database: v.database, tls: v.tls };
        const owner = { username: v.owner_username, password: v.owner_password };
        return withProgress(bar, () => call('move_to_office', { input, owner }));
      },
      onSaved: (result) => showReplacement(result, 'move.done', ctx.route),
      });
      // the copy's progress shows in the dialog, above its buttons
      dialog.querySelector('.dialog-buttons').before(h('div', { class: 'move-progress' }, bar, barLabel));
    } });
  return h('section', { class: 'card narrow', 'data-section': 'move' },
    h('h2', { text: t('move.title') }), h('p', { class: 'muted', text: t('move.hint') }),
    h('div', { class: 'form-buttons' }, open));
}
