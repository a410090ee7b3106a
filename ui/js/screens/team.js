// Team (#/team): sign in to the team's Matrix server, create or join a team (an
// end-to-end encrypted room), invite people, see members and their devices, leave, sign out.
// Shared check-ins and missed alarms then reach every member, in the app or in Element.

import * as api from '../api.js';
import { h, s, field, errorSlot, showError, clearErrors, announce, fill, oneAtATime, isolated } from '../dom.js';
import { formatWhen } from '../when.js';
import { comparisonPanel, compareOwnSessions } from './team_compare.js';
import { memberList } from './team_members.js';
import { locationsPanel, duressForm } from './team_locations.js';

const CONNECTION = {
  signedOut: 'Not signed in',
  connecting: 'Connecting…',
  online: 'Connected',
  offline: 'Cannot reach the team server',
};

// The recovery key of an account just made here, kept only until the screen shows it once.
let recoveryKeyToShow = null;

export async function render() {
  const status = await api.teamStatus();
  const recoveryKey = recoveryKeyToShow;
  recoveryKeyToShow = null;
  const card = recoveryKey && status.connection !== 'signedOut' ? recoveryKeyCard(recoveryKey) : null;
  const node = h('section', { class: 'team' },
    h('p', { class: 'back' }, h('a', { href: '#/checkins' }, '← Check-ins')),
    h('h1', { tabindex: '-1' }, 'Team'),
    h('p', { class: 'lead' },
      'Share check-ins with your team so that a missed one reaches everyone, on every device. Campaign Safe uses Matrix: messages are end-to-end encrypted, and volunteers without the app can take part from Element.'),
    livePanels(status),
    card ?? (status.connection === 'signedOut' ? signInForm() : signedIn(status)));
  // After the screen's own heading, the key is what needs reading first.
  if (card) window.setTimeout(() => card.querySelector('h2').focus(), 0);
  // While the first contact is being made, look again shortly; once settled, nothing ticks.
  if (status.connection === 'connecting' && !card) {
    window.setTimeout(() => { if (node.isConnected) rerender(); }, 1000);
  }
  return { title: 'Team', node };
}

/**
 * The connection, changed identities and unreadable messages: redrawn whenever the team
 * changes (a post that cannot be read, one that now can), leaving the forms below as typed.
 */
function livePanels(status) {
  const holder = h('div', { class: 'team-live' }, panels(status));
  let shown = JSON.stringify(panelFacts(status));
  const redrawPanels = oneAtATime(async (redraw) => {
    const fresh = await api.teamStatus().catch(() => null);
    if (!fresh || (!redraw && JSON.stringify(panelFacts(fresh)) === shown)) return;
    shown = JSON.stringify(panelFacts(fresh));
    const focused = holder.contains(document.activeElement);
    fill(holder, panels(fresh));
    // Focus stays in the panels: on the comparison when there is one, else the heading.
    if (focused) (holder.querySelector('#compare-title') ?? holder.closest('section')?.querySelector('h1'))?.focus();
  }, (earlier, later) => earlier || later);
  const listener = (event) => {
    if (!holder.isConnected) {
      window.removeEventListener('team-changed', listener);
      return;
    }
    redrawPanels(event?.detail?.redraw === true);
  };
  window.addEventListener('team-changed', listener);
  return holder;
}

function panels(status) {
  return [statusPanel(status), comparisonPanel(status), identityPanel(status), unreadablePanel(status)];
}

/** What the panels show, without the last sync time that changes on every sync. */
function panelFacts(status) {
  const { lastSync, ...facts } = status;
  return facts;
}

function rerender() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

function statusPanel(status) {
  const retry = h('button', { type: 'button', class: 'button button-secondary', id: 'team-retry' }, 'Try again now');
  retry.addEventListener('click', async () => {
    await api.teamReconnect().catch(() => {});
    announce('Trying the team server again.');
    window.setTimeout(rerender, 1500);
  });
  return h('div', { class: `card team-status team-${status.connection}`, role: 'status' },
    h('p', { class: 'team-connection' }, CONNECTION[status.connection] ?? status.connection),
    status.userId ? h('p', {}, 'Signed in as ', h('strong', {}, status.userId), ' on ', h('span', { class: 'path' }, status.homeserver)) : null,
    status.lastSync ? h('p', { class: 'muted' }, `Last in touch: ${formatWhen(status.lastSync)}`) : null,
    status.waiting ? h('p', {}, `${status.waiting} post${status.waiting === 1 ? '' : 's'} waiting to go to the team.`) : null,
    status.deviceConfirmed === true ? h('p', {}, 'This device is confirmed by its owner: Element users in your team send their messages to it.') : null,
    status.deviceConfirmed === false ? h('p', { class: 'note note-warning' },
      h('strong', {}, 'This device is not confirmed. '),
      'Element users in your team will not send messages to this laptop until you confirm it, and neither will their Campaign Safe devices; Element does not show what this laptop sends. Confirm it below.') : null,
    status.problem ? h('p', { class: 'problem' }, status.problem) : null,
    status.connection === 'offline' ? retry : null);
}

// Teammates whose identity changed: warned about until the user accepts it (issue 24).
function identityPanel(status) {
  const changes = status.identityChanges ?? [];
  if (!changes.length) return null;
  const seen = new Set();
  const people = changes.filter((change) => !seen.has(change.userId) && seen.add(change.userId));
  return h('section', { class: 'card note note-warning identity-changes', role: 'alert', 'aria-labelledby': 'identity-title' },
    h('h2', { class: 'card-title', id: 'identity-title' },
      people.length === 1 ? `${isolated(people[0].name)}’s identity has changed` : `${people.length} teammates’ identities have changed`),
    people.map((change) => {
      const accept = h('button', { type: 'button', class: 'button button-secondary', 'data-user': change.userId },
        `I have checked with ${isolated(change.name)}`);
      const slot = errorSlot('general', `identity-${change.userId.replace(/[^a-zA-Z0-9]/g, '')}-`);
      accept.addEventListener('click', async () => {
        try {
          await api.teamAcknowledgeIdentity(change.userId);
          announce(`${isolated(change.name)}’s new identity is accepted.`);
          rerender();
        } catch (error) {
          slot.textContent = error.message;
          slot.hidden = false;
        }
      });
      return h('div', { class: 'identity-change' },
        h('p', {}, h('strong', {}, change.name), ' ', h('span', { class: 'path' }, change.userId),
          change.wasVerified ? ' (you had verified them)' : ''),
        h('p', {}, `${isolated(change.name)} has reset their encryption keys, or someone else now holds their account. Until you know which, do not trust what comes from ${isolated(change.name)}: call them on a number you already have and ask.`),
        accept, slot);
    }));
}

// Team messages this device cannot read: never dropped quietly (issue 24).
function unreadablePanel(status) {
  const posts = status.unreadablePosts ?? [];
  if (!posts.length) return null;
  const teamName = (roomId) => status.teams.find((team) => team.roomId === roomId)?.name ?? 'a team';
  return h('section', { class: 'card note note-warning unreadable-posts', 'aria-labelledby': 'unreadable-title' },
    h('h2', { class: 'card-title', id: 'unreadable-title' },
      posts.length === 1 ? 'A team message could not be read' : `${posts.length} team messages could not be read`),
    h('ul', {}, posts.map((post) => h('li', {},
      `A message from ${post.senderName} at ${formatWhen(post.sentAt)} in ${teamName(post.roomId)} could not be read on this device.`,
      post.sessions.length ? [' It may be about ', post.sessions.map((session, i) => [i ? ', ' : '',
        h('a', { href: `#/checkins/${session.id}` }, session.title)]), ', which is out: it could be a call for help, so call them.'] : null))),
    h('p', {}, status.deviceConfirmed === false
      ? 'Confirm this device below: until then, your team’s devices do not send it the keys to their messages.'
      : 'This device keeps asking for the key and looks in your key backup. Ask the sender to open Element or Campaign Safe, so that their device shares its keys.'));
}

function signInForm() {
  const token = field('registrationToken', 'Registration token', h('input', { type: 'text', autocomplete: 'off', maxlength: '200' }),
    'From whoever runs the server. Only for a new account.');
  token.hidden = true;
  const register = h('input', { type: 'checkbox', id: 'f-register' });
  const form = h('form', { class: 'card team-form', novalidate: true, 'aria-labelledby': 'sign-in-title' },
    h('h2', { class: 'card-title', id: 'sign-in-title' }, 'Sign in to your team’s server'),
    field('homeserver', 'Team server', h('input', { type: 'url', inputmode: 'url', autocomplete: 'url', maxlength: '300', placeholder: 'matrix.example.org' }),
      'Your party’s or campaign’s Matrix server.'),
    field('user', 'User name', h('input', { type: 'text', autocomplete: 'username', maxlength: '200' })),
    field('password', 'Password', h('input', { type: 'password', autocomplete: 'current-password', maxlength: '500' })),
    h('div', { class: 'check' }, register, h('label', { for: 'f-register' }, 'I am new: create my account with a registration token')),
    token,
    field('deviceName', 'This device’s name', h('input', { type: 'text', autocomplete: 'off', maxlength: '64' }),
      'What your team and the server see for this device. Leave it empty to use this computer’s name.'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button' }, 'Sign in'));
  register.addEventListener('change', () => { token.hidden = !register.checked; });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const el = (name) => form.elements[name];
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      const answer = await api.teamSignIn({
        homeserver: el('homeserver').value,
        user: el('user').value,
        password: el('password').value,
        registrationToken: register.checked ? el('registrationToken').value : null,
        deviceName: el('deviceName').value,
      });
      // An account made here: its recovery key, shown once; the server keeps it encrypted.
      recoveryKeyToShow = answer.recoveryKey ?? null;
      announce(answer.recoveryKey ? 'Signed in. Write down your recovery key.' : 'Signed in.');
      rerender();
    } catch (error) {
      showError(form, error);
      (error.field && el(error.field))?.focus();
      button.disabled = false;
      button.textContent = 'Sign in';
    }
  });
  return form;
}

// The recovery key of an account made here: the one time it is shown (issue 24).
function recoveryKeyCard(key) {
  const done = h('button', { type: 'button', class: 'button', id: 'recovery-key-done' }, 'I have written it down');
  const keep = h('input', { type: 'checkbox', id: 'f-keepRecoveryKey' });
  const problem = errorSlot('general', 'recovery-key-');
  done.addEventListener('click', async () => {
    if (keep.checked) {
      try {
        await api.teamKeepRecoveryKey(key);
        announce('The recovery key is kept in this device’s record.');
      } catch (error) {
        problem.textContent = error.message;
        problem.hidden = false;
        return;
      }
    }
    rerender();
  });
  return h('section', { class: 'card recovery-key', 'aria-labelledby': 'recovery-key-title' },
    h('h2', { class: 'card-title', id: 'recovery-key-title', tabindex: '-1' }, 'Write down your recovery key'),
    h('p', {}, 'Your account is made and this device is signed in and confirmed. With this key, a new laptop or phone of yours can confirm itself and read your team’s earlier messages.'),
    h('p', { class: 'recovery-key-text', translate: 'no' }, key),
    h('p', { class: 'note note-warning' },
      h('strong', {}, 'It is shown only this once. '),
      'Write it on paper and keep it safe, away from this laptop. Anyone who has it and your password can read your team’s messages.'),
    h('div', { class: 'check' }, keep, h('label', { for: 'f-keepRecoveryKey' },
      'Also keep it in this device’s encrypted record, so that this laptop, restored from a backup, can confirm itself')),
    problem,
    done);
}

// Element sends nothing to a device its owner has not confirmed: confirm it here.
function confirmDeviceForm(status) {
  const form = nameForm({
    id: 'confirm-device', title: 'Confirm this device', submit: 'Confirm with recovery key',
    fields: [
      h('p', {}, 'Type the recovery key of your account: the one Element (or this app) showed you when recovery was set up. It is 48 letters and numbers, in groups of four.'),
      field('recoveryKey', 'Recovery key', h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', maxlength: '500', class: 'recovery-key-input' }),
        'Lost it? In Element, on a device you have already confirmed, reset recovery (its encryption settings): it shows a new key to type here.', 'confirm-'),
    ],
    action: async (el) => {
      await api.teamConfirmDevice(el.recoveryKey.value);
      announce('This device is confirmed.');
    },
  });
  if (status.recoveryKeyKept) {
    const useKept = h('button', { type: 'button', class: 'button button-secondary', id: 'use-kept-key' },
      'Use the recovery key kept in this record');
    useKept.addEventListener('click', async () => {
      clearErrors(form);
      try {
        await api.teamConfirmWithKeptKey();
        announce('This device is confirmed.');
        rerender();
      } catch (error) {
        showError(form, error);
      }
    });
    form.append(h('p', {}, 'Or, since you chose to keep it here:'), useKept);
  }
  form.append(compareOwnSessions());
  return form;
}

function signedIn(status) {
  const signOut = h('button', { type: 'button', class: 'button button-secondary', id: 'team-sign-out' }, 'Sign out');
  signOut.addEventListener('click', async () => {
    // eslint-disable-next-line no-alert
    if (!window.confirm('Sign out? This device leaves the team server, stops following your teams and forgets its keys.')) return;
    try {
      await api.teamSignOut();
      rerender();
    } catch (error) {
      announce(error.message);
    }
  });
  return [
    status.deviceConfirmed === false ? confirmDeviceForm(status) : null,
    status.invitations.length ? h('section', { 'aria-labelledby': 'invitations-title' },
      h('h2', { id: 'invitations-title' }, 'Invitations'),
      status.invitations.map(invitationCard)) : null,
    h('h2', {}, 'Your teams'),
    status.teams.length ? h('ul', { class: 'cards team-list' }, status.teams.map((team) => teamCard(team, status.deviceConfirmed)))
      : h('p', { class: 'empty' }, 'No team yet: create one, or join one from an invite link.'),
    createForm(),
    joinForm(),
    locationsPanel(),
    h('p', {}, signOut),
  ];
}

function nameForm({ id, title, fields, submit, action }) {
  const form = h('form', { class: 'card team-form', novalidate: true, 'aria-labelledby': `${id}-title` },
    h('h2', { class: 'card-title', id: `${id}-title` }, title),
    fields, errorSlot('general', `${id}-`),
    h('button', { type: 'submit', class: 'button' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await action(form.elements);
      rerender();
    } catch (error) {
      showError(form, error);
      (error.field && form.elements[error.field])?.focus();
    }
  });
  return form;
}

function createForm() {
  return nameForm({
    id: 'create-team', title: 'Create a team', submit: 'Create team',
    fields: field('name', 'Team name', h('input', { type: 'text', maxlength: '100' }),
      'Only this device sees it. The room itself has a neutral name, because room names are not encrypted.', 'create-'),
    action: (el) => api.teamCreate(el.name.value),
  });
}

function joinForm() {
  return nameForm({
    id: 'join-team', title: 'Join a team', submit: 'Join team',
    fields: [
      field('invite', 'Invite link', h('input', { type: 'text', maxlength: '500' }), 'The matrix.to invite link, or the room id (!…).', 'join-'),
      field('name', 'Team name', h('input', { type: 'text', maxlength: '100' }), 'What this device calls it.', 'join-'),
    ],
    action: (el) => api.teamJoin(el.invite.value, el.name.value),
  });
}

function invitationCard(invitation) {
  const id = invitation.roomId.replace(/[^a-zA-Z0-9]/g, '');
  return nameForm({
    id: `invitation-${id}`, title: `Invited by ${invitation.inviter || 'a team member'}`, submit: 'Join',
    fields: field('name', 'Team name', h('input', { type: 'text', maxlength: '100' }), 'What this device calls it.', `invitation-${id}-`),
    action: (el) => api.teamJoin(invitation.roomId, el.name.value),
  });
}

/** The invite link as a QR code, drawn from the rows the backend sends. */
function qrCode(rows, label) {
  const size = rows.length;
  const cells = [];
  rows.forEach((row, y) => [...row].forEach((bit, x) => {
    if (bit === '1') cells.push(s('rect', { x: x + 4, y: y + 4, width: 1, height: 1 }));
  }));
  return s('svg', { class: 'qr', viewBox: `0 0 ${size + 8} ${size + 8}`, role: 'img', 'aria-label': label },
    s('rect', { x: 0, y: 0, width: size + 8, height: size + 8, fill: '#fff' }),
    s('g', { fill: '#000' }, cells));
}

function teamCard(team, deviceConfirmed) {
  const id = team.roomId.replace(/[^a-zA-Z0-9]/g, '');
  const members = h('div', { class: 'members', id: `members-${id}` });
  const showMembers = h('button', { type: 'button', class: 'button button-secondary', 'aria-controls': `members-${id}` }, 'Members and devices');
  showMembers.addEventListener('click', async () => {
    fill(members, h('p', {}, 'Loading…'));
    try {
      const list = await api.teamMembers(team.roomId);
      fill(members, memberList(list, deviceConfirmed));
    } catch (error) {
      fill(members, h('p', { class: 'problem' }, error.message));
    }
  });
  const invite = nameForm({
    id: `invite-${id}`, title: 'Invite someone', submit: 'Invite',
    fields: field('userId', 'Matrix id', h('input', { type: 'text', maxlength: '300', placeholder: '@sam:example.org' }),
      'They accept in Campaign Safe (Team) or in Element.', `invite-${id}-`),
    action: async (el) => {
      await api.teamInvite(team.roomId, el.userId.value);
      announce(`Invited ${el.userId.value}.`);
    },
  });
  const leave = h('button', { type: 'button', class: 'button button-secondary' }, 'Leave this team');
  leave.addEventListener('click', async () => {
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Leave “${team.name}”? Its shared sessions stop being tracked on this device.`)) return;
    try {
      await api.teamLeave(team.roomId);
      rerender();
    } catch (error) {
      announce(error.message);
    }
  });
  return h('li', { class: 'card team-card', 'data-room-id': team.roomId },
    h('h3', { class: 'card-title' }, team.name),
    h('div', { class: 'team-invite' },
      qrCode(team.qr, `QR code of the invite link for ${team.name}`),
      h('div', {},
        h('p', {}, 'Invite link (for phones, scan the code in Element):'),
        h('p', { class: 'path invite-link' }, team.link))),
    h('div', { class: 'actions' }, showMembers, leave),
    members,
    invite,
    duressForm(team, rerender));
}
