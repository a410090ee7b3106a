// Emergency: always one tap or Alt+E away. Static on purpose, so it works even when saved
// data cannot be opened.

import { h } from '../dom.js';

export async function render() {
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

    h('section', { class: 'card', 'aria-labelledby': 'not-emergency' },
      h('h2', { id: 'not-emergency', class: 'card-title' }, 'Not an emergency?'),
      h('p', {},
        'Call ', h('a', { href: 'tel:101' }, '101'),
        ' for the police when it is not urgent: to report threats or harassment after the event, or to ask for advice. It is free. Textphone: 18001 101.')),

    h('section', { class: 'card', 'aria-labelledby': 'good-to-know' },
      h('h2', { id: 'good-to-know', class: 'card-title' }, 'Good to know'),
      h('ul', {},
        h('li', {}, 'The operator will ask which service you need, then what is happening, where you are, and your number.'),
        h('li', {}, 'In the UK a mobile needs a SIM card to call 999. If your own network has no signal, the call can go through another network.'),
        h('li', {}, 'If you call 999 by mistake, don’t hang up: tell the operator you are safe.'))));
  return { title: 'Emergency', node };
}
