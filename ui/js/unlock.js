// The record's passphrase, asked for at the top of every screen while the record is locked:
// typed to open it, or chosen when this computer has no keyring to keep its key in. Only
// loaded when asked for, so a normal start never fetches it.

import * as api from './api.js';
import { h, field, showError, clearErrors, announce } from './dom.js';

/** The form for `ask` ({ mode: 'enter' } or { mode: 'choose', why }). */
export function unlockPanel(ask) {
  const choosing = ask.mode === 'choose';
  const passphrase = h('input', {
    type: 'password', required: true, spellcheck: 'false', autocapitalize: 'off',
    autocomplete: choosing ? 'new-password' : 'current-password',
  });
  const again = choosing
    ? h('input', { type: 'password', required: true, spellcheck: 'false', autocapitalize: 'off', autocomplete: 'new-password' })
    : null;
  const show = h('input', { type: 'checkbox', id: 'f-showPassphrase' });
  show.addEventListener('change', () => {
    for (const input of [passphrase, again]) if (input) input.type = show.checked ? 'text' : 'password';
  });
  const button = h('button', { type: 'submit', class: 'button' },
    choosing ? 'Keep my record under this passphrase' : 'Unlock');
  const progress = h('p', { class: 'hint', role: 'status', id: 'unlock-progress' });
  const form = h('form', { novalidate: true, 'aria-labelledby': 'unlock-title' },
    field('passphrase', 'Passphrase', passphrase,
      choosing ? 'At least 10 characters. A few unrelated words you will remember work well.' : null, 'unlock-'),
    again ? field('passphraseAgain', 'Passphrase again', again, null, 'unlock-') : null,
    h('p', { class: 'check' }, show, h('label', { for: 'f-showPassphrase' }, 'Show what I type')),
    h('p', { class: 'field-error', 'data-error-for': 'general', hidden: true }),
    h('div', { class: 'actions' }, button),
    progress);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    progress.textContent = 'Checking the passphrase…';
    try {
      await api.unlockRecord(passphrase.value, again ? again.value : null);
      passphrase.value = '';
      if (again) again.value = '';
      progress.textContent = 'Opening your record…';
      announce('Opening your record');
      // `record-ready` follows; the shell then draws the screen again with the record.
    } catch (error) {
      button.disabled = false;
      progress.textContent = '';
      showError(form, error);
      const input = error.field === 'passphraseAgain' ? again : passphrase;
      (input ?? passphrase).focus();
    }
  });

  return h('section', { class: 'banner banner-unlock', id: 'unlock', 'aria-labelledby': 'unlock-title' },
    h('h2', { id: 'unlock-title' }, choosing ? 'Choose a passphrase for your record' : 'Your record is locked'),
    choosing
      ? h('p', {}, ask.why)
      : h('p', {}, 'Type the passphrase you chose for your record to open it. The Emergency screen and the guides work without it.'),
    choosing
      ? h('p', {}, h('strong', {}, 'Write it down and keep it away from this computer. '),
        'If it is forgotten, nobody can open the record: not you, not us.')
      : null,
    form);
}

/** Today's setting: what keeps the record's key, and the choice of a passphrase instead. */
export function keySetting(keptIn) {
  if (!keptIn) return null;
  const box = h('div', { class: 'setting key-setting', id: 'key-setting' }, h('h2', {}, 'Record key'));
  if (keptIn === 'passphrase') {
    box.append(h('p', { class: 'hint' }, 'Your record opens only with its passphrase, asked for each time Campaign Safe starts.'));
    return box;
  }
  const passphrase = h('input', { type: 'password', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'new-password' });
  const again = h('input', { type: 'password', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'new-password' });
  const form = h('form', { novalidate: true },
    field('passphrase', 'Passphrase', passphrase, 'At least 10 characters. If it is forgotten, nobody can open the record.', 'key-'),
    field('passphraseAgain', 'Passphrase again', again, null, 'key-'),
    h('p', { class: 'field-error', 'data-error-for': 'general', hidden: true }),
    h('button', { type: 'submit', class: 'button button-secondary' }, 'Ask for this passphrase at every start'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await api.keepKeyUnderPassphrase(passphrase.value, again.value);
      box.replaceWith(keySetting('passphrase'));
      announce('Saved. The passphrase will be asked for at every start.');
    } catch (error) {
      showError(form, error);
      (error.field === 'passphraseAgain' ? again : passphrase).focus();
    }
  });
  box.append(
    h('p', { class: 'hint' }, 'This computer’s keyring keeps your record’s key, so Campaign Safe opens by itself and reminders come after a restart. For nothing to be readable without a passphrase, choose one here: it is then asked for at every start, and reminders wait for it.'),
    form);
  return box;
}
