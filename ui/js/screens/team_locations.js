// Team screen: the quiet ways to raise the alarm, and what comes from phones: the team's
// duress word, where volunteers' locations go and how long they are kept. Live location
// starts with a `beacon_info` that is not encrypted: the note says so, since Element lets
// people type a description into it.

import * as api from '../api.js';
import { h, field, announce } from '../dom.js';
import { onSubmit, shortName } from '../components.js';
import { formatWhen } from '../when.js';

/**
 * The team's duress word: shown here for the organiser to pass on in person, never posted.
 * Says who set it and when, so a change by anyone in the team is seen.
 */
export function duressForm(team, done) {
  const id = team.roomId.replace(/[^a-zA-Z0-9]/g, '');
  const duress = team.duress ?? {};
  const input = h('input', { type: 'text', maxlength: '30', autocomplete: 'off', spellcheck: 'false' });
  const form = h('form', { class: 'duress-word', novalidate: true, 'aria-labelledby': `duress-${id}-title` },
    h('h3', { id: `duress-${id}-title` }, 'Duress word'),
    duress.word
      ? h('p', {}, 'The word is ', h('strong', { class: 'duress-word-now' }, duress.word),
        duress.setBy ? ` (set by ${shortName(duress.setBy)}${duress.setAt ? `, ${formatWhen(duress.setAt)}` : ''}).` : '.')
      : h('p', {}, duress.setBy ? `No duress word: ${shortName(duress.setBy)} cleared it.` : 'No duress word yet.'),
    h('p', { class: 'muted' }, 'Someone out on a session who puts this word in a check-in from Element (for example “ok pineapple”) gets the usual answer in the room, while every Campaign Safe device of the team raises a silent alarm. Tell volunteers the word in person: it is never posted as a message.'),
    field('duressWord', 'Duress word', input, 'One word of letters that nobody would say anyway. Leave empty to have none.', `duress-${id}-`),
    h('button', { type: 'submit', class: 'button button-secondary' }, 'Save duress word'));
  onSubmit(form, async () => {
    await api.teamSetDuressWord(team.roomId, input.value);
    announce(input.value.trim() ? 'Duress word saved. Tell your volunteers in person.' : 'Duress word cleared.');
    done();
  });
  return form;
}

export function locationsPanel() {
  const input = h('input', { type: 'number', min: '1', max: '90', step: '1', inputmode: 'numeric', required: true });
  const form = h('form', { class: 'card team-form', id: 'location-days', novalidate: true, 'aria-labelledby': 'location-days-title' },
    h('h2', { class: 'card-title', id: 'location-days-title' }, 'Locations from phones'),
    h('p', {}, 'When someone out on a shared session shares their location from Element (a pin, or live location), this device keeps the latest with the session, in its encrypted record, and shows it with every missed check-in and call for help. The app fetches no maps: the links open your own map app or OpenStreetMap.'),
    h('p', {}, 'Live location tells the server, unencrypted, that someone is sharing. In Element, leave its description empty: never type a place or a name there.'),
    field('locationDays', 'Keep locations for', input, 'Days after the session ends, from 1 to 90. Then they are deleted from this device.'),
    h('button', { type: 'submit', class: 'button' }, 'Save'));
  api.locationDays().then((kept) => { input.value = kept.days; }).catch(() => {});
  onSubmit(form, async () => {
    const typed = input.value.trim();
    if (!/^\d{1,3}$/.test(typed)) {
      throw Object.assign(new Error('Keep locations for: a whole number of days from 1 to 90.'), { field: 'locationDays' });
    }
    const kept = await api.setLocationDays(Number(typed));
    input.value = kept.days;
    announce(`Locations are kept for ${kept.days} days after a session ends.`);
  });
  return form;
}
