// Comparing numbers on the Team screen (issue 24): this device confirmed with another of the
// user's sessions, or a teammate verified with one of theirs. Numbers by default (easier to
// read out than emoji); pictures on request. The panel is one of the Team screen's live
// panels: it redraws as the other side answers.

import * as api from '../api.js';
import { h, errorSlot, showError, announce, isolated } from '../dom.js';

// The user's choice of numbers or pictures, kept across redraws of the panel.
let showPictures = false;

/** Starts a comparison from a button; errors go to `slot`, and focus to the panel. */
async function start(slot, userId = null, deviceId = null) {
  slot.hidden = true;
  try {
    await api.teamCompareStart(userId, deviceId);
    announce('Asked to compare numbers.');
    window.dispatchEvent(new CustomEvent('team-changed'));
    focusPanelSoon();
  } catch (error) {
    slot.textContent = error.message;
    slot.hidden = false;
    slot.setAttribute('role', 'alert');
  }
}

function focusPanelSoon() {
  const started = performance.now();
  const look = () => {
    const title = document.getElementById('compare-title');
    if (title) {
      title.focus();
      title.scrollIntoView({ block: 'nearest' });
    } else if (performance.now() - started < 3000) {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
}

/** The other way to confirm this device, beside the recovery key. */
export function compareOwnSessions() {
  const slot = errorSlot('comparison', 'own-');
  const button = h('button', { type: 'button', class: 'button button-secondary', id: 'compare-own' },
    'Compare numbers with another of your sessions');
  button.addEventListener('click', () => start(slot));
  return h('div', { class: 'compare-start' },
    h('p', {}, 'No recovery key at hand? If you are signed in on your phone (Element) or another laptop that is already confirmed, compare numbers with it instead.'),
    button, slot);
}

/** A button in the members list: verify this teammate with one of their sessions. */
export function compareWithTeammate(member, device) {
  const slot = errorSlot('comparison', `device-${device.deviceId.replace(/[^a-zA-Z0-9]/g, '')}-`);
  const button = h('button', { type: 'button', class: 'button button-secondary' },
    `Verify ${isolated(member.name)} with this session`);
  button.addEventListener('click', () => start(slot, member.userId, device.deviceId));
  return [button, slot];
}

function otherSide(comparison) {
  const session = comparison.session ? `“${isolated(comparison.session)}”` : null;
  if (comparison.ownSession) return session ? `your session ${session}` : 'your other session';
  return session ? `${isolated(comparison.name)}’s session ${session}` : isolated(comparison.name);
}

function action(label, id, run, secondary = true) {
  const button = h('button', { type: 'button', class: secondary ? 'button button-secondary' : 'button', id }, label);
  button.addEventListener('click', async () => {
    const panel = button.closest('.comparison');
    try {
      await run();
      window.dispatchEvent(new CustomEvent('team-changed'));
      focusPanelSoon();
    } catch (error) {
      if (panel) showError(panel, error);
    }
  });
  return button;
}

const stop = (label = 'Stop comparing') => action(label, 'compare-stop', () => api.teamCompareStop());

function numbers(comparison) {
  if (showPictures && comparison.pictures.length) {
    return h('ol', { class: 'sas-pictures', 'aria-label': 'The pictures to compare' },
      comparison.pictures.map((picture) => h('li', {},
        h('span', { class: 'sas-symbol', 'aria-hidden': 'true' }, picture.symbol),
        h('span', { class: 'sas-name' }, picture.name))));
  }
  return h('p', { class: 'sas-numbers', 'aria-label': `The numbers to compare: ${comparison.numbers.join(', ')}` },
    comparison.numbers.map((n) => h('span', {}, String(n))));
}

function compareStage(comparison) {
  const toggle = comparison.pictures.length ? h('button', { type: 'button', class: 'button button-secondary', id: 'compare-toggle' },
    showPictures ? 'Show numbers instead' : 'Show pictures instead') : null;
  toggle?.addEventListener('click', () => {
    showPictures = !showPictures;
    window.dispatchEvent(new CustomEvent('team-changed', { detail: { redraw: true } }));
    focusPanelSoon();
  });
  return [
    h('p', {}, `Check that ${otherSide(comparison)} shows the same ${showPictures ? 'pictures, in the same order' : 'three numbers'}. Read them out side by side, or on the phone to ${comparison.ownSession ? 'yourself' : isolated(comparison.name)}.`),
    numbers(comparison),
    toggle,
    h('div', { class: 'actions' },
      action('They match', 'compare-match', () => api.teamCompareAnswer(true), false),
      action('They do not match', 'compare-mismatch', () => api.teamCompareAnswer(false))),
  ];
}

const TITLES = {
  asked: (c) => (c.ownSession ? 'Another of your sessions asks to compare numbers' : `${isolated(c.name)} asks to compare numbers`),
  waiting: (c) => `Waiting for ${otherSide(c)}`,
  starting: () => 'Starting the comparison…',
  compare: () => 'Compare the numbers',
  confirmed: (c) => `Waiting for ${otherSide(c)} to say they match`,
  done: (c) => (c.ownSession ? 'This device is confirmed' : `You have verified ${isolated(c.name)}`),
  ended: () => 'Nothing was confirmed',
};

function body(comparison) {
  switch (comparison.stage) {
    case 'asked':
      return [
        h('p', {}, comparison.ownSession
          ? `${otherSide(comparison)} wants to confirm itself with this device. Accept only if you started it yourself, just now.`
          : `${isolated(comparison.name)} wants to verify you${comparison.session ? `, from their session “${isolated(comparison.session)}”` : ''}. Accept only if you are talking to them now, in person or on the phone.`),
        h('div', { class: 'actions' },
          action('Accept', 'compare-accept', () => api.teamCompareAccept(), false),
          stop('Decline')),
      ];
    case 'waiting':
      return [
        h('p', {}, comparison.ownSession
          ? 'Open Element (or Campaign Safe) on your other session: it shows a request to verify this device. Accept it there, and choose to compare numbers or emoji.'
          : `${isolated(comparison.name)}’s session shows a request to verify. Ask them to accept it.`),
        stop(),
      ];
    case 'starting':
      return [h('p', {}, 'Both sides agreed; the numbers come in a moment.'), stop()];
    case 'compare':
      return compareStage(comparison);
    case 'confirmed':
      return [h('p', {}, 'You said they match. Say so on the other side too.'), stop()];
    case 'done':
      return [
        h('p', { class: 'ok' }, comparison.ownSession
          ? 'Your other session signed this device: Element users in your team now send it their messages.'
          : `${isolated(comparison.name)}’s identity is verified by you. If it ever changes, this app warns you.`),
        stop('Close'),
      ];
    default:
      return [h('p', { class: 'problem' }, comparison.ended ?? 'The comparison stopped.'), stop('Close')];
  }
}

/** The comparison under way, or null. One of the Team screen's live panels. */
export function comparisonPanel(status) {
  const comparison = status.comparison;
  if (!comparison) return null;
  const warning = comparison.stage === 'ended' || comparison.stage === 'asked';
  return h('section', {
    class: `card comparison comparison-${comparison.stage}${warning ? ' note note-warning' : ''}`,
    'aria-labelledby': 'compare-title',
  },
  h('h2', { class: 'card-title', id: 'compare-title', tabindex: '-1' }, (TITLES[comparison.stage] ?? TITLES.ended)(comparison)),
  body(comparison),
  errorSlot('comparison', 'panel-'));
}
