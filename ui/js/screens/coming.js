// A screen whose feature is not built yet: says so plainly and points to what helps now.

import { h } from '../dom.js';

export function comingScreen(title, what, meanwhile) {
  return {
    title,
    node: h('section', { class: 'coming' },
      h('h1', { tabindex: '-1' }, title),
      h('p', { class: 'lead' }, what),
      h('div', { class: 'card' },
        h('h2', { class: 'card-title' }, 'Until then'),
        meanwhile)),
  };
}
