// Pieces shared by several screens.

import { h, field, errorSlot, showError, clearErrors, announce } from './dom.js';

/**
 * A checklist whose items can be ticked. `items` are { id, text, detail?, tickedAtLocal? }.
 * `save(itemId, done)` stores the change and resolves to the updated { items, done, total }.
 * Returns { node, progressNode }.
 */
export function checklist({ idPrefix, items, done, total, save }) {
  const progressBox = h('div', { class: 'section-progress' }, progress(done, total, `${idPrefix}-progress`));
  const list = h('ul', { class: 'checklist' }, items.map((item) => checklistItem(idPrefix, item)));

  list.addEventListener('change', async (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== 'checkbox') return;
    const row = box.closest('li');
    clearErrors(list);
    box.disabled = true;
    try {
      const updated = await save(box.dataset.itemId, box.checked);
      const item = updated.items.find((candidate) => candidate.id === box.dataset.itemId);
      box.checked = Boolean(item?.tickedAtLocal);
      row.querySelector('.ticked-at').textContent = item?.tickedAtLocal ? `Done ${item.tickedAtLocal}` : '';
      progressBox.replaceChildren(progress(updated.done, updated.total, `${idPrefix}-progress`));
      announce(`${box.checked ? 'Ticked' : 'Unticked'}. ${updated.done} of ${updated.total} done.`);
    } catch (error) {
      box.checked = !box.checked;
      showError(row, error);
    } finally {
      box.disabled = false;
      box.focus();
    }
  });
  return { progressNode: progressBox, node: list };
}

function checklistItem(idPrefix, item) {
  const id = `${idPrefix}-${item.id}`;
  return h('li', { class: 'check-item' },
    h('input', { type: 'checkbox', id, 'data-item-id': item.id, checked: Boolean(item.tickedAtLocal),
      'aria-describedby': `${id}-detail ${id}-when error-${id}-itemId` }),
    h('label', { for: id }, h('span', { class: 'item-text' }, item.text)),
    h('p', { class: 'item-detail', id: `${id}-detail` }, item.detail ?? ''),
    h('p', { class: 'ticked-at', id: `${id}-when` }, item.tickedAtLocal ? `Done ${item.tickedAtLocal}` : ''),
    errorSlot('itemId', `${id}-`));
}

export function progress(done, total, id) {
  return h('span', { class: 'progress' },
    h('progress', { max: total, value: done, 'aria-labelledby': id }),
    h('span', { class: 'progress-label', id }, `${done} of ${total} done`));
}

/** Where content comes from, and when it was last checked against those pages. */
export function sourcesBlock(sources, reviewedIsoDate, headingLevel = 2) {
  const reviewed = new Date(`${reviewedIsoDate}T12:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London',
  });
  return h('footer', { class: 'sources' },
    h(`h${headingLevel}`, {}, 'Where this comes from'),
    h('ul', {}, sources.map((source) => h('li', {},
      h('span', { class: 'source-title' }, source.title), ' ',
      h('span', { class: 'source-url' }, source.url),
      source.no_uk_page && h('span', { class: 'source-note' }, source.no_uk_page)))),
    h('p', { class: 'reviewed' }, `Checked against these pages on ${reviewed}.`));
}

/**
 * A field for a path, typed or picked: "Choose…" opens the device's own picker and fills
 * the field in. Typing stays possible where no picker can open.
 */
export function pathField(name, label, hint, buttonText, pick) {
  const input = h('input', { type: 'text', maxlength: '4000', autocomplete: 'off', spellcheck: 'false' });
  const wrapper = field(name, label, input, hint);
  const button = h('button', { type: 'button', class: 'button button-secondary path-picker' }, buttonText);
  button.addEventListener('click', async () => {
    const form = button.closest('form');
    clearErrors(form);
    try {
      const chosen = await pick(input.value.trim());
      if (chosen) {
        input.value = chosen;
        announce(`Chosen: ${chosen}`);
      }
    } catch (error) {
      error.field = error.field ?? name;
      showError(form, error);
    }
    button.focus();
  });
  input.after(button);
  return wrapper;
}

/**
 * Runs `work(form)` when the form is submitted, with its submit button disabled meanwhile.
 * A refusal is shown next to the field it names (opening a folded section holding it), and
 * focus goes to that field; everything typed stays.
 */
export function onSubmit(form, work) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = event.submitter ?? form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await work(form, button);
    } catch (error) {
      showError(form, error);
      const control = (error.field && form.elements[error.field]) || form.querySelector('.field-error:not([hidden])')?.closest('.field')?.querySelector('input, select, textarea');
      control?.closest?.('details')?.setAttribute('open', '');
      (control instanceof RadioNodeList ? control[0] : control)?.focus();
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** "4 min ago", "2 h 5 min ago", "just now": how old a location is at `now`. */
export function ageText(iso, now = Date.now()) {
  const minutes = Math.floor(Math.max(0, now - Date.parse(iso)) / 60000);
  if (Number.isNaN(minutes)) return '';
  if (minutes < 1) return 'just now';
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min ago` : `${minutes} min ago`;
}

/** The links that open a location outside the app: the device's map app, or OpenStreetMap. */
export function mapLinks(location) {
  return [
    h('a', { href: location.geoUri, class: 'map-link' }, 'Open in a map app'), ' · ',
    h('a', { href: location.mapUrl, class: 'map-link' }, 'OpenStreetMap'),
  ];
}

/**
 * Where someone on a session last was, never without its age (kept current by the
 * countdowns' timer through `data-since`), or that nobody's phone has shared one.
 */
export function lastLocationLine(location, { headingLevel = 2 } = {}) {
  const heading = h(`h${headingLevel}`, {}, 'Last known location');
  if (!location) {
    return h('section', { class: 'last-location' }, heading,
      h('p', { class: 'muted' }, 'No location shared yet. People out on it can share their live location from Element in the team room.'));
  }
  const time = location.atLocal.split(', ').pop();
  return h('section', { class: 'last-location' }, heading,
    h('p', {},
      h('strong', { class: 'coordinates' }, location.coordinates), ' ',
      location.accuracyM != null ? `(within ${location.accuracyM} m)` : '(accuracy not given)'),
    h('p', {}, `${location.live ? 'Live location' : 'A pin'} from ${location.senderName} at ${time}, `,
      h('span', { class: 'location-age', 'data-since': location.at }, ageText(location.at)), '.'),
    h('p', {}, mapLinks(location)));
}

/** "@sam:example.org" as people say it: "sam". */
export function shortName(userId) {
  return userId.replace(/^@/, '').split(':')[0];
}
