// Check-ins: #/checkins lists sessions that are out, #/checkins/new starts one,
// #/checkins/<id> shows its timeline and, when a check-in was missed, what to do.

import * as api from '../api.js';
import { h, fill, field, errorSlot, showError, clearErrors, announce, holdFocus, sessionFocus, oneAtATime, isolated } from '../dom.js';
import { countdown, statusText } from '../countdowns.js';
import { newSessionForm } from './checkin_form.js';
import { formatWhen } from '../when.js';
import { whereabouts, welfareCheck, duressPanel } from './session_team.js';
import { shortName } from '../components.js';
import { chatMembersPicker } from './chat_members.js';

export async function render([param, sub]) {
  if (param === 'new') return { title: 'New check-in session', node: newSessionForm() };
  if (param && sub === 'debrief') return (await import('./debrief.js')).render(Number(param));
  if (param) return renderDetail(Number(param));
  const sessions = await api.checkinsActive();
  const node = h('section', { class: 'checkins' },
    h('h1', { tabindex: '-1' }, 'Check-ins'),
    h('p', { class: 'lead' }, 'Tell someone when you leave, and check in on a schedule. If a check-in is missed, the alarm goes off here and as a desktop notification.'),
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: '#/checkins/new' }, 'Start a session'),
      h('a', { class: 'button button-secondary', href: '#/plans' }, 'Canvass plans'),
      h('a', { class: 'button button-secondary', href: '#/do-not-knock' }, 'Do-not-knock list'),
      h('a', { class: 'button button-secondary', href: '#/team' }, 'Team')),
    liveSessionList(sessions));
  return { title: 'Check-ins', node };
}

/**
 * Calls `refresh` whenever sessions change (a check-in anywhere, an alarm, a notification
 * answered), for as long as `node` is on the page.
 */
export function whileShown(node, refresh) {
  const inOrder = oneAtATime(refresh);
  const listener = () => {
    if (node.isConnected) inOrder();
    else window.removeEventListener('sessions-changed', listener);
  };
  window.addEventListener('sessions-changed', listener);
  // A change that came while the screen was still loading (after its first read, before it
  // listened) would otherwise never reach it: read once more now.
  inOrder();
}

/** Replaces what `holder` shows, and puts focus back on the same control if it is still there. */
function refill(holder, ...children) {
  const active = document.activeElement;
  const within = holder.contains(active);
  const card = within ? active.closest('[data-session-id]')?.dataset.sessionId : null;
  const control = within ? (active.id || active.dataset.act || active.getAttribute('href')) : null;
  fill(holder, ...children);
  if (!within) return;
  const scope = (card && holder.querySelector(`[data-session-id="${CSS.escape(card)}"]`)) || holder;
  const again = control && (scope.querySelector(`#${CSS.escape(control)}`)
    ?? scope.querySelector(`[data-act="${CSS.escape(control)}"]`)
    ?? scope.querySelector(`[href="${CSS.escape(control)}"]`));
  (again ?? holder.closest('section')?.querySelector('h1'))?.focus();
}

/** Active sessions as cards that follow every change without a reload; also used on Today. */
export function liveSessionList(sessions) {
  const holder = h('div', { class: 'session-holder' }, sessionList(sessions));
  let shown = JSON.stringify(sessions);
  whileShown(holder, async () => {
    try {
      const fresh = await api.checkinsActive();
      // Alarms change more often than sessions do: an unchanged list is left alone, so
      // focus, selection and screen readers are not disturbed for nothing.
      const text = JSON.stringify(fresh);
      if (text === shown) return;
      shown = text;
      refill(holder, sessionList(fresh));
    } catch (error) {
      shown = null;
      refill(holder, h('p', { class: 'problem' }, error.message));
    }
  });
  return holder;
}

/** Cards, with the team's sessions (started on other devices) under each team's name. */
function sessionList(sessions) {
  if (sessions.length === 0) return h('p', { class: 'empty' }, 'No one is out on a session right now.');
  const own = sessions.filter((session) => !session.team?.tracked);
  const teams = new Map();
  for (const session of sessions.filter((one) => one.team?.tracked)) {
    const name = session.team.name;
    teams.set(name, [...(teams.get(name) ?? []), session]);
  }
  if (teams.size === 0) return h('ul', { class: 'cards session-list' }, own.map(sessionCard));
  return h('div', { class: 'session-groups' },
    own.length ? [h('h3', { class: 'session-group' }, 'Yours'), h('ul', { class: 'cards session-list' }, own.map(sessionCard))] : null,
    [...teams].map(([name, list]) => [
      h('h3', { class: 'session-group' }, `Team: ${name}`),
      h('ul', { class: 'cards session-list' }, list.map(sessionCard))]));
}

/** "asha" for "@asha:example.org": how a Matrix id is said when no name is known. */
/**
 * A session another member started: only their devices may check in, extend or end it;
 * here one can say "I'm dealing with it" when its alarm is up.
 */
function trackedActions(session) {
  const alarm = session.status === 'missed' || session.status === 'help';
  return h('div', { class: 'actions' },
    alarm ? h('button', { type: 'button', class: 'button button-big', 'data-act': 'acknowledge' }, 'I’m dealing with it') : null,
    h('p', { class: 'muted tracked-note' }, `Only ${shortName(session.team.owner)}'s devices can check in, extend or end this session; this device raises the alarm if a check-in is missed.`));
}

/** Changes from the team room that were not made, newest first, said plainly. */
function ignoredChanges(session) {
  const ignored = session.timeline.filter((event) => event.kind === 'ignored').reverse();
  if (!ignored.length) return null;
  return h('section', { class: 'notice ignored-changes', role: 'status', 'aria-labelledby': 'ignored-title' },
    h('h2', { id: 'ignored-title' }, ignored.length === 1 ? 'Not done: a change from the team room' : `Not done: ${ignored.length} changes from the team room`),
    h('ul', {}, ignored.slice(0, 5).map((event) => h('li', { title: event.whoId ?? '' },
      `${event.text} (${event.atLocal})`))));
}

/**
 * What the team's keys say about this session (issue 24), filled in once known: a teammate
 * whose identity changed, and messages this device could not read from someone taking
 * part in it (it could be a call for help).
 */
function unreadableNote(session, quiet) {
  const box = h('div', { class: 'unreadable-note' });
  const inOrder = oneAtATime(() => fillTeamNotes(box, session, false));
  const listener = () => {
    if (box.isConnected) inOrder();
    else window.removeEventListener('team-changed', listener);
  };
  window.addEventListener('team-changed', listener);
  fillTeamNotes(box, session, quiet);
  return box;
}

function fillTeamNotes(box, session, quiet) {
  return api.teamStatus().then((status) => {
    const changed = (status.identityChanges ?? []).filter((change) => change.roomId === session.team.roomId);
    const posts = (status.unreadablePosts ?? []).filter((post) => post.sessions.some((s) => s.id === session.id));
    // Redrawn (and said again) only when what it says has changed.
    const facts = JSON.stringify([changed, posts]);
    if (box.dataset.facts === facts) return;
    box.dataset.facts = facts;
    fill(box);
    if (changed.length) {
      box.append(h('section', { class: 'notice identity-note', role: quiet ? null : 'alert', 'aria-labelledby': 'identity-title' },
        h('h2', { id: 'identity-title' }, 'A teammate’s identity has changed'),
        h('p', {}, `${changed.map((change) => isolated(change.name)).join(', ')}: new encryption keys, or someone else holding the account. Do not trust what comes from them until you have called them.`),
        h('p', {}, h('a', { href: '#/team' }, 'Check and accept it (Team)'))));
    }
    if (!posts.length) return;
    box.append(h('section', { class: 'missed-panel', role: quiet ? null : 'alert', 'aria-labelledby': 'unreadable-title' },
      h('h2', { id: 'unreadable-title' }, posts.length === 1 ? 'A message could not be read' : `${posts.length} messages could not be read`),
      h('ul', {}, posts.map((post) => h('li', {},
        `A message from ${isolated(post.senderName)} at ${formatWhen(post.sentAt)} could not be read on this device.`))),
      h('p', {}, 'It could be a call for help. Call them now; if you cannot reach them and think they are in danger, call 999.'),
      h('p', {}, h('a', { href: '#/team' }, 'Why, and what to do (Team)'))));
  }).catch(() => {});
}

/** Who started a team session, or which team one of ours is shared with. */
function teamLine(session) {
  if (!session.team) return null;
  const who = session.team.owner.replace(/^@/, '').split(':')[0];
  return h('p', { class: 'muted team-line' }, session.team.tracked
    ? `Started by ${who}${session.lastCheckInLocal ? ` · last check-in ${session.lastCheckInLocal.split(', ').pop()}` : ''}`
    : `Shared with ${session.team.name}`);
}

function sessionCard(session) {
  const { text, overdue } = countdown(session.nextDueAt);
  const missed = session.status === 'missed' || session.status === 'acknowledged';
  const card = h('li', { class: `card session session-${session.status}`, 'data-session-id': session.id },
    h('h2', { class: 'card-title' }, h('a', { href: `#/checkins/${session.id}` }, session.title)),
    h('p', { class: 'session-status', 'data-due': session.nextDueAt, 'data-status': session.status }, statusText(session.status, overdue)),
    session.participants.length ? h('p', { class: 'muted' }, session.participants.map(isolated).join(', ')) : null,
    teamLine(session),
    h('p', { class: 'countdown-line' }, missed || overdue ? 'Was due ' : 'Next check-in ',
      h('strong', {}, session.nextDueLocal.split(', ').pop()), ' · ',
      h('span', { class: 'countdown', 'data-due': session.nextDueAt }, text)),
    session.team?.tracked ? trackedActions(session) : h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button button-big', 'data-act': 'check-in' }, session.mode === 'watching' ? 'They checked in' : 'Check in – I’m OK'),
      h('button', { type: 'button', class: 'button button-secondary', 'data-act': 'end' }, 'End – I’m safe'),
      [15, 30, 60].map((minutes) => h('button', { type: 'button', class: 'button button-secondary', 'data-act': `extend-${minutes}`, 'data-minutes': minutes }, `+${minutes} min`))),
    errorSlot('general'));
  card.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-act]');
    if (!button) return;
    clearErrors(card);
    button.disabled = true;
    try {
      if (button.dataset.act === 'acknowledge') await api.checkinsAcknowledge(session.id);
      if (button.dataset.act === 'check-in') await api.checkinsCheckIn(session.id);
      if (button.dataset.act === 'end') await api.checkinsEnd(session.id);
      if (button.dataset.minutes) await api.checkinsExtend(session.id, Number(button.dataset.minutes));
      // The backend's one `changed` event redraws the screen: focus goes on to the card's
      // next check-in button, or its title once it has ended.
      announce(button.dataset.act === 'end' ? 'Session ended. Glad you are safe.' : 'Done.');
      holdFocus(() => sessionFocus(session.id));
      if (button.dataset.act === 'end' && session.kind === 'canvass') location.hash = `#/checkins/${session.id}/debrief`;
    } catch (error) {
      showError(card, error);
      button.disabled = false;
    }
  });
  return card;
}

async function renderDetail(id) {
  const session = await api.checkinsDetail(id);
  const node = h('section', { class: 'checkin-detail' }, detailParts(session));
  // The role="alert" panel is announced when it first appears; later refills replace it
  // only when the session's state changes.
  let latest = session;
  whileShown(node, async () => {
    try {
      const fresh = await api.checkinsDetail(id);
      if (JSON.stringify(fresh) === JSON.stringify(latest)) return;
      refill(node, detailParts(fresh, fresh.status === latest.status));
      latest = fresh;
    } catch (error) {
      showError(node, error);
    }
  });
  node.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-act], #copy-message');
    if (!button) return;
    if (button.id === 'copy-message') {
      try {
        await navigator.clipboard.writeText(preparedMessage(latest));
        announce('Message copied.');
      } catch {
        announce('Copying is not available here; select the message and copy it.');
      }
      return;
    }
    clearErrors(node);
    button.disabled = true;
    try {
      if (button.dataset.act === 'check-in') await api.checkinsCheckIn(id);
      if (button.dataset.act === 'end') await api.checkinsEnd(id);
      if (button.dataset.act === 'acknowledge') await api.checkinsAcknowledge(id);
      if (button.dataset.act === 'acknowledge-duress') await api.checkinsAcknowledgeDuress(id);
      if (button.dataset.act === 'ask') {
        await api.checkinsAsk(id);
        announce('Asked the people out on it to check in now.');
      }
      if (button.dataset.act === 'end' && latest.kind === 'canvass') location.hash = `#/checkins/${id}/debrief`;
      else holdFocus(() => null);
    } catch (error) {
      showError(node, error);
      button.disabled = false;
    }
  });
  return { title: session.title, node: h('div', { class: 'checkin-page' }, node, await sessionExtras(session)) };
}

/** The do-not-knock doors where the session goes, and the debrief once it has ended. */
async function sessionExtras(session) {
  const [doors, debriefed] = await Promise.all([
    session.place ? api.dnkForPlace(session.place).catch(() => []) : [],
    session.status === 'ended' && session.kind === 'canvass' ? api.aftercareDebriefed(session.id).catch(() => true) : true,
  ]);
  return [
    debriefed ? null : h('p', { class: 'notice', id: 'debrief-due' }, 'Back safely? ',
      h('a', { class: 'button', href: `#/checkins/${session.id}/debrief` }, 'Debrief now')),
    doors.length ? h('section', { class: 'session-doors', 'aria-labelledby': 'doors-title' },
      h('h2', { id: 'doors-title' }, `Do not knock here (${doors.length})`),
      h('ul', {}, doors.map((door) => h('li', {}, h('strong', {}, door.house, ' ', door.street, door.postcode ? `, ${door.postcode}` : ''), `: ${door.reasonLabel}`, door.note ? `. ${door.note}` : ''))),
      h('p', {}, h('a', { href: '#/do-not-knock' }, 'The whole list'))) : null,
  ];
}

/** "Asha and Ben", or the session's name; each name isolated for direction (dom.js). */
function peopleOut(session) {
  return session.participants.map(isolated).join(' and ') || isolated(session.title);
}

function preparedMessage(session) {
  const people = peopleOut(session);
  const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
  return `${people} (${isolated(session.title)}) missed a check-in due at ${session.nextDueLocal}.`
    + (session.lastCheckInLocal ? ` Last check-in: ${session.lastCheckInLocal}.` : '')
    + (session.place ? ` Where: ${sentence(session.place)}` : '') + (session.notes ? ` Notes: ${sentence(session.notes)}` : '');
}

/** The session page's content; `quiet` leaves the missed panel unannounced on a refresh. */
function detailParts(session, quiet = false) {
  const missed = session.status === 'missed' || session.status === 'acknowledged';
  const ended = session.status === 'ended';
  const people = peopleOut(session);
  const message = preparedMessage(session);
  const { text, overdue } = countdown(session.nextDueAt);
  return [
    h('p', { class: 'back' }, h('a', { href: '#/checkins' }, '← All check-ins')),
    h('h1', { tabindex: '-1' }, missed ? `Missed check-in: ${session.title}` : session.title),
    ended ? h('p', { class: 'session-status' }, 'Ended') : [
      h('p', { class: 'session-status', 'data-due': session.nextDueAt, 'data-status': session.status }, statusText(session.status, overdue)),
      h('p', { class: 'countdown-line' }, missed || overdue ? 'Was due ' : 'Next check-in ',
        h('strong', {}, session.nextDueLocal.split(', ').pop()), ' · ',
        h('span', { class: 'countdown', 'data-due': session.nextDueAt }, text)),
      session.team?.tracked ? h('p', { class: 'muted tracked-note' }, `Only ${shortName(session.team.owner)}'s devices can check in, extend or end this session; this device raises the alarm if a check-in is missed.`)
        : h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'button button-big', 'data-act': 'check-in' }, session.mode === 'watching' ? 'They checked in' : 'Check in – I’m OK'),
          h('button', { type: 'button', class: 'button button-secondary', 'data-act': 'end' }, 'End – I’m safe')),
    ],
    ignoredChanges(session),
    !ended && session.team ? unreadableNote(session, quiet) : null,
    missed ? h('div', { class: 'missed-panel', role: quiet ? null : 'alert' },
      h('p', { class: 'missed-who' }, `${people} – overdue since ${session.nextDueLocal}`),
      h('p', {}, session.lastCheckInLocal ? `Last check-in: ${session.lastCheckInLocal}` : 'No check-in since the session started.'),
      session.notes ? h('p', {}, h('strong', {}, 'Notes for responders: '), session.notes) : null,
      session.place ? h('p', {}, h('strong', {}, 'Where: '), session.place) : null,
      h('h2', {}, 'Call, in this order'),
      h('ol', { class: 'steps' }, session.escalation.map((contact) => h('li', {},
        h('strong', {}, contact.name), contact.relationship ? ` (${contact.relationship}) ` : ' ',
        h('a', { href: `tel:${contact.phone}` }, contact.phoneShown ?? contact.phone), ' · ',
        h('a', { href: `sms:${contact.phone}?body=${encodeURIComponent(message)}` }, 'text')))),
      h('h2', {}, 'Message to send'),
      h('p', { class: 'prepared-message' }, message),
      h('button', { type: 'button', class: 'button button-secondary', id: 'copy-message' }, 'Copy message'),
      h('h2', {}, 'If you cannot reach them'),
      h('p', {}, 'If you think they are in danger, call 999. If you are the one in trouble and cannot speak, call 999, stay on the line and press 55 when asked.'),
      session.status === 'missed'
        ? h('button', { type: 'button', class: 'button', id: 'acknowledge', 'data-act': 'acknowledge' }, 'I’m dealing with it') : null) : null,
    session.status === 'help' ? h('div', { class: 'missed-panel', role: quiet ? null : 'alert' },
      h('p', { class: 'missed-who' }, `${people} asked for help`),
      h('p', {}, 'Call them now. If you cannot reach them, call 999.'),
      h('button', { type: 'button', class: 'button', id: 'acknowledge-help', 'data-act': 'acknowledge' }, 'I’m dealing with it')) : null,
    errorSlot('general'),
    !ended && session.duress ? duressPanel(session, quiet) : null,
    !ended && session.team ? whereabouts(session, missed || session.status === 'help' || Boolean(session.duress)) : null,
    !ended && session.team ? welfareCheck(session) : null,
    teamLine(session),
    !ended && !session.team ? shareSection(session) : null,
    h('p', {}, `${session.kind[0].toUpperCase()}${session.kind.slice(1)} · until ${session.endsAtLocal}`
      + (session.intervalMinutes ? ` · check in every ${session.intervalMinutes} min` : ' · no periodic check-ins')),
    h('h2', {}, 'Timeline'),
    h('ol', { class: 'timeline' }, session.timeline.map((event) => h('li', { class: `timeline-${event.kind}` },
      h('span', { class: 'timeline-time' }, event.atLocal), ' ',
      h('span', { class: 'timeline-text', title: event.whoId ?? '' }, event.text)))),
  ];
}

/**
 * "Share with a team": every member's device then tracks this session and raises the alarm
 * if a check-in is missed. Volunteers chosen here may check in by chat (OK, 👍, or HELP).
 */
function shareSection(session) {
  const box = h('section', { class: 'share', 'aria-labelledby': 'share-title' },
    h('h2', { id: 'share-title' }, 'Share with a team'));
  api.teamStatus().then((status) => {
    if (!status.teams.length) {
      box.append(h('p', {}, 'To share check-ins with your team, first set up a team: ', h('a', { href: '#/team' }, 'Team'), '.'));
      return;
    }
    const teamSelect = h('select', {}, status.teams.map((team) => h('option', { value: team.roomId }, team.name)));
    const members = chatMembersPicker();
    teamSelect.addEventListener('change', () => members.load(teamSelect.value, status.userId));
    members.load(teamSelect.value, status.userId);
    const share = h('button', { type: 'button', class: 'button', id: 'share-session' }, 'Share with this team');
    share.addEventListener('click', async () => {
      clearErrors(box);
      share.disabled = true;
      try {
        await api.checkinsShare(session.id, teamSelect.value, members.chosen());
        announce('Shared with the team.');
      } catch (error) {
        showError(box, error);
        share.disabled = false;
      }
    });
    box.append(field('shareTeam', 'Team', teamSelect), members.node, errorSlot('general', 'share-'), share);
  }).catch(() => box.remove());
  return box;
}
