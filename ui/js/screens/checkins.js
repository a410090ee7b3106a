import { h } from '../dom.js';
import { comingScreen } from './coming.js';

export async function render() {
  return comingScreen(
    'Check-ins',
    'Scheduled check-ins for canvass sessions and journeys, with reminders and alerts when someone is overdue, are not in this version yet.',
    [
      h('p', {}, 'Agree check-in times with your team before you go out, and tell someone when you leave and when you expect to arrive.'),
      h('a', { class: 'button button-secondary', href: '#/advice/safer-canvassing' }, 'Safer canvassing checklist'),
    ]);
}
