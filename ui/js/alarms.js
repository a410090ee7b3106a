// The alarm stack: every open alarm, most urgent first, each with its own buttons. The
// backend owns the alarms; this shows what it sends in `changed` (and, on load, what
// `alarms_open` says), sounds for new or repeated ones, and tells the screens that sessions
// changed so their cards follow without a reload.

import * as api from './api.js';
import { h, fill, holdFocus, sessionFocus, isolated } from './dom.js';
import { setAppNow } from './countdowns.js';
import { ageText, mapLinks } from './components.js';

const box = document.getElementById('alarms');
let current = { alarms: [], ring: [], notificationsFailed: false };
let collapsed = false;

// ---- Sound: a pattern that repeats while an unanswered alarm rings, stopped at once when
// the alarms it was for are resolved.

let audio = null;
let soundTimer = null;

function beep(times) {
  try {
    audio ??= new AudioContext();
    for (let i = 0; i < times; i += 1) {
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start(audio.currentTime + i * 0.4);
      tone.stop(audio.currentTime + i * 0.4 + 0.25);
    }
  } catch {
    // No sound device: the stack still shows.
  }
}

function stopSound() {
  window.clearTimeout(soundTimer);
  soundTimer = null;
  if (audio) {
    audio.close().catch(() => {});
    audio = null;
  }
}

function sound(ringing) {
  stopSound();
  if (ringing.length === 0) return;
  const missed = ringing.some(urgent);
  beep(missed ? 5 : 2);
  // A missed alarm sounds again every 30 seconds until someone acts; a reminder once.
  if (missed) soundTimer = window.setTimeout(() => sound(ringing.filter((a) => isOpen(a.key))), 30_000);
}

const isOpen = (key) => current.alarms.some((alarm) => alarm.key === key);
/** A missed check-in or a call for help: sounds until answered, drawn in the alarm colour. */
const urgent = (alarm) => alarm.kind !== 'reminder';

// ---- Showing the stack.

function alarmItem(alarm) {
  const error = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  const buttons = alarm.actions.map((action) => (action.key === 'open'
    ? h('a', { class: 'button button-secondary alarm-open', href: `#/checkins/${alarm.sessionId}` }, action.label)
    : h('button', { type: 'button', class: action.key === alarm.actions[0].key ? 'button' : 'button button-secondary', 'data-act': action.key }, action.label)));
  const item = h('li', {
    class: `alarm alarm-${alarm.kind}${urgent(alarm) ? ' alarm-urgent' : ''}`, 'data-alarm-key': alarm.key, 'data-session-id': alarm.sessionId,
    'aria-labelledby': `alarm-${alarm.key}`,
  },
  // The summary opens the session too: on a phone with several alarms, its "What to do"
  // button makes way for the two that answer the alarm.
  h('p', { class: 'alarm-summary', id: `alarm-${alarm.key}` },
    h('a', { href: `#/checkins/${alarm.sessionId}` }, alarm.summary)),
  h('p', { class: 'alarm-body' }, alarm.body),
  alarm.lastLocation ? h('p', { class: 'alarm-where' },
    `Last known location ${alarm.lastLocation.coordinates}`,
    alarm.lastLocation.accuracyM != null ? ` (within ${alarm.lastLocation.accuracyM} m)` : '',
    `, from ${alarm.lastLocation.senderName}, `,
    h('span', { 'data-since': alarm.lastLocation.at }, ageText(alarm.lastLocation.at)), ': ',
    mapLinks(alarm.lastLocation)) : null,
  h('div', { class: 'actions' }, buttons),
  error);
  item.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-act]');
    if (!button) return;
    button.disabled = true;
    error.hidden = true;
    try {
      if (button.dataset.act === 'check-in') await api.checkinsCheckIn(alarm.sessionId);
      if (button.dataset.act === 'snooze-5') await api.checkinsSnooze(alarm.sessionId);
      if (button.dataset.act === 'acknowledge') {
        await (alarm.kind === 'duress' ? api.checkinsAcknowledgeDuress : api.checkinsAcknowledge)(alarm.sessionId);
      }
      // The backend's `changed` event takes the alarm away: focus goes to the session's
      // card on the screen if there is one, else to the screen's heading.
      holdFocus(() => sessionFocus(alarm.sessionId));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      button.disabled = false;
      // Locked, with a duress PIN set: the lock screen's check-in for it takes the PIN.
      if (failure.code === 'pin_needed') document.getElementById(`f-session-${alarm.sessionId}-pin`)?.focus();
    }
  });
  return item;
}

function render() {
  const { alarms, notificationsFailed } = current;
  box.hidden = alarms.length === 0;
  if (alarms.length === 0) {
    box.replaceChildren();
    collapsed = false;
    return;
  }
  // Keep focus where it was if its button is still there after the redraw.
  const focused = document.activeElement;
  const focusKey = box.contains(focused) ? [focused.closest('[data-alarm-key]')?.dataset.alarmKey, focused.dataset.act ?? focused.getAttribute('href')] : null;

  const missed = alarms.filter((alarm) => alarm.kind === 'missed').length;
  const help = alarms.filter((alarm) => alarm.kind === 'help').length;
  const count = missed === alarms.length
    ? `${missed} missed check-in${missed === 1 ? '' : 's'}`
    : `${alarms.length} alarm${alarms.length === 1 ? '' : 's'}${help ? `, ${help} asking for help` : ''}${missed ? `, ${missed} missed` : ''}`;
  const toggle = h('button', { type: 'button', class: 'alarms-toggle', 'aria-expanded': String(!collapsed), 'aria-controls': 'alarm-list' },
    collapsed ? 'Show' : 'Hide');
  toggle.addEventListener('click', () => {
    collapsed = !collapsed;
    render();
    box.querySelector('.alarms-toggle')?.focus();
  });
  box.className = `alarms${missed + help ? ' alarms-missed' : ''}${collapsed ? ' alarms-collapsed' : ''}${alarms.length > 1 ? ' alarms-many' : ''}`;
  fill(box,
    h('div', { class: 'alarms-head' },
      h('p', { class: 'alarms-count' }, collapsed ? `${count}: ${whoAndWhere(alarms)}` : count),
      toggle),
    // The alarms and their buttons first, the notes under them: on a phone the stack takes
    // a third of the screen, and a note above would push the buttons out of sight.
    h('ul', { class: 'alarm-list', id: 'alarm-list', hidden: collapsed }, alarms.map(alarmItem)),
    current.unposted && !collapsed
      ? h('p', { class: 'alarms-note' }, 'Not yet posted to your team: the team server has not answered. Phone them instead.')
      : null,
    notificationsFailed && !collapsed
      ? h('p', { class: 'alarms-note' }, 'Desktop notifications are not working here, so keep Campaign Safe open to see alarms.')
      : null);

  if (focusKey) {
    const [key, act] = focusKey;
    const item = box.querySelector(`[data-alarm-key="${CSS.escape(key ?? '')}"]`);
    (item?.querySelector(`[data-act="${CSS.escape(act ?? '')}"], [href="${CSS.escape(act ?? '')}"]`) ?? box.querySelector('.alarms-toggle'))?.focus();
  }
}

/**
 * Who and where, shortest first, for the collapsed bar: "Ward 3 (Asha, Ben); Ward 5 (Cat)".
 * Each name is isolated: a title and names in Arabic would otherwise swap places around the
 * brackets.
 */
function whoAndWhere(alarms) {
  return alarms.map((alarm) => (alarm.participants.length
    ? `${isolated(alarm.title)} (${alarm.participants.map(isolated).join(', ')})`
    : isolated(alarm.title))).join('; ');
}

/** True while someone is typing: an alarm must not take the keyboard away mid-word. */
function typing() {
  const active = document.activeElement;
  return active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement || active instanceof HTMLSelectElement;
}

function apply(state, { fromLoad = false } = {}) {
  setAppNow(state.now);
  const before = new Set(current.alarms.map((alarm) => alarm.key));
  current = state;
  const ringing = state.alarms.filter((alarm) => state.ring.includes(alarm.key) || (fromLoad && !before.has(alarm.key)));
  if (ringing.length) collapsed = false;
  render();
  if (ringing.length) {
    sound(ringing);
    const first = box.querySelector(`[data-alarm-key="${CSS.escape(ringing[0].key)}"] button`);
    if (first && !typing() && !box.contains(document.activeElement)) first.focus({ preventScroll: true });
    const announcer = document.getElementById('alarm-announcer');
    if (announcer) announcer.textContent = ringing.map((alarm) => alarm.summary).join('. ');
  } else if (!state.alarms.some(urgent)) {
    stopSound();
  }
  window.dispatchEvent(new CustomEvent('sessions-changed'));
}

/**
 * Starts showing alarms: what is open now, then every change the backend reports. The
 * backend tells the window once per change (`changed`): with sessions, the alarms as they
 * now are; otherwise what changed (the do-not-knock list, the team), for the screen showing it.
 */
export async function startAlarms() {
  api.listen('changed', (change) => {
    if (change.alarms) apply(change.alarms);
    else window.dispatchEvent(new CustomEvent(`${change.what}-changed`));
  });
  // After an upgrade that ran with the window open, the alarms are read again.
  api.listen('record-ready', () => loadAlarms());
  await loadAlarms();
}

async function loadAlarms() {
  try {
    apply(await api.alarmsOpen(), { fromLoad: true });
  } catch {
    // The start-up banner already explains when saved data cannot be read.
  }
}
