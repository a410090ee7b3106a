// Contact cards (#/contacts): the people to call about election safety, shown on the
// Emergency screen. A failed save keeps what was typed and says what to fix, by the field.

import * as api from '../api.js';
import { h, errorSlot, showError, clearErrors, announce } from '../dom.js';

export async function render() {
  const cards = await api.contactsList();
  const node = h('section', { class: 'contacts' },
    h('p', { class: 'back' }, h('a', { href: '#/emergency' }, '← Emergency')),
    h('h1', { tabindex: '-1' }, 'Your contacts'),
    h('p', { class: 'lead' }, 'Ask your police force, council and party who these people are, and save their numbers before you need them.'),
    cards.map(contactForm));
  return { title: 'Your contacts', node };
}

function field(card, name, label, attrs = {}) {
  const id = `${card.role}-${name}`;
  const input = h(name === 'notes' ? 'textarea' : 'input', {
    id, name, ...attrs, 'aria-describedby': `${id}-error`,
  });
  // The number as written, with its spaces (it is kept without them).
  input.value = name === 'phone' ? (card.phoneShown || card.phone) : card[name];
  const slot = errorSlot(name);
  slot.id = `${id}-error`;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, slot);
}

function contactForm(card) {
  const form = h('form', { class: 'card contact-form', novalidate: true, 'aria-labelledby': `${card.role}-title` },
    h('h2', { class: 'card-title', id: `${card.role}-title` }, card.roleName),
    field(card, 'name', 'Name', { type: 'text', autocomplete: 'off', maxlength: '200' }),
    field(card, 'phone', 'Phone', { type: 'tel', inputmode: 'tel', autocomplete: 'off', maxlength: '40' }),
    field(card, 'notes', 'Notes (optional)', { rows: '2', maxlength: '1000' }),
    errorSlot('general'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button' }, 'Save'),
      h('button', { type: 'button', class: 'button button-secondary', 'data-action': 'clear' }, 'Clear')),
    h('p', { class: 'saved', role: 'status' }));

  const status = form.querySelector('.saved');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    status.textContent = '';
    try {
      const cards = await api.contactsSave(card.role, form.elements.name.value, form.elements.phone.value, form.elements.notes.value);
      const saved = cards.find((c) => c.role === card.role);
      form.elements.phone.value = saved.phoneShown || saved.phone;
      status.textContent = 'Saved.';
      announce(`${card.roleName} saved.`);
    } catch (error) {
      showError(form, error);
      const bad = error.field && form.elements[error.field];
      if (bad) bad.focus();
    }
  });
  form.querySelector('[data-action="clear"]').addEventListener('click', async () => {
    clearErrors(form);
    try {
      await api.contactsClear(card.role);
      for (const name of ['name', 'phone', 'notes']) form.elements[name].value = '';
      status.textContent = 'Cleared.';
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}
