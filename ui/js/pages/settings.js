// Settings of this computer: language, and which database the window works on.
import { call } from '../api.js';
import { h, clear, fill, toast, confirmDialog } from '../dom.js';
import { t, getLang, setLang } from '../i18n.js';
import { officeForm } from './start.js';
import { backupsSection, moveSection } from './backups.js';

export function render(container, ctx) {
  const db = ctx.info.database;
  const lang = h('select', { name: 'language', 'aria-label': t('settings.language') },
    h('option', { value: 'ru', text: 'Русский' }), h('option', { value: 'en', text: 'English' }));
  lang.value = getLang();
  lang.addEventListener('change', async () => {
    try { await call('set_language', { lang: lang.value }); } catch (e) { toast(e.message, 'error'); return; }
    setLang(lang.value);
    ctx.route({ ...ctx.info, lang: lang.value });
  });
  const office = h('div', { class: 'office' });
  const switchBox = ctx.info.fixed_url
    ? h('p', { class: 'muted', text: t('settings.fixed_url') })
    : h('div', { class: 'form-buttons' },
      h('button', { class: 'btn', 'data-action': 'local-database', text: t('setup.local'),
        onclick: async () => {
          if (!(await confirmDialog(t('settings.switch_confirm')))) return;
          try { ctx.route(await call('choose_local_database')); } catch (e) { toast(e.message, 'error'); }
        } }),
      h('button', { class: 'btn', 'data-action': 'office-database', text: t('setup.office'),
        onclick: () => { clear(office); officeForm(office, {}, ctx.route); } }));
  fill(container,
    h('header', { class: 'page-header' }, h('h1', { text: t('nav.settings') })),
    h('section', { class: 'card narrow' }, h('h2', { text: t('settings.language') }), lang),
    h('section', { class: 'card narrow' },
      h('h2', { text: t('settings.database') }),
      db ? h('dl', { class: 'facts' },
        h('dt', { text: t('settings.kind') }), h('dd', { text: t(`settings.kind_${db.kind}`) }),
        h('dt', { text: t('settings.location') }), h('dd', { class: 'mono', text: db.location })) : null,
      h('p', { class: 'muted', text: t('settings.switch_hint') }),
      switchBox, office));
  // a local database's backups and its move to an office server are an administrator's
  if (db?.kind === 'sqlite' && ctx.can('users.manage')) {
    container.append(backupsSection(ctx));
    if (!ctx.info.fixed_url) container.append(moveSection(ctx));
  } else if (db?.kind === 'postgres' && ctx.can('users.manage')) {
    container.append(h('section', { class: 'card narrow', 'data-section': 'backups' },
      h('h2', { text: t('backups.title') }), h('p', { class: 'muted', text: t('backups.office') })));
  }
  container.append(diagnosticsSection());
}

/** Diagnostics for whoever helps: shown on request, selected and copied in one click. */
function diagnosticsSection() {
  const text = h('textarea', { class: 'mono diagnostics', readonly: true, rows: 8, hidden: true,
    'aria-label': t('settings.diagnostics') });
  const load = async () => {
    if (text.hidden) { text.value = await call('diagnostics'); text.hidden = false; }
  };
  return h('section', { class: 'card narrow', 'data-section': 'diagnostics' },
    h('h2', { text: t('settings.diagnostics') }),
    h('p', { class: 'muted', text: t('settings.diagnostics_hint') }),
    h('div', { class: 'form-buttons' },
      h('button', { class: 'btn', 'data-action': 'show-diagnostics', text: t('settings.diagnostics_show'),
        onclick: async () => { try { await load(); } catch (e) { toast(e.message, 'error'); } } }),
      h('button', { class: 'btn', 'data-action': 'copy-diagnostics', text: t('settings.diagnostics_copy'),
        onclick: async () => {
          try {
            await load();
            text.select();
            // the clipboard API where the webview offers it, the selection's copy otherwise
            if (navigator.clipboard?.writeText) await navigator.clipboard.writeText(text.value);
            else document.execCommand('copy');
            toast(t('settings.diagnostics_copied'));
          } catch (e) { toast(e.message, 'error'); }
        } })),
    text);
}
