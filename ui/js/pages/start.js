// Screens before the main window: the database choice (first run, or setting a new office
// database up with its owner's login), a database that failed to open, the first administrator,
// and sign-in.
import { call } from '../api.js';
import { h, fill, toast } from '../dom.js';
import { t, getLang, setLang } from '../i18n.js';

export function showStart(app, info, route) {
  const card = h('div', { class: 'card start-card', 'data-stage': info.stage });
  const langButton = h('button', { class: 'btn btn-ghost btn-small lang-corner', 'data-action': 'language', text: t('lang.switch'),
    onclick: async () => {
      const next = getLang() === 'ru' ? 'en' : 'ru';
      try { await call('set_language', { lang: next }); } catch (e) { toast(e.message, 'error'); }
      setLang(next);
      route({ ...info, lang: next });
    } });
  fill(app, h('div', { class: 'start' },
    brand(),
    card, langButton));
  const screens = { choose_database: chooseDatabase, database_error: databaseError, first_admin: firstAdmin, sign_in: signIn, new_password: newPassword };
  (screens[info.stage] || signIn)(card, info, route);
}

/** A form on a start card: fields, an error banner, a primary button. */
function cardForm(card, { title, intro, fields, submitLabel, submit, extra, grid }) {
  const banner = h('div', { class: 'form-banner', role: 'alert', hidden: true });
  const rows = new Map();
  const form = h('form', { class: grid ? 'start-form start-grid' : 'start-form', novalidate: true },
    h(grid ? 'h2' : 'h1', { text: title }), intro ? h('p', { class: 'muted', text: intro }) : null, banner);
  for (const f of fields) {
    const input = f.options
      ? h('select', { name: f.name, id: `start-${f.name}` }, f.options.map(([value, text]) => h('option', { value, text })))
      : h('input', { name: f.name, id: `start-${f.name}`, type: f.type || 'text', autocomplete: f.autocomplete || 'off', value: f.value ?? '', placeholder: f.placeholder });
    if (f.options && f.value) input.value = f.value;
    const row = h('div', { class: f.wide ? 'field field-wide' : 'field', dataset: { field: f.name } },
      h('label', { class: 'field-label', for: `start-${f.name}`, text: f.label }), input,
      f.hint ? h('div', { class: 'field-hint', text: f.hint }) : null, h('div', { class: 'field-error' }));
    rows.set(f.name, { row, input });
    form.append(row);
  }
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', 'data-action': 'submit', text: submitLabel });
  form.append(h('div', { class: 'start-buttons' }, button, extra || null));
  const values = () => Object.fromEntries([...rows].map(([name, { input }]) => [name, input.value]));
  const showError = (error) => {
    for (const { row } of rows.values()) { row.classList.remove('invalid'); row.querySelector('.field-error').textContent = ''; }
    banner.hidden = !error;
    banner.textContent = error ? error.message : '';
    for (const { field, message } of error?.fields || []) {
      const r = rows.get(field) || rows.get(field === 'new_password' ? 'password' : '');
      if (r) { r.row.classList.add('invalid'); r.row.querySelector('.field-error').textContent = message; }
    }
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    button.disabled = true;
    try { await submit(values()); } catch (error) { showError(error); } finally { button.disabled = false; }
  });
  card.append(form);
  const first = [...rows.values()].find(({ input }) => !input.value) || rows.values().next().value;
  if (first) setTimeout(() => first.input.focus(), 0);
  return { form, values, showError, banner };
}

function chooseDatabase(card, info, route) {
  const local = h('button', { class: 'choice choice-primary', 'data-action': 'local-database', autofocus: true,
    onclick: async () => {
      local.disabled = true;
      try { route(await call('choose_local_database')); } catch (e) { toast(e.message, 'error'); local.disabled = false; }
    } },
  h('span', { class: 'choice-title', text: t('setup.local') }), h('span', { class: 'choice-text', text: t('setup.local_text') }));
  const office = h('div', { class: 'office' });
  const officeButton = h('button', { class: 'choice', 'data-action': 'office-database',
    onclick: () => { officeButton.hidden = true; officeForm(office, {}, route); } },
  h('span', { class: 'choice-title', text: t('setup.office') }), h('span', { class: 'choice-text', text: t('setup.office_text') }));
  card.append(h('div', {}, h('h1', { text: t('setup.title') }), h('p', { class: 'muted', text: t('setup.intro') }),
    info.error ? h('div', { class: 'form-banner', role: 'alert', text: info.error.message }) : null,
    h('div', { class: 'choices' }, local, officeButton), office));
}

/** The office server form: where the server is (nobody's login: each person signs in as
 *  themselves), "test connection", and setting a new database up with its owner's login once.
 *  Also used by the settings page. */
export function officeForm(container, initial, route) {
  const test = h('button', { type: 'button', class: 'btn', 'data-action': 'test-connection', text: t('setup.test') });
  const status = h('span', { class: 'test-status', role: 'status' });
  const { form, values, showError } = cardForm(container, {
    title: t('setup.office'),
    intro: t('setup.office_intro'),
    fields: [
      { name: 'host', label: t('setup.host'), value: initial.host ?? 'localhost' },
      { name: 'port', label: t('setup.port'), value: initial.port ?? '5432' },
      { name: 'database', label: t('setup.database'), value: initial.database ?? 'crm' },
      { name: 'tls', label: t('setup.tls'), value: initial.tls ?? 'prefer',
        options: ['prefer', 'require', 'verify-full', 'disable'].map((mode) => [mode, t(`setup.tls_${mode}`)]) },
    ],
    grid: true,
    submitLabel: t('setup.connect'),
    extra: h('span', {}, test, ' ', status),
    submit: async (input) => route(await call('choose_office_database', { input })),
  });
  // The certificate authority of an office with its own certificates: picked in the native
  // dialog, kept on the Rust side; the page only shows its name.
  const caName = h('span', { class: 'muted small', 'data-ca-file': '', text: t('setup.ca_none') });
  const caButton = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'pick-ca', text: t('setup.ca_pick'),
    onclick: async () => {
      try {
        const name = await call('pick_ca_file');
        if (name) caName.textContent = name;
      } catch (error) { showError(error); }
    } });
  form.insertBefore(h('div', { class: 'field field-wide', dataset: { field: 'ca_file' } },
    h('span', { class: 'field-label', text: t('setup.ca_file') }),
    h('div', { class: 'ca-row' }, caButton, caName), h('div', { class: 'field-error' })), form.querySelector('.start-buttons'));
  test.addEventListener('click', async () => {
    status.textContent = t('setup.testing');
    status.className = 'test-status';
    showError(null);
    try {
      await call('test_office_database', { input: values() });
      status.textContent = t('setup.test_ok');
      status.classList.add('ok');
    } catch (error) {
      status.textContent = '';
      showError(error);
    }
  });
  // A new office database: its owner's login, typed once and never kept, migrates it and
  // leads to the first administrator.
  const ownerName = h('input', { name: 'owner_username', id: 'owner-username', autocomplete: 'off' });
  const ownerPassword = h('input', { name: 'owner_password', id: 'owner-password', type: 'password', autocomplete: 'off' });
  const ownerError = h('div', { class: 'form-banner', role: 'alert', hidden: true });
  const setUp = h('button', { type: 'button', class: 'btn', 'data-action': 'set-up-office', text: t('setup.set_up') });
  setUp.addEventListener('click', async () => {
    ownerError.hidden = true;
    setUp.disabled = true;
    try {
      route(await call('set_up_office_database', { input: values(), owner: { username: ownerName.value, password: ownerPassword.value } }));
    } catch (error) {
      ownerError.textContent = error.fields?.length ? error.fields.map((f) => f.message).join('. ') : error.message;
      ownerError.hidden = false;
    } finally {
      setUp.disabled = false;
    }
  });
  container.append(h('details', { class: 'owner-setup' },
    h('summary', { 'data-action': 'new-office', text: t('setup.new_office') }),
    h('p', { class: 'muted', text: t('setup.new_office_intro') }), ownerError,
    h('div', { class: 'start-grid' },
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'owner-username', text: t('setup.owner_username') }), ownerName),
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'owner-password', text: t('setup.owner_password') }), ownerPassword)),
    h('div', { class: 'start-buttons' }, setUp)));
}

function databaseError(card, info, route) {
  card.append(h('h1', { text: t('setup.error_title') }),
    h('div', { class: 'form-banner', role: 'alert', text: info.error ? info.error.message : '' }),
    h('div', { class: 'start-buttons' },
      h('button', { class: 'btn btn-primary', text: t('setup.retry'), onclick: async () => route(await call('app_start')) }),
      info.fixed_url ? null : h('button', { class: 'btn', text: t('setup.choose_other'),
        onclick: () => route({ ...info, stage: 'choose_database', error: null }) })));
}

function firstAdmin(card, info, route) {
  const { showError } = cardForm(card, {
    title: t('setup.first_admin'),
    intro: t('setup.first_admin_intro'),
    fields: [
      { name: 'username', label: t('user.username'), autocomplete: 'username' },
      { name: 'full_name', label: t('user.full_name') },
      { name: 'password', label: t('user.password'), type: 'password', autocomplete: 'new-password', hint: t('user.password_hint') },
      { name: 'repeat', label: t('account.repeat_password'), type: 'password', autocomplete: 'new-password' },
    ],
    submitLabel: t('setup.create_admin'),
    submit: async ({ repeat, ...input }) => {
      if (input.password !== repeat) {
        showError({ message: t('account.mismatch'), fields: [{ field: 'repeat', message: t('account.mismatch') }] });
        return;
      }
      await call('create_first_admin', { input });
      route(await call('app_start'));
    },
  });
}

function signIn(card, info, route) {
  const { showError } = cardForm(card, {
    title: t('auth.title'),
    fields: [
      { name: 'username', label: t('user.username'), autocomplete: 'username' },
      { name: 'password', label: t('user.password'), type: 'password', autocomplete: 'current-password' },
    ],
    submitLabel: t('auth.sign_in'),
    submit: async ({ username, password: secret }) => {
      await call('sign_in', { username, password: secret });
      const next = await call('app_start');
      // a one-time password is asked for once: the next screen replaces it
      route(next.stage === 'new_password' ? { ...next, current_password: secret } : next);
    },
  });
  // the session ended under the user's hands (deactivated, or signed out elsewhere): say why
  if (info.notice) showError({ message: info.notice });
  if (info.database) {
    card.append(h('p', { class: 'muted small database-line', text: t(`setup.using_${info.database.kind}`, { location: info.database.location }) }));
  }
}

/** Signed in with a one-time password (an administrator's reset, an office's upgrade): the user
 *  chooses their own before anything else. */
function newPassword(card, info, route) {
  const known = info.current_password;
  const { showError } = cardForm(card, {
    title: t('auth.new_password_title'),
    intro: t('auth.new_password_intro', { name: info.user ? info.user.full_name : '' }),
    fields: [
      known ? null : { name: 'current', label: t('auth.one_time_password'), type: 'password', autocomplete: 'current-password' },
      { name: 'password', label: t('account.new'), type: 'password', autocomplete: 'new-password' },
      { name: 'repeat', label: t('account.repeat'), type: 'password', autocomplete: 'new-password' },
    ].filter(Boolean),
    submitLabel: t('auth.new_password_save'),
    submit: async ({ current, password: secret, repeat }) => {
      if (secret !== repeat) {
        showError({ message: t('account.mismatch'), fields: [{ field: 'repeat', message: t('account.mismatch') }] });
        return;
      }
      await call('change_password', { current: known ?? current, new: secret });
      toast(t('account.changed'));
      route(await call('app_start'));
    },
    extra: h('button', { type: 'button', class: 'btn btn-ghost', text: t('auth.sign_out'),
      onclick: async () => { await call('sign_out'); route(await call('app_start')); } }),
  });
}

/** The app's mark and name over the start screens (and the one while the database opens). */
export function brand() {
  return h('div', { class: 'start-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { text: t('app.name') }));
}
