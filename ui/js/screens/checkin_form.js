// The form that starts a check-in session, with presets for the usual cases.

import * as api from '../api.js';
import { h, field, errorSlot, showError, clearErrors } from '../dom.js';
import { dateTimeField, setDateTime, readDateTime } from '../datetime.js';
import { chatMembersPicker } from './chat_members.js';

const PRESETS = {
  pair: { label: 'Canvass in a pair, check in every 30 min', kind: 'canvass', interval: '30', hours: 3, title: 'Canvass' },
  journey: { label: 'Journey: tell someone your arrival time', kind: 'journey', interval: '', hours: 1, title: 'Journey' },
  surgery: { label: 'Surgery or meeting, check in every 45 min', kind: 'meeting', interval: '45', hours: 2, title: 'Surgery' },
};

function select(options) {
  return h('select', {}, options.map(([value, label]) => h('option', { value }, label)));
}


export function newSessionForm() {
  const members = chatMembersPicker();
  let ownUserId = null;
  const intervals = [['', 'No periodic check-ins (arrival time only)'], ...[5, 10, 15, 20, 30, 45, 60, 90, 120, 240].map((m) => [String(m), `Every ${m} minutes`])];
  const form = h('form', { class: 'session-form', novalidate: true },
    h('p', { class: 'back' }, h('a', { href: '#/checkins' }, '← Check-ins')),
    h('h1', { tabindex: '-1' }, 'New check-in session'),
    h('fieldset', { class: 'presets' }, h('legend', {}, 'Start from'),
      Object.entries(PRESETS).map(([key, preset]) => h('button', { type: 'button', class: 'button button-secondary', 'data-preset': key }, preset.label))),
    field('kind', 'What is it?', select([['canvass', 'Canvass'], ['journey', 'Journey'], ['meeting', 'Meeting or surgery']])),
    field('mode', 'Who is this for?', select([['me', 'Me: remind me to check in'], ['watching', 'Watching: I am tracking a team from here']])),
    field('title', 'Name', h('input', { type: 'text', maxlength: '500' }), 'For example “Ward 3, Elm Road”.'),
    field('participants', 'People', h('input', { type: 'text', maxlength: '500' }), 'Names, separated by commas. Canvass in pairs.'),
    field('place', 'Where', h('input', { type: 'text', maxlength: '500' }), 'Area, route, destination or meeting place.'),
    dateTimeField('endsAt', 'Ends (or expected arrival)', null),
    field('intervalMinutes', 'Check in', select(intervals)),
    field('reminderLeadMinutes', 'Remind me', select([['5', '5 minutes before'], ['0', 'When it is due'], ['10', '10 minutes before']]),
      'Never more than half the time between check-ins: checking in every 5 minutes, the reminder comes 2½ minutes before.'),
    field('graceMinutes', 'Raise the alarm', select([['10', '10 minutes after a missed check-in'], ['5', '5 minutes after'], ['15', '15 minutes after'], ['30', '30 minutes after']])),
    field('notes', 'Notes for responders', h('textarea', { rows: '2', maxlength: '500' }), 'What you are wearing, vehicle, low battery, places with poor signal.'),
    h('fieldset', { class: 'escalation' }, h('legend', {}, 'Who to call if a check-in is missed'),
      field('escalation[0].name', 'Name', h('input', { type: 'text', maxlength: '500' })),
      field('escalation[0].phone', 'Phone', h('input', { type: 'tel', inputmode: 'tel', maxlength: '40' })),
      field('escalation[0].relationship', 'Relationship', h('input', { type: 'text', maxlength: '500' }))),
    field('shareWith', 'Share with', select([['', 'Nobody (this device only)']]),
      'Share with a team and every member’s device raises the alarm if a check-in is missed.'),
    members.node,
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-big' }, 'Start session'));

  // Teams come from the team server's account on this device, if there is one.
  api.teamStatus().then((status) => {
    for (const team of status.teams) el('shareWith').append(h('option', { value: team.roomId }, `Team: ${team.name}`));
    ownUserId = status.userId;
  }).catch(() => {});

  const el = (name) => form.elements[name];
  el('shareWith').addEventListener('change', () => members.load(el('shareWith').value, ownUserId));
  const applyPreset = (preset) => {
    el('kind').value = preset.kind;
    el('intervalMinutes').value = preset.interval;
    setDateTime(form, 'endsAt', new Date(Date.now() + preset.hours * 3600_000).toISOString());
    if (!el('title').value) el('title').value = preset.title;
  };
  applyPreset(PRESETS.pair);
  form.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-preset]');
    if (button) applyPreset(PRESETS[button.dataset.preset]);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const contact = { name: el('escalation[0].name').value, phone: el('escalation[0].phone').value, relationship: el('escalation[0].relationship').value };
    const session = {
      kind: el('kind').value,
      mode: el('mode').value,
      title: el('title').value,
      participants: el('participants').value.split(',').map((name) => name.trim()).filter(Boolean),
      place: el('place').value,
      notes: el('notes').value,
      escalation: contact.name || contact.phone ? [contact] : [],
      endsAt: null,
      intervalMinutes: el('intervalMinutes').value ? Number(el('intervalMinutes').value) : null,
      reminderLeadMinutes: Number(el('reminderLeadMinutes').value),
      graceMinutes: Number(el('graceMinutes').value),
    };
    try {
      session.endsAt = readDateTime(form, 'endsAt', 'Ends (or expected arrival)');
      const started = await api.checkinsStart(session);
      if (el('shareWith').value) {
        try {
          await api.checkinsShare(started.id, el('shareWith').value, members.chosen());
        } catch {
          // Started, but not shared: the session page offers to share it again.
        }
      }
      location.hash = `#/checkins/${started.id}`;
    } catch (error) {
      // What was typed stays in the form; the message goes next to its field.
      const field = error.field?.startsWith('participants[') ? 'participants' : error.field;
      showError(form, { ...error, message: error.message, field });
      (form.querySelector(`[name="${CSS.escape(field ?? '')}"]`) ?? form.querySelector(`#f-${CSS.escape(field ?? '')}`))?.focus();
    }
  });
  return form;
}
