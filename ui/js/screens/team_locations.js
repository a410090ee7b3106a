// Team screen: where volunteers' phones' locations go, and how long they are kept.
// Live location starts with a `beacon_info` that is not encrypted: the note says so, since
// Element lets people type a description into it.

import * as api from '../api.js';
import { h, field, announce } from '../dom.js';
import { onSubmit } from '../components.js';

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
