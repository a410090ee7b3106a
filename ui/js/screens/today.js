// Today: the three messages, progress so far, and the display and time zone settings.

import * as api from '../api.js';
import { h, errorSlot, showError, announce } from '../dom.js';
import { setZone, zoneName, formatDate } from '../when.js';
import { DISPLAY_CHOICES, savedDisplay, saveDisplay } from '../display.js';
import { liveSessionList } from './checkins.js';
import { lockSetting } from '../lock.js';
import { keySetting } from '../unlock.js';

export async function render() {
  // Asked all at once: the first screen after every start waits for the slowest answer, not
  // the sum of seven. A failed one only leaves its own part out (or says why there).
  const [advice, zone, backup, status, followUpsAsked, reviewAsked, active] = await Promise.allSettled([
    api.adviceList(), api.timeZone(), api.backupStatus(), api.appStatus(),
    api.aftercareFollowUps(), api.reviewStatus(), api.checkinsActive(),
  ]);
  const answer = (settled) => (settled.status === 'fulfilled' ? settled.value : null);
  const whyNot = (settled) => settled.reason?.message ?? String(settled.reason);

  let adviceCard;
  if (advice.status === 'fulfilled') {
    const sections = advice.value;
    const done = sections.reduce((sum, section) => sum + section.done, 0);
    const total = sections.reduce((sum, section) => sum + section.total, 0);
    const next = sections.find((section) => section.done < section.total);
    adviceCard = h('li', { class: 'card' },
      h('h2', { class: 'card-title' }, 'Advice checklists'),
      h('p', { class: 'card-text' }, `${done} of ${total} done across ${sections.length} sections.`),
      next
        ? h('a', { class: 'button', href: `#/advice/${encodeURIComponent(next.id)}` }, `Continue: ${next.title}`)
        : h('a', { class: 'button', href: '#/advice' }, 'All done – review the advice'));
  } else {
    adviceCard = h('li', { class: 'card' },
      h('h2', { class: 'card-title' }, 'Advice checklists'),
      h('p', { class: 'problem' }, whyNot(advice)));
  }

  // Without the setting the screens stay in UK time; nothing to offer here.
  const timeZone = answer(zone);

  // No record open (locked, or it could not be opened): the banner at the top says why.
  let backupCard;
  if (backup.status === 'fulfilled') {
    const backedUp = backup.value;
    const due = backedUp.reminderDue;
    backupCard = h('li', { class: due ? 'card card-due' : 'card', id: 'backup-card' },
      h('h2', { class: 'card-title' }, due ? 'Time for a backup' : 'Backup'),
      h('p', { class: 'card-text' },
        !backedUp.lastBackupAt
          ? `No backup yet${backedUp.incidentsSince ? `, and ${backedUp.incidentsSince} incident${backedUp.incidentsSince === 1 ? '' : 's'} recorded` : ''}. One lost laptop should not lose the record.`
          : due
            ? `The last one is over a week old and ${backedUp.incidentsSince} incident${backedUp.incidentsSince === 1 ? ' was' : 's were'} recorded since.`
            : 'Your last backup is up to date.'),
      h('a', { class: due ? 'button' : 'button button-secondary', href: '#/backup' }, due ? 'Back up now' : 'Backup and restore'));
  }

  const keptIn = answer(status)?.keyKeptIn ?? null;
  // Both or neither, as before: with no record open the banner at the top says why.
  const bothAnswered = followUpsAsked.status === 'fulfilled' && reviewAsked.status === 'fulfilled';
  const followUps = bothAnswered ? followUpsAsked.value : null;
  const review = bothAnswered ? reviewAsked.value : null;

  const sessions = active.status === 'fulfilled'
    ? liveSessionList(active.value)
    : h('p', { class: 'problem' }, whyNot(active));

  const node = h('section', { class: 'today' },
    h('h1', { tabindex: '-1' }, 'Today'),
    // The briefing's three messages, as words: nothing here looks pressable that is not.
    h('p', { class: 'three-messages' }, 'Be alert. Plan ahead. Know what to do.'),
    // The main actions come first: with twenty sessions out, they are still the first two
    // Tab stops after the heading.
    h('div', { class: 'actions today-actions' },
      h('a', { class: 'button', href: '#/checkins/new' }, 'Start a check-in session'),
      h('a', { class: 'button button-secondary', href: '#/incidents/new' }, 'Record an incident')),
    h('h2', {}, 'Out now'),
    sessions,
    followUps?.length ? followUpList(followUps) : null,
    h('ul', { class: 'cards' },
      review?.due ? h('li', { class: 'card card-due', id: 'review-card' },
        h('h2', { class: 'card-title' }, 'Time to review emergency arrangements'),
        h('p', { class: 'card-text' }, review.history.length
          ? `The last review was ${review.history[0].atLocal}. Check contacts, escalation lists and each device’s SOS set-up.`
          : 'Check contacts, escalation lists and each device’s SOS set-up, and practise an SOS call.'),
        h('a', { class: 'button', href: '#/review' }, 'Review now')) : null,
      h('li', { class: 'card' },
        h('h2', { class: 'card-title' }, 'Something happened?'),
        h('p', { class: 'card-text' }, 'Write it down now, while the words are fresh. It takes under a minute; add detail later.'),
        h('a', { class: 'button', href: '#/incidents/new' }, 'Record an incident')),
      adviceCard,
      backupCard,
      h('li', { class: 'card' },
        h('h2', { class: 'card-title' }, 'Going out?'),
        h('p', { class: 'card-text' },
          'Canvass in pairs or groups, and tell someone when you leave and when you expect to be back.'),
        h('a', { class: 'button button-secondary', href: '#/advice/safer-canvassing' }, 'Safer canvassing checklist'))),
    displaySetting(),
    timeZoneSetting(timeZone),
    lockSetting(),
    keySetting(keptIn));
  return { title: 'Today', node };
}

/** Follow-ups from debriefs, until someone marks each done. */
function followUpList(followUps) {
  const list = h('ul', { class: 'cards follow-ups', 'aria-labelledby': 'follow-ups-title' });
  const draw = (items) => {
    list.replaceChildren(...items.map((item) => h('li', { class: item.overdue ? 'card card-due' : 'card', 'data-follow-up': item.id },
      h('p', { class: 'card-title' }, item.about),
      h('p', { class: 'card-text' }, `${item.whoChecks} · ${item.overdue ? 'overdue since' : 'by'} ${formatDate(item.dueOn)}`),
      h('button', { type: 'button', class: 'button button-secondary', 'data-done': item.id }, 'Done'),
      errorSlot('general'))));
    if (!items.length) list.replaceChildren(h('li', { class: 'muted' }, 'All follow-ups done.'));
  };
  draw(followUps);
  list.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-done]');
    if (!button) return;
    button.disabled = true;
    try {
      draw(await api.aftercareComplete(Number(button.dataset.done)));
      announce('Follow-up done.');
      (list.querySelector('button') ?? document.getElementById('follow-ups-title'))?.focus();
    } catch (error) {
      showError(button.closest('li'), error);
      button.disabled = false;
    }
  });
  return [h('h2', { id: 'follow-ups-title', tabindex: '-1' }, 'Follow-ups'), list];
}

/** UK time, or the device's zone for someone away from the UK; says when it is saved. */
function timeZoneSetting(current) {
  if (!current) return null;
  const device = current.deviceZone && current.deviceZone !== 'Europe/London'
    ? `This device: ${current.deviceZone.replaceAll('_', ' ')}`
    : 'This device’s zone (UK time here)';
  const select = h('select', { id: 'f-timeZone', name: 'timeZone', 'aria-describedby': 'hint-timeZone error-timeZone' },
    h('option', { value: 'uk', selected: current.choice === 'uk' }, 'UK time (GMT or BST)'),
    h('option', { value: 'device', selected: current.choice === 'device' }, device));
  const error = errorSlot('timeZone');
  error.setAttribute('role', 'alert');
  const saved = h('p', { class: 'saved', id: 'saved-timeZone', role: 'status' });
  select.addEventListener('change', async () => {
    saved.textContent = '';
    error.hidden = true;
    try {
      const chosen = await api.setTimeZone(select.value);
      setZone(chosen.zone);
      saved.textContent = `Saved. Times are now shown in ${zoneName()}.`;
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  });
  return h('div', { class: 'setting' },
    h('label', { for: 'f-timeZone' }, 'Times shown in'),
    h('p', { class: 'hint', id: 'hint-timeZone' },
      'For typing and reading times on this app. Evidence packs and team messages always use UK time.'),
    select, saved, error);
}

function displaySetting() {
  const select = h('select', { id: 'display-choice' },
    DISPLAY_CHOICES.map(([value, label]) => h('option', { value, selected: value === savedDisplay() }, label)));
  select.addEventListener('change', () => saveDisplay(select.value));
  return h('div', { class: 'setting' },
    h('label', { for: 'display-choice' }, 'Display'),
    select);
}
