import { h } from '../dom.js';
import { comingScreen } from './coming.js';

export async function render() {
  return comingScreen(
    'Incidents',
    'The incident log, for keeping a detailed record to share with police, party and council, is not in this version yet.',
    [
      h('p', {}, 'Write down what happened as soon as you can: the date, time and place, the exact words used, what the people looked like, any vehicle, and who saw it. Keep messages, letters and screenshots.'),
      h('a', { class: 'button button-secondary', href: '#/advice/reporting' }, 'Reporting checklist'),
    ]);
}
