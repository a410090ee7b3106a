// The periodic review of emergency arrangements: what was looked at, which devices'
// SOS set-up was practised, and every earlier review with its date.

import * as api from '../api.js';
import { h, field, errorSlot, announce, fill } from '../dom.js';
import { onSubmit } from '../components.js';
import { formatDate } from '../when.js';

function history(status) {
  if (!status.history.length) return h('p', { class: 'muted' }, 'No reviews yet.');
  return h('ol', { class: 'review-history' }, status.history.map((r) => h('li', {},
    h('strong', {}, r.atLocal), `: ${r.parts.join(', ')}`,
    r.practised.length ? `. Practised: ${r.practised.join(', ')}` : '', r.notes ? `. ${r.notes}` : '')));
}

export async function render() {
  const status = await api.reviewStatus();
  const historyBox = h('div', {}, history(status));
  const dueLine = h('p', { id: 'review-due', class: status.due ? 'notice' : 'muted' });
  const showDue = (s) => {
    dueLine.className = s.due ? 'notice' : 'muted';
    dueLine.textContent = s.due ? 'A review is due.' : `Next review: ${formatDate(s.nextDueOn)}.`;
  };
  showDue(status);
  const form = h('form', { class: 'review-form', novalidate: true, 'aria-labelledby': 'review-now' },
    h('h2', { id: 'review-now' }, 'Review now'),
    h('fieldset', { class: 'checks', 'data-field': 'checked' }, h('legend', {}, 'What you reviewed'),
      status.parts.map((part) => h('div', { class: 'check-item' },
        h('input', { type: 'checkbox', name: 'checked', value: part.key, id: `review-${part.key}`, 'aria-describedby': `review-${part.key}-hint` }),
        h('label', { for: `review-${part.key}` }, part.label),
        h('p', { class: 'item-detail', id: `review-${part.key}-hint` }, part.hint))),
      errorSlot('checked')),
    status.devices.length ? h('fieldset', { class: 'checks', 'data-field': 'practised' }, h('legend', {}, 'Practised the SOS call on'),
      status.devices.map((model, i) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'practised', value: model, id: `practised-${i}` }), ' ', model)),
      errorSlot('practised'))
      : h('p', { class: 'hint' }, 'No saved devices yet: add yours under ', h('a', { href: '#/sos' }, 'SOS guides'), ' to practise its SOS call.'),
    field('notes', 'Notes (optional)', h('textarea', { rows: '2', maxlength: '2000' })),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button' }, 'Save this review'));
  onSubmit(form, async () => {
    const ticked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
    const saved = await api.reviewRecord({ checked: ticked('checked'), practised: ticked('practised'), notes: form.elements.notes.value });
    form.reset();
    showDue(saved);
    fill(historyBox, history(saved));
    announce('Review saved.');
  });
  const weeks = h('select', {}, [1, 2, 3, 4, 6, 8, 12].map((w) => h('option', { value: String(w) }, `Every ${w} week${w === 1 ? '' : 's'}`)));
  weeks.value = String(status.weeks);
  const weeksForm = h('form', { class: 'review-weeks', novalidate: true },
    field('weeks', 'Review every', weeks), errorSlot('general'));
  weeks.addEventListener('change', async () => {
    try {
      showDue(await api.reviewSetWeeks(Number(weeks.value)));
      announce('Saved.');
    } catch (error) {
      (await import('../dom.js')).showError(weeksForm, error);
    }
  });
  const node = h('section', { class: 'review' },
    h('p', { class: 'back' }, h('a', { href: '#/today' }, '← Today')),
    h('h1', { tabindex: '-1' }, 'Review emergency arrangements'),
    h('p', { class: 'lead' }, 'Every few weeks, look again at who is called, in what order, and whether everyone can raise an emergency call on their own phone.'),
    dueLine, form, weeksForm,
    h('h2', {}, 'Earlier reviews'), historyBox);
  return { title: 'Review emergency arrangements', node };
}
