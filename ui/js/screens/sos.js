// SOS guides: find the guide for your own phone or watch (#/sos), read it and tick its
// set-up list (#/sos/<guide id>).

import * as api from '../api.js';
import { h, errorSlot, showError, clearErrors, announce } from '../dom.js';
import { checklist, sourcesBlock } from '../components.js';
import { deviceDiagram } from '../diagram.js';

export async function render([guideId]) {
  return guideId ? renderGuide(guideId) : renderFinder();
}

async function renderFinder() {
  const guides = await api.sosGuides();
  const devicesBox = h('div', { class: 'my-devices' });
  const result = h('div', { class: 'resolve-result', 'aria-live': 'polite' });

  const input = h('input', { id: 'model', name: 'model', type: 'text', autocomplete: 'off', spellcheck: 'false',
    maxlength: '200', placeholder: 'e.g. iPhone 13, Galaxy S23, Pixel 7', 'aria-describedby': 'model-hint error-model' });
  const form = h('form', { class: 'finder', novalidate: true },
    h('label', { for: 'model' }, 'Your phone or watch model'),
    h('p', { class: 'hint', id: 'model-hint' }, 'You’ll find it in Settings › About phone (or General › About on an iPhone).'),
    h('div', { class: 'inline-field' }, input, h('button', { type: 'submit', class: 'button' }, 'Find guide')),
    errorSlot('model'));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const found = await api.sosResolve(input.value);
      if (found.matchKind === 'ambiguous') {
        result.replaceChildren(whichOne(found, (choice) => {
          input.value = choice;
          form.requestSubmit();
        }));
        // With no choices to pick, the question asks for the name: back to the field.
        (result.querySelector('button') ?? input).focus();
        return;
      }
      result.replaceChildren(resultCard(found, input.value, devicesBox));
      result.querySelector('a')?.focus();
    } catch (error) {
      result.replaceChildren();
      showError(form, error);
      input.focus();
    }
  });

  await refreshDevices(devicesBox);
  const node = h('section', { class: 'sos' },
    h('h1', { tabindex: '-1' }, 'SOS guides'),
    h('p', { class: 'lead' }, 'How to call for help with your own phone or watch, and how to set it up before you need it.'),
    form,
    result,
    devicesBox,
    h('h2', {}, 'All guides'),
    h('ul', { class: 'cards' }, guides.map((guide) => h('li', {},
      h('a', { class: 'card card-link', href: `#/sos/${encodeURIComponent(guide.id)}` },
        h('span', { class: 'card-title' }, guide.name),
        h('span', { class: 'card-text' }, guide.appliesTo))))));
  return { title: 'SOS guides', node };
}

/** A name that fits several models that need different guides: which one is it? */
function whichOne(found, choose) {
  return h('div', { class: 'card result-card' },
    h('h2', { class: 'card-title' }, 'Which one is it?'),
    h('p', { class: 'note' }, found.note),
    found.choices.length === 0 ? null : h('div', { class: 'actions' }, found.choices.map((choice) => {
      const button = h('button', { type: 'button', class: 'button button-secondary' }, choice);
      button.addEventListener('click', () => choose(choice));
      return button;
    })));
}

function resultCard(found, typed, devicesBox) {
  const heading = found.model ? `${found.model}: ${found.guideName}` : `“${typed.trim()}”: ${found.guideName}`;
  const save = h('button', { type: 'button', class: 'button button-secondary' }, 'Save to my devices');
  const card = h('div', { class: 'card result-card' },
    h('h2', { class: 'card-title' }, heading),
    found.note ? h('p', { class: found.matchKind === 'unknown' ? 'note note-warning' : 'note' }, found.note) : null,
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: `#/sos/${encodeURIComponent(found.guideId)}` }, 'Open guide'),
      save),
    errorSlot('general'));
  save.addEventListener('click', async () => {
    clearErrors(card);
    try {
      await api.sosAddDevice(found.model ?? typed);
      await refreshDevices(devicesBox);
      announce('Saved to your devices.');
      save.replaceWith(h('p', { class: 'saved' }, 'Saved to your devices.'));
    } catch (error) {
      showError(card, error);
    }
  });
  return card;
}

async function refreshDevices(box) {
  let devices;
  try {
    devices = await api.sosDevices();
  } catch (error) {
    box.replaceChildren(h('p', { class: 'problem' }, error.message));
    return;
  }
  if (devices.length === 0) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    h('h2', {}, 'My devices'),
    h('ul', { class: 'device-list' }, devices.map((device) => {
      const remove = h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove ${device.model}` }, 'Remove');
      remove.addEventListener('click', async () => {
        try {
          await api.sosRemoveDevice(device.id);
          await refreshDevices(box);
          announce(`${device.model} removed.`);
        } catch (error) {
          announce(error.message);
        }
      });
      return h('li', {},
        h('a', { href: `#/sos/${encodeURIComponent(device.guideId)}` }, device.model),
        h('span', { class: 'muted' }, ` – ${device.guideName} `), remove);
    })));
}

function stepList(steps, ordered = false) {
  return h(ordered ? 'ol' : 'ul', { class: 'steps' }, steps.map((step) => h('li', {}, step)));
}

function part(title, ...content) {
  return h('section', { class: 'guide-part' }, h('h2', {}, title), ...content);
}

async function renderGuide(guideId) {
  const guide = await api.sosGuide(guideId);
  const ticked = new Map(guide.ticks.map((tick) => [tick.itemId, tick.tickedAtLocal]));
  const list = checklist({
    idPrefix: 'setup',
    items: guide.checklist.map((item) => ({ ...item, tickedAtLocal: ticked.get(item.id) })),
    done: guide.done,
    total: guide.total,
    save: async (itemId, done) => {
      const updated = await api.sosSetTick(guide.id, itemId, done);
      const when = new Map(updated.ticks.map((tick) => [tick.itemId, tick.tickedAtLocal]));
      return { done: updated.done, total: updated.total, items: updated.checklist.map((item) => ({ ...item, tickedAtLocal: when.get(item.id) })) };
    },
  });

  const node = h('article', { class: 'guide' },
    h('p', { class: 'back' }, h('a', { href: '#/sos' }, '← All SOS guides')),
    h('h1', { tabindex: '-1' }, guide.name),
    h('p', { class: 'lead' }, guide.appliesTo),
    h('div', { class: 'guide-top' },
      guide.diagram ? deviceDiagram(guide.diagram, `Which buttons to use on ${guide.name}`) : null,
      part('How to call for help',
        guide.triggers.map((trigger) => h('div', { class: 'trigger' }, h('h3', {}, trigger.name), stepList(trigger.steps, true))))),
    part('What happens next', stepList(guide.whatHappens)),
    part('Set up beforehand', stepList(guide.setUp)),
    part('If it goes off by mistake', stepList(guide.cancel)),
    part('Practise safely', guide.practise.length
      ? stepList(guide.practise)
      : h('p', {}, 'This device has no safe practice mode. Learn where the settings are instead, and don’t rehearse the button presses: they really call for help.')),
    guide.caveats.length ? part('Good to know', stepList(guide.caveats)) : null,
    part('Set-up checklist', list.progressNode, list.node),
    sourcesBlock(guide.sources, guide.reviewed));
  return { title: guide.name, node };
}
