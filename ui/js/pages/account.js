// The signed-in user's own password.
import { call } from '../api.js';
import { h, fill, toast } from '../dom.js';
import { t } from '../i18n.js';

export function render(container, ctx) {
  const banner = h('div', { class: 'form-banner', role: 'alert', hidden: true });
  const field = (name, label, autocomplete) => h('div', { class: 'field', dataset: { field: name } },
    h('label', { class: 'field-label', for: `acc-${name}`, text: label }),
    h('input', { id: `acc-${name}`, name, type: 'password', autocomplete }), h('div', { class: 'field-error' }));
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h2', { text: t('account.change_password') }), banner,
    field('current_password', t('account.current'), 'current-password'),
    field('new_password', t('account.new'), 'new-password'),
    field('repeat', t('account.repeat'), 'new-password'),
    h('div', { class: 'form-buttons' }, h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'save', text: t('action.save') })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (name) => form.querySelector(`[name=${name}]`).value;
    for (const row of form.querySelectorAll('.field')) { row.classList.remove('invalid'); row.querySelector('.field-error').textContent = ''; }
    banner.hidden = true;
    const fail = (error) => {
      banner.hidden = false;
      banner.textContent = error.message;
      for (const { field: name, message } of error.fields || []) {
        const row = form.querySelector(`[data-field=${name}]`);
        if (row) { row.classList.add('invalid'); row.querySelector('.field-error').textContent = message; }
      }
    };
    if (value('new_password') !== value('repeat')) {
      fail({ message: t('account.mismatch'), fields: [{ field: 'repeat', message: t('account.mismatch') }] });
      return;
    }
    try {
      await call('change_password', { current: value('current_password'), new: value('new_password') });
      form.reset();
      toast(t('account.changed'));
    } catch (error) { fail(error); }
  });
  fill(container,
    h('header', { class: 'page-header' }, h('h1', { text: t('nav.account') })),
    h('div', { class: 'card narrow profile' },
      h('div', { class: 'profile-name', text: ctx.user.full_name }),
      h('div', { class: 'muted', text: `${ctx.user.username} · ${ctx.user.roles.map((r) => t(`role.${r}`)).join(', ')}` })),
    form);
}
