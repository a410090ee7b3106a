// Emergency: always one tap or Alt+E away. The "Call 999" panel is built in, so it shows
// whatever else fails; the guidance comes from content/emergency.json, and the user's
// contacts and devices are added when they load.

import * as api from '../api.js';
import { h } from '../dom.js';
import { sourcesBlock } from '../components.js';

/** The user's cards go after this section, near the top. */
const USER_CARDS_AFTER = 'being-followed';

async function orNothing(load) {
  try {
    return await load();
  } catch {
    return [];
  }
}

export async function render() {
  const [info, devices, cards] = await Promise.all([
    api.emergencyInfo().catch((error) => ({ error })),
    orNothing(api.sosDevices),
    orNothing(api.contactsList),
  ]);

  const guidance = [];
  if (info.error) {
    guidance.push(h('section', { class: 'card' },
      h('p', { class: 'problem' }, info.error.message),
      h('p', {}, 'If you cannot speak: call 999, stay on the line, and on a mobile press 55 when a recorded message asks.')));
  } else {
    for (const section of info.sections) {
      guidance.push(guidanceCard(section));
      if (section.id === USER_CARDS_AFTER) guidance.push(contactsCard(cards), devicesCard(devices));
    }
  }

  const node = h('section', { class: 'emergency' },
    h('h1', { tabindex: '-1' }, 'Emergency'),
    h('div', { class: 'call-panel' },
      h('a', { class: 'call-button', href: 'tel:999' }, 'Call 999'),
      h('p', {},
        'Police, ambulance, fire or coastguard, when someone is in danger or a crime is happening now. ',
        h('strong', {}, '112'), ' reaches the same service. Both are free and need no credit.')),
    guidance,
    info.error ? [contactsCard(cards), devicesCard(devices)] : sourcesBlock(info.sources, info.reviewed));
  return { title: 'Emergency', node };
}

function guidanceCard(section) {
  const headingId = `emergency-${section.id}`;
  return h('section', { class: 'card', 'aria-labelledby': headingId },
    h('h2', { id: headingId, class: 'card-title' }, section.title),
    section.intro ? h('p', {}, section.intro) : null,
    h(section.ordered ? 'ol' : 'ul', { class: section.ordered ? 'steps' : null },
      section.items.map((item) => h('li', {}, item))),
    section.note ? h('p', {}, section.note) : null,
    section.call ? h('a', { class: 'button button-secondary', href: `tel:${section.call}` }, `Call ${section.call}`) : null);
}

function contactsCard(cards) {
  const filled = cards.filter((card) => card.name);
  return h('section', { class: 'card', 'aria-labelledby': 'your-contacts' },
    h('h2', { id: 'your-contacts', class: 'card-title' }, 'Your election safety contacts'),
    filled.length
      ? h('ul', { class: 'contact-list' }, filled.map((card) => h('li', {},
        h('span', { class: 'contact-role' }, card.roleName), ' ',
        h('span', { class: 'contact-name' }, card.name), ' ',
        h('a', { href: `tel:${card.phone}`, class: 'contact-phone' }, card.phoneShown || card.phone),
        card.notes ? h('span', { class: 'contact-notes' }, card.notes) : null)))
      : h('p', {}, 'None saved yet: your police force’s election contact, your local election co-ordinator and your party’s safety contact.'),
    h('a', { class: 'button button-secondary', href: '#/contacts' }, filled.length ? 'Change contacts' : 'Add contacts'));
}

function devicesCard(devices) {
  return h('section', { class: 'card', 'aria-labelledby': 'your-devices' },
    h('h2', { id: 'your-devices', class: 'card-title' }, 'SOS on your devices'),
    devices.length
      ? h('ul', {}, devices.map((device) => h('li', {},
        h('a', { href: `#/sos/${encodeURIComponent(device.guideId)}` }, `${device.model}: how to call for help`))))
      : h('p', {}, h('a', { href: '#/sos' }, 'Find your phone or watch'), ' to see how to raise an emergency call on it.'));
}
