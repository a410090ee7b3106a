// Emergency: always one tap or Alt+E away. The core is static, so it works even when saved
// data cannot be opened; the user's devices and contacts are added when they load.

import * as api from '../api.js';
import { h } from '../dom.js';

/** Loads saved data for this screen, or nothing if it cannot be read right now. */
async function orNothing(load) {
  try {
    return await load();
  } catch {
    return [];
  }
}

export async function render() {
  const [devices, cards] = await Promise.all([orNothing(api.sosDevices), orNothing(api.contactsList)]);
  const filled = cards.filter((card) => card.name);
  const node = h('section', { class: 'emergency' },
    h('h1', { tabindex: '-1' }, 'Emergency'),

    h('div', { class: 'call-panel' },
      h('a', { class: 'call-button', href: 'tel:999' }, 'Call 999'),
      h('p', {},
        'Police, ambulance, fire or coastguard, when someone is in danger or a crime is happening now. ',
        h('strong', {}, '112'), ' reaches the same service. Both are free and need no credit.')),

    h('section', { class: 'card', 'aria-labelledby': 'cant-speak' },
      h('h2', { id: 'cant-speak', class: 'card-title' }, 'If you cannot speak'),
      h('ol', { class: 'steps' },
        h('li', {}, 'Call 999 and stay on the line. If you can, cough, tap the phone or whisper when asked.'),
        h('li', {}, 'On a mobile: if the operator cannot tell what is happening, you will hear a recorded police message. Press ', h('strong', {}, '55'), ' and you will be put through to the police.'),
        h('li', {}, 'Answer their questions by tapping or with yes and no.')),
      h('p', {}, 'Pressing 55 does not tell the police where you are. On a landline there is no 55: stay on the line and the call may be put through to the police.')),

    h('section', { class: 'card', 'aria-labelledby': 'followed' },
      h('h2', { id: 'followed', class: 'card-title' }, 'If you think you are being followed'),
      h('ul', {},
        h('li', {}, 'Don’t go home.'),
        h('li', {}, 'Go somewhere busy and well lit, such as a shop or station.'),
        h('li', {}, 'Ask staff, security or a police officer for help.'),
        h('li', {}, 'If you feel in danger, call 999.'))),

    h('section', { class: 'card', 'aria-labelledby': 'your-contacts' },
      h('h2', { id: 'your-contacts', class: 'card-title' }, 'Your election safety contacts'),
      filled.length
        ? h('ul', { class: 'contact-list' }, filled.map((card) => h('li', {},
          h('span', { class: 'contact-role' }, card.roleName), ' ',
          h('span', { class: 'contact-name' }, card.name), ' ',
          h('a', { href: `tel:${card.phone}`, class: 'contact-phone' }, card.phone),
          card.notes ? h('span', { class: 'contact-notes' }, card.notes) : null)))
        : h('p', {}, 'None saved yet: your police force’s election contact, your local election co-ordinator and your party’s safety contact.'),
      h('a', { class: 'button button-secondary', href: '#/contacts' }, filled.length ? 'Change contacts' : 'Add contacts')),

    h('section', { class: 'card', 'aria-labelledby': 'your-devices' },
      h('h2', { id: 'your-devices', class: 'card-title' }, 'SOS on your devices'),
      devices.length
        ? h('ul', {}, devices.map((device) => h('li', {},
          h('a', { href: `#/sos/${encodeURIComponent(device.guideId)}` }, `${device.model}: how to call for help`))))
        : h('p', {}, h('a', { href: '#/sos' }, 'Find your phone or watch'), ' to see how to raise an emergency call on it.')),

    h('section', { class: 'card', 'aria-labelledby': 'not-emergency' },
      h('h2', { id: 'not-emergency', class: 'card-title' }, 'Not an emergency?'),
      h('p', {},
        'Call ', h('a', { href: 'tel:101' }, '101'),
        ' for the police when it is not urgent: to report threats or harassment after the event, or to ask for advice. It is free. Textphone: 18001 101.')),

    h('section', { class: 'card', 'aria-labelledby': 'emergency-sms' },
      h('h2', { id: 'emergency-sms', class: 'card-title' }, 'Texting 999 (emergencySMS)'),
      h('p', {}, 'If you are deaf, hard of hearing or have difficulty speaking, you can text 999, but only once your mobile is registered. Register now, not in an emergency:'),
      h('ol', { class: 'steps' },
        h('li', {}, 'Text “register” to 999.'),
        h('li', {}, 'Read the whole reply, then reply “yes”.'),
        h('li', {}, 'Wait for the text saying you are registered.')),
      h('p', {}, 'In an emergency, text 999 saying which service you need, what is happening and where. It does not work from abroad.')),

    h('section', { class: 'card', 'aria-labelledby': 'good-to-know' },
      h('h2', { id: 'good-to-know', class: 'card-title' }, 'Good to know'),
      h('ul', {},
        h('li', {}, 'The operator will ask which service you need, then what is happening, where you are, and your number.'),
        h('li', {}, 'In the UK a mobile needs a SIM card to call 999. If your own network has no signal, the call can go through another network.'),
        h('li', {}, 'If you call 999 by mistake, don’t hang up: tell the operator you are safe.'))));
  return { title: 'Emergency', node };
}
