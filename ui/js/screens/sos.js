import { h } from '../dom.js';
import { comingScreen } from './coming.js';

export async function render() {
  return comingScreen(
    'SOS guides',
    'Step-by-step guides to the emergency features of your own phone or watch are not in this version yet.',
    [
      h('p', {}, 'Learn how your phone raises an emergency call before you need it: look in its Settings for “Emergency SOS” or “Safety and emergency”, and add your emergency contacts.'),
      h('a', { class: 'button button-secondary', href: '#/emergency' }, 'Emergency numbers'),
    ]);
}
