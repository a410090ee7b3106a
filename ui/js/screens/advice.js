// Advice: the briefing's guidance as checklists. #/advice lists sections with progress;
// #/advice/<id> shows one section whose items can be ticked.

import * as api from '../api.js';
import { h } from '../dom.js';
import { checklist, progress, sourcesBlock } from '../components.js';

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

async function renderSection(sectionId) {
  const section = await api.adviceSection(sectionId);
  const list = checklist({
    idPrefix: 'item',
    items: section.items,
    done: section.done,
    total: section.total,
    save: (itemId, done) => api.adviceSetTick(section.id, itemId, done),
  });
  const node = h('section', { class: 'advice-section' },
    h('p', { class: 'back' }, h('a', { href: '#/advice' }, '← All advice')),
    h('h1', { tabindex: '-1' }, section.title),
    h('p', { class: 'lead' }, section.intro),
    list.progressNode,
    list.node,
    sourcesBlock(section.sources, section.reviewed));
  return { title: section.title, node };
}
