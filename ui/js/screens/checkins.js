// Check-ins: #/checkins lists sessions that are out, #/checkins/new starts one,
// #/checkins/<id> shows its timeline and, when a check-in was missed, what to do.

import * as api from '../api.js';
import { h, errorSlot, showError, clearErrors, announce } from '../dom.js';
import { newSessionForm } from './checkin_form.js';

export async function render([param]) {
  if (param === 'new') return { title: 'New check-in session', node: newSessionForm() };
  if (param) return renderDetail(Number(param));
  const sessions = await api.checkinsActive();
  const node = h('section', { class: 'checkins' },
    h('h1', { tabindex: '-1' }, 'Check-ins'),
    h('p', { class: 'lead' }, 'Tell someone when you leave, and check in on a schedule. If a check-in is missed, the alarm goes off here and as a desktop notification.'),
    h('a', { class: 'button', href: '#/checkins/new' }, 'Start a session'),
    sessionList(sessions, rerender));
  return { title: 'Check-ins', node };
}

const STATUS_TEXT = { ok: 'On schedule', due: 'Check-in due', missed: 'MISSED CHECK-IN', acknowledged: 'Missed – being handled', ended: 'Ended' };

/** Active sessions with live countdowns and their buttons; also used on Today. */
export function sessionList(sessions, refresh) {
  if (sessions.length === 0) return h('p', { class: 'empty' }, 'No one is out on a session right now.');
  return h('ul', { class: 'cards session-list' }, sessions.map((session) => sessionCard(session, refresh)));
}

function sessionCard(session, refresh) {
  const card = h('li', { class: `card session session-${session.status}`, 'data-session-id': session.id },
    h('h2', { class: 'card-title' }, h('a', { href: `#/checkins/${session.id}` }, session.title)),
    h('p', { class: 'session-status' }, STATUS_TEXT[session.status] ?? session.status),
    session.participants.length ? h('p', { class: 'muted' }, session.participants.join(', ')) : null,
    h('p', { class: 'countdown-line' }, 'Next check-in ', h('strong', {}, session.nextDueLocal.split(', ').pop()), ' · ',
      h('span', { class: 'countdown', 'data-due': session.nextDueAt }, countdownText(session.nextDueAt))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button button-big', 'data-act': 'check-in' }, 'Check in – I’m OK'),
      h('button', { type: 'button', class: 'button button-secondary', 'data-act': 'end' }, 'End – I’m safe'),
      [15, 30, 60].map((minutes) => h('button', { type: 'button', class: 'button button-secondary', 'data-act': 'extend', 'data-minutes': minutes }, `+${minutes} min`))),
    errorSlot('general'));
  card.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-act]');
    if (!button) return;
    clearErrors(card);
    button.disabled = true;
    try {
      if (button.dataset.act === 'check-in') await api.checkinsCheckIn(session.id);
      if (button.dataset.act === 'end') await api.checkinsEnd(session.id);
      if (button.dataset.act === 'extend') await api.checkinsExtend(session.id, Number(button.dataset.minutes));
      announce(button.dataset.act === 'end' ? 'Session ended. Glad you are safe.' : 'Done.');
      refresh();
    } catch (error) {
      showError(card, error);
      button.disabled = false;
    }
  });
  return card;
}

export function countdownText(dueIso) {
  const seconds = Math.round((Date.parse(dueIso) - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const text = abs >= 3600 ? `${Math.floor(abs / 3600)} h ${Math.floor((abs % 3600) / 60)} min`
    : abs >= 60 ? `${Math.floor(abs / 60)} min ${abs % 60} s` : `${abs} s`;
  return seconds >= 0 ? `in ${text}` : `${text} overdue`;
}

// One timer for every countdown on screen.
window.setInterval(() => {
  for (const element of document.querySelectorAll('.countdown[data-due]')) {
    element.textContent = countdownText(element.dataset.due);
  }
}, 1000);

async function renderDetail(id) {
  const session = await api.checkinsDetail(id);
  const missed = session.status === 'missed' || session.status === 'acknowledged';
  const people = session.participants.join(' and ') || session.title;
  const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
  const message = `${people} (${session.title}) missed a check-in due at ${session.nextDueLocal}.`
    + (session.lastCheckInLocal ? ` Last check-in: ${session.lastCheckInLocal}.` : '')
    + (session.place ? ` Where: ${sentence(session.place)}` : '') + (session.notes ? ` Notes: ${sentence(session.notes)}` : '');
  const node = h('section', { class: 'checkin-detail' },
    h('p', { class: 'back' }, h('a', { href: '#/checkins' }, '← All check-ins')),
    h('h1', { tabindex: '-1' }, missed ? `Missed check-in: ${session.title}` : session.title),
    missed ? h('div', { class: 'missed-panel', role: 'alert' },
      h('p', { class: 'missed-who' }, `${people} – overdue since ${session.nextDueLocal}`),
      h('p', {}, session.lastCheckInLocal ? `Last check-in: ${session.lastCheckInLocal}` : 'No check-in since the session started.'),
      session.notes ? h('p', {}, h('strong', {}, 'Notes for responders: '), session.notes) : null,
      session.place ? h('p', {}, h('strong', {}, 'Where: '), session.place) : null,
      h('h2', {}, 'Call, in this order'),
      h('ol', { class: 'steps' }, session.escalation.map((contact) => h('li', {},
        h('strong', {}, contact.name), contact.relationship ? ` (${contact.relationship}) ` : ' ',
        h('a', { href: `tel:${contact.phone}` }, contact.phone), ' · ',
        h('a', { href: `sms:${contact.phone}?body=${encodeURIComponent(message)}` }, 'text')))),
      h('h2', {}, 'Message to send'),
      h('p', { class: 'prepared-message' }, message),
      h('button', { type: 'button', class: 'button button-secondary', id: 'copy-message' }, 'Copy message'),
      h('h2', {}, 'If you cannot reach them'),
      h('p', {}, 'If you think they are in danger, call 999. If you are the one in trouble and cannot speak, call 999, stay on the line and press 55 when asked.'),
      session.status === 'missed'
        ? h('button', { type: 'button', class: 'button', id: 'acknowledge' }, 'I’m dealing with it') : null,
      errorSlot('general')) : null,
    h('p', {}, `${session.kind[0].toUpperCase()}${session.kind.slice(1)} · until ${session.endsAtLocal}`
      + (session.intervalMinutes ? ` · check in every ${session.intervalMinutes} min` : ' · no periodic check-ins')),
    h('h2', {}, 'Timeline'),
    h('ol', { class: 'timeline' }, session.timeline.map((event) => h('li', {},
      h('span', { class: 'timeline-time' }, event.atLocal), ' ',
      h('span', { class: 'timeline-kind' }, event.kind.replaceAll('_', ' ')),
      ` – ${event.byWhom}`, event.detail ? ` (${event.detail})` : ''))));
  node.querySelector('#copy-message')?.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(message);
      announce('Message copied.');
    } catch {
      announce('Copying is not available here; select the message and copy it.');
    }
  });
  node.querySelector('#acknowledge')?.addEventListener('click', async () => {
    try {
      await api.checkinsAcknowledge(id);
      rerender();
    } catch (error) {
      showError(node.querySelector('.missed-panel'), error);
    }
  });
  return { title: session.title, node };
}

/** Shows the current screen again with fresh data. */
export function rerender() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}
