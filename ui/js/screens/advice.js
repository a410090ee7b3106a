// Advice: the briefing's guidance as checklists. #/advice lists sections with progress;
// #/advice/<id> shows one section whose items can be ticked.

import * as api from '../api.js';
import { h, errorSlot, showError, clearErrors, announce } from '../dom.js';

export async function render([sectionId]) {
  return sectionId ? renderSection(sectionId) : renderList();
}

async function renderList() {
  const sections = await api.adviceList();
  const node = h('section', { class: 'advice-list' },
    h('h1', { tabindex: '-1' }, 'Advice'),
    h('p', { class: 'lead' },
      'The police briefing for candidates, as checklists. Tick what you have done: ',
      'your ticks are saved on this device.'),
    h('ul', { class: 'cards' },
      sections.map((section) => h('li', {},
        h('a', { class: 'card card-link', href: `#/advice/${encodeURIComponent(section.id)}` },
          h('span', { class: 'card-title' }, section.title),
          h('span', { class: 'card-text' }, section.intro),
          progress(section.done, section.total, `progress-${section.id}`))))));
  return { title: 'Advice', node };
}

function progress(done, total, id) {
  const label = `${done} of ${total} done`;
  return h('span', { class: 'progress' },
    h('progress', { max: total, value: done, 'aria-labelledby': id }),
    h('span', { class: 'progress-label', id }, label));
}

async function renderSection(sectionId) {
  const section = await api.adviceSection(sectionId);
  const progressBox = h('div', { class: 'section-progress' }, progress(section.done, section.total, 'section-progress'));

  const node = h('section', { class: 'advice-section' },
    h('p', { class: 'back' }, h('a', { href: '#/advice' }, '← All advice')),
    h('h1', { tabindex: '-1' }, section.title),
    h('p', { class: 'lead' }, section.intro),
    progressBox,
    errorSlot('general'),
    h('ul', { class: 'checklist' }, section.items.map((item) => checklistItem(section.id, item))),
    sourcesBlock(section));

  node.addEventListener('change', async (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== 'checkbox') return;
    const itemRow = box.closest('li');
    clearErrors(node);
    box.disabled = true;
    try {
      const updated = await api.adviceSetTick(section.id, box.dataset.itemId, box.checked);
      const item = updated.items.find((candidate) => candidate.id === box.dataset.itemId);
      box.checked = Boolean(item?.tickedAt);
      updateTickedAt(itemRow, item);
      progressBox.replaceChildren(progress(updated.done, updated.total, 'section-progress'));
      announce(`${box.checked ? 'Ticked' : 'Unticked'}. ${updated.done} of ${updated.total} done.`);
    } catch (error) {
      box.checked = !box.checked;
      showError(itemRow, error);
    } finally {
      box.disabled = false;
      box.focus();
    }
  });

  return { title: section.title, node };
}

function checklistItem(sectionId, item) {
  const id = `item-${item.id}`;
  return h('li', { class: 'check-item' },
    h('input', { type: 'checkbox', id, 'data-item-id': item.id, checked: Boolean(item.tickedAt),
      'aria-describedby': `${id}-detail ${id}-when` }),
    h('label', { for: id },
      h('span', { class: 'item-text' }, item.text)),
    h('p', { class: 'item-detail', id: `${id}-detail` }, item.detail ?? ''),
    h('p', { class: 'ticked-at', id: `${id}-when` }, item.tickedAtLocal ? `Done ${item.tickedAtLocal}` : ''),
    errorSlot('itemId'));
}

function updateTickedAt(row, item) {
  const when = row.querySelector('.ticked-at');
  when.textContent = item?.tickedAtLocal ? `Done ${item.tickedAtLocal}` : '';
}

function sourcesBlock(section) {
  const reviewed = new Date(`${section.reviewed}T12:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London',
  });
  return h('footer', { class: 'sources' },
    h('h2', {}, 'Where this comes from'),
    h('ul', {}, section.sources.map((source) => h('li', {},
      h('span', { class: 'source-title' }, source.title), ' ',
      h('span', { class: 'source-url' }, source.url)))),
    h('p', { class: 'reviewed' }, `Checked against these pages on ${reviewed}.`));
}
