// The app lock, as the window sees it: the lock screen, the PIN setting, the Lock button
// (Alt+L) and locking after the chosen idle time. The backend refuses everything else while
// it is locked; this only draws it. Nothing ticks while idle: one timer waits out the idle
// time and looks once at when the user last did something.

import * as api from './api.js';
import { h, field, errorSlot, showError, clearErrors, announce, fill } from './dom.js';
import { formatWhen } from './when.js';

let status = null;
let lastActivity = Date.now();
let idleTimer = null;
let onChange = () => {};

/** Screens that never show the record, and stay open while locked. */
export const OPEN_WHILE_LOCKED = ['emergency', 'advice', 'sos'];

export function isLocked() {
  return Boolean(status?.locked);
}

/** Reads the lock's state (none while the record is not open) and starts watching. */
export async function startLock(changed) {
  onChange = changed;
  for (const type of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
    document.addEventListener(type, () => { lastActivity = Date.now(); }, { passive: true, capture: true });
  }
  document.addEventListener('keydown', (event) => {
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === 'l' || event.key === 'L' || event.code === 'KeyL')) {
      if (status?.pinSet && !status.locked) {
        event.preventDefault();
        lockNow();
      }
    }
  });
  await refreshLock();
}

/** After the record opens, a restore, or a change of PIN or idle time. */
export async function refreshLock() {
  try {
    apply(await api.lockStatus());
  } catch {
    apply(null);
  }
}

function apply(next) {
  const wasLocked = isLocked();
  status = next;
  lockButton();
  armIdleTimer();
  if (wasLocked !== isLocked()) onChange();
}

export async function lockNow() {
  try {
    apply(await api.lockNow());
    announce('Campaign Safe is locked');
  } catch (error) {
    announce(error.message);
  }
}

/** A command was refused because the app is locked (by the idle time, or another view). */
export function lockedElsewhere() {
  if (status && !status.locked) apply({ ...status, locked: true });
}

function armIdleTimer() {
  clearTimeout(idleTimer);
  idleTimer = null;
  if (!status?.pinSet || status.locked) return;
  const idleMs = status.idleSeconds * 1000;
  const check = () => {
    const idleFor = Date.now() - lastActivity;
    if (idleFor >= idleMs) lockNow();
    else idleTimer = setTimeout(check, idleMs - idleFor);
  };
  idleTimer = setTimeout(check, idleMs);
}

function lockButton() {
  let button = document.getElementById('lock-button');
  if (!status?.pinSet || status.locked) {
    button?.remove();
    return;
  }
  if (button) return;
  button = h('button', { type: 'button', id: 'lock-button', class: 'lock-button', 'aria-keyshortcuts': 'Alt+L', title: 'Lock (Alt+L)' }, 'Lock');
  button.addEventListener('click', lockNow);
  document.querySelector('.topbar .brand')?.after(button);
}

/** The lock screen: the PIN, and "I'm OK" for sessions that are out. */
export async function lockScreen({ formKept = false } = {}) {
  const pin = h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: '12' });
  const form = h('form', { class: 'unlock-form', novalidate: true },
    field('pin', 'PIN', pin, null, 'lock-'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button' }, 'Unlock'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      apply(await api.lockUnlock(pin.value));
      announce('Unlocked');
    } catch (error) {
      pin.value = '';
      showError(form, error);
      pin.focus();
    }
  });

  const sessions = h('div', { class: 'locked-sessions' });
  try {
    const out = await api.checkinsActive();
    // Another member's sessions are checked in from their devices, not this one.
    const own = out.filter((session) => !session.team?.tracked);
    if (own.length) {
      fill(sessions, h('h2', {}, 'Out now'), h('ul', { class: 'cards' }, own.map(lockedSession)));
    }
  } catch {
    // Nothing to offer: the PIN form is still there.
  }
  const node = h('section', { class: 'locked' },
    h('h1', { tabindex: '-1' }, 'Campaign Safe is locked'),
    h('p', {}, 'Type your PIN to see the record. The Emergency screen, the SOS guides and the advice work without it, and check-in reminders keep coming.'),
    formKept ? h('p', { class: 'hint', id: 'form-kept' }, 'What you were typing is kept, and comes back when you unlock.') : null,
    form,
    sessions,
    h('p', {}, h('a', { class: 'button button-secondary', href: '#/emergency' }, 'Emergency help')));
  return { title: 'Locked', node };
}

/**
 * One session that is out, with its check-in. Once a duress PIN is set, checking in here
 * takes a PIN (either one; the screen answers the same), so whoever holds a locked device
 * cannot check in for its owner, and the owner made to check in can type the duress PIN.
 */
function lockedSession(session) {
  const label = session.mode === 'watching' ? 'They checked in' : 'Check in – I’m OK';
  const pin = status?.duressPinSet
    ? h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: '12' })
    : null;
  const form = h('form', { class: 'locked-check-in', novalidate: true },
    pin ? field('pin', 'PIN', pin, null, `session-${session.id}-`) : null,
    errorSlot('general', `session-${session.id}-`),
    h('button', { type: 'submit', class: 'button button-big' }, label),
    h('p', { class: 'saved', role: 'status' }));
  const card = h('li', { class: 'card session', 'data-session-id': session.id },
    h('h3', { class: 'card-title' }, session.title),
    form);
  const button = form.querySelector('button');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    try {
      await api.checkinsCheckIn(session.id, pin?.value);
      if (pin) pin.value = '';
      form.querySelector('.saved').textContent = `Checked in at ${formatWhen(new Date().toISOString())}.`;
    } catch (error) {
      if (pin) pin.value = '';
      showError(form, error);
      (pin ?? button).focus();
    }
    button.disabled = false;
  });
  return card;
}

/** Today's setting: choose a PIN to turn the lock on; then the idle time and Lock now. */
export function lockSetting() {
  if (!status) return null;
  const box = h('div', { class: 'setting lock-setting', id: 'lock-setting' });
  const pinForm = h('form', { novalidate: true, class: 'pin-form' },
    field('pin', status.pinSet ? 'New PIN' : 'PIN', h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: '12' }), '4 to 12 digits.', 'set-'),
    field('pinAgain', 'PIN again', h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: '12' }), null, 'set-'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-secondary' }, status.pinSet ? 'Change the PIN' : 'Turn on the lock'),
    h('p', { class: 'saved', role: 'status', id: 'saved-pin' }));
  pinForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(pinForm);
    try {
      apply(await api.lockSetPin(pinForm.elements.pin.value, pinForm.elements.pinAgain.value));
      pinForm.reset();
      const fresh = lockSetting();
      box.replaceWith(fresh);
      fresh.querySelector('#saved-pin').textContent = 'Saved. The lock is on.';
    } catch (error) {
      showError(pinForm, error);
    }
  });
  let idle = null;
  if (status.pinSet) {
    const select = h('select', { id: 'f-idleMinutes', name: 'idleMinutes', 'aria-describedby': 'error-idleMinutes' },
      status.idleChoices.map((minutes) => h('option', { value: minutes, selected: minutes === status.idleMinutes }, minutes === 1 ? '1 minute' : `${minutes} minutes`)));
    const error = errorSlot('idleMinutes');
    select.addEventListener('change', async () => {
      error.hidden = true;
      try {
        apply(await api.lockSetIdle(Number(select.value)));
        announce(`Locks after ${select.selectedOptions[0].textContent} without use.`);
      } catch (problem) {
        error.textContent = problem.message;
        error.hidden = false;
      }
    });
    const now = h('button', { type: 'button', class: 'button button-secondary', id: 'lock-now' }, 'Lock now');
    now.addEventListener('click', lockNow);
    idle = [h('label', { for: 'f-idleMinutes' }, 'Lock after this long without use'), select, error, now];
  }
  fill(box,
    h('h2', {}, 'Screen lock'),
    h('p', { class: 'hint' }, status.pinSet
      ? 'The app locks by itself when nobody uses it, and with the Lock button or Alt+L.'
      : 'Shared office, left on a table: with a PIN, the app locks itself when nobody uses it, and shows nothing of the record until the PIN is typed.'),
    idle, pinForm, status.pinSet ? duressPinForm(box) : null);
  return box;
}

/**
 * The duress PIN: for when someone makes you open the app. It unlocks just as the PIN does;
 * every other Campaign Safe device of your team raises a silent alarm for the sessions you
 * share. Nothing on this screen ever shows that it was used.
 */
function duressPinForm(box) {
  const input = () => h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: '12' });
  const form = h('form', { novalidate: true, class: 'pin-form duress-pin-form' },
    h('h3', {}, 'Duress PIN'),
    h('p', { class: 'hint' }, status.duressPinSet
      ? 'A duress PIN is set. Type both fields empty and save to remove it.'
      : 'For when someone makes you open the app or check in: a second PIN that works just as your PIN does, while every other Campaign Safe device of your team raises a silent alarm for the sessions you share. Once it is set, “I’m OK” on the lock screen asks for a PIN too. Nothing here shows that it was used.'),
    field('duressPin', 'Duress PIN', input(), '4 to 12 digits, not your PIN.', 'set-'),
    field('duressPinAgain', 'Duress PIN again', input(), null, 'set-'),
    h('button', { type: 'submit', class: 'button button-secondary' }, 'Save duress PIN'),
    h('p', { class: 'saved', role: 'status', id: 'saved-duress-pin' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      apply(await api.lockSetDuressPin(form.elements.duressPin.value, form.elements.duressPinAgain.value));
      const fresh = lockSetting();
      box.replaceWith(fresh);
      fresh.querySelector('#saved-duress-pin').textContent = status.duressPinSet ? 'Saved.' : 'Removed.';
    } catch (error) {
      showError(form, error);
      form.elements[error.field]?.focus();
    }
  });
  return form;
}
