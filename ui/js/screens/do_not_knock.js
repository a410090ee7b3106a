// The do-not-knock list: addresses canvassers must not visit. Entries due for review come
// first and stay until someone keeps or removes them. The party's list comes in as CSV,
// checked row by row before anything is added.

import * as api from '../api.js';
import { h, field, errorSlot, announce, fill } from '../dom.js';
import { pathField, onSubmit } from '../components.js';
import { dateInput, readDate } from '../datetime.js';
import { formatDate } from '../when.js';

const text = (max, attrs = {}) => h('input', { type: 'text', maxlength: String(max), ...attrs });

function entryCard(entry, refresh) {
  const keepDate = dateInput('');
  const actions = h('form', { class: 'entry-actions', novalidate: true, 'aria-label': `Review ${entry.house} ${entry.street}` },
    entry.dueForReview ? field('reviewOn', 'Keep until', keepDate, 'Day/month/year.', `keep-${entry.id}-`) : null,
    errorSlot('general'),
    h('div', { class: 'actions' },
      entry.dueForReview ? h('button', { type: 'submit', class: 'button', value: 'keep' }, 'Keep') : null,
      h('button', { type: 'submit', class: 'button button-secondary', value: 'remove' }, 'Remove…')));
  onSubmit(actions, async (form, button) => {
    if (button.value === 'keep') {
      const reviewOn = readDate(form, 'reviewOn', 'Keep until');
      if (!reviewOn) throw new api.ApiError({ code: 'validation', field: 'reviewOn', message: 'Keep until: type the date to look at it again, as day/month/year.' });
      refresh(await api.dnkKeep(entry.id, reviewOn), `Kept until ${formatDate(reviewOn)}.`);
    } else if (button.value === 'remove') {
      // A second, explicit press: the address is gone for good.
      fill(form.querySelector('.actions'),
        h('p', { class: 'notice' }, `Remove ${entry.house} ${entry.street} from the list for good?`),
        h('button', { type: 'submit', class: 'button button-danger', value: 'confirm' }, 'Yes, remove it'),
        h('button', { type: 'button', class: 'button button-secondary', onclick: () => refresh(null) }, 'Cancel'));
      form.querySelector('button[value=confirm]').focus();
    } else {
      refresh(await api.dnkRemove(entry.id), 'Removed from the list.');
    }
  });
  return h('li', { class: `card dnk-entry${entry.dueForReview ? ' due' : ''}`, 'data-entry-id': entry.id },
    h('h3', { class: 'card-title' }, `${entry.house} ${entry.street}`, entry.postcode ? `, ${entry.postcode}` : ''),
    entry.dueForReview ? h('p', { class: 'notice' }, `Due for review since ${formatDate(entry.reviewOn)}: keep it or remove it.`) : null,
    h('p', {}, h('strong', {}, entry.reasonLabel), entry.note ? `: ${entry.note}` : ''),
    h('p', { class: 'muted' }, `From ${entry.sourceLabel.toLowerCase()}, added by ${entry.addedBy} on ${entry.addedAtLocal}. Review on ${formatDate(entry.reviewOn)}.`),
    entry.incidentId ? h('p', {}, h('a', { href: `#/incidents/${encodeURIComponent(entry.incidentId)}` }, 'See the incident')) : null,
    actions);
}

/** The entries as a list, for this screen and for a plan's or session's area. */
export function entryList(entries, refresh) {
  return h('ul', { class: 'cards dnk-list' }, entries.map((entry) => entryCard(entry, refresh)));
}

function addForm(register, prefill, refresh) {
  const reason = h('select', {}, h('option', { value: '' }, 'Choose…'), register.reasons.map((r) => h('option', { value: r.key }, r.label)));
  reason.value = prefill.reason ?? '';
  const form = h('form', { class: 'dnk-add', novalidate: true, 'aria-labelledby': 'dnk-add-title' },
    h('h2', { id: 'dnk-add-title' }, prefill.incidentId ? 'Add the address from the incident' : 'Add an address'),
    h('div', { class: 'field-pair' },
      field('house', 'House number or name', text(100, { value: prefill.house ?? '' })),
      field('street', 'Street', text(100, { value: prefill.street ?? '' }))),
    field('postcode', 'Postcode (optional)', text(10, { autocapitalize: 'characters', value: prefill.postcode ?? '' })),
    field('reason', 'Reason', reason),
    field('note', 'Note (optional)', h('textarea', { rows: '2', maxlength: '1000' }), 'What canvassers should know. Keep it factual.'),
    field('addedBy', 'Added by', text(100, { value: register.lastAddedBy, autocomplete: 'name' })),
    field('reviewOn', 'Review on', dateInput(''), `Day/month/year. Empty: ${formatDate(register.defaultReviewOn)}, after the May elections.`),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button' }, 'Add to the list'));
  form.elements.note.value = prefill.note ?? '';
  return onSubmit(form, async () => {
    const value = (name) => form.elements[name].value;
    const updated = await api.dnkAdd({
      house: value('house'), street: value('street'), postcode: value('postcode'), reason: value('reason'),
      note: value('note'), addedBy: value('addedBy'), reviewOn: readDate(form, 'reviewOn', 'Review on'),
      incidentId: prefill.incidentId ?? null,
    });
    for (const name of ['house', 'street', 'postcode', 'note', 'reviewOn']) form.elements[name].value = '';
    refresh(updated, 'Added to the do-not-knock list.');
    if (prefill.incidentId) location.hash = '#/do-not-knock';
  });
}

function previewNode(preview) {
  return [
    h('p', { id: 'dnk-preview-summary', class: preview.problems.length ? 'problem' : 'ok' },
      preview.problems.length
        ? `${preview.problems.length} row${preview.problems.length === 1 ? ' has a problem' : 's have problems'}. Nothing will be imported until the file is fixed.`
        : `Ready: ${preview.toAdd} address${preview.toAdd === 1 ? '' : 'es'} to add${preview.rows.length > preview.toAdd ? `, ${preview.rows.length - preview.toAdd} already on the list` : ''}.`),
    preview.problems.length ? h('ul', { class: 'dnk-problems' }, preview.problems.map((p) => h('li', { class: 'problem' }, p.message))) : null,
    preview.ignoredColumns.length ? h('p', { class: 'hint' }, `Columns not used: ${preview.ignoredColumns.join(', ')}.`) : null,
    preview.rows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'dnk-preview' },
      h('caption', {}, 'Rows read from the file'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Row'), h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Reason'), h('th', { scope: 'col' }, 'Review on'))),
      h('tbody', {}, preview.rows.slice(0, 200).map((row) => h('tr', {},
        h('td', {}, row.line), h('td', {}, row.address, row.alreadyListed ? ' (already on the list)' : ''),
        h('td', {}, row.reasonLabel), h('td', {}, formatDate(row.reviewOn))))))) : null,
  ];
}

function importForm(register, refresh) {
  const form = h('form', { class: 'dnk-import', novalidate: true, 'aria-labelledby': 'dnk-import-title' },
    h('h2', { id: 'dnk-import-title' }, 'Import the party’s list'),
    h('p', {}, 'A CSV file whose first line names the columns: house and street, and if it has them postcode, reason, note and review on. It is checked first; if any row has a problem, nothing is added.'),
    pathField('path', 'CSV file', 'Save the spreadsheet as “CSV UTF-8”.', 'Choose the file…', (start) => api.chooseFile('doNotKnockList', start)),
    field('addedBy', 'Added by', text(100, { value: register.lastAddedBy || 'Party office' }), null, 'import-'),
    errorSlot('general'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button button-secondary', value: 'preview' }, 'Check the file'),
      h('button', { type: 'submit', class: 'button', value: 'import' }, 'Import')),
    h('div', { class: 'dnk-import-result', 'aria-live': 'polite' }));
  const result = form.querySelector('.dnk-import-result');
  return onSubmit(form, async (_form, button) => {
    const path = form.elements.path.value;
    const addedBy = form.elements.addedBy.value;
    if (button.value === 'preview') {
      fill(result, previewNode(await api.dnkPreview(path, addedBy)));
      return;
    }
    try {
      const done = await api.dnkImport(path, addedBy);
      refresh(await api.dnkRegister(), `Imported ${done.added} address${done.added === 1 ? '' : 'es'}${done.alreadyListed ? `; ${done.alreadyListed} already on the list` : ''}.`);
    } catch (error) {
      // Show every row's problem, not only the first few in the message.
      if (error.code === 'validation' && error.field === 'path') fill(result, previewNode(await api.dnkPreview(path, addedBy).catch(() => ({ rows: [], problems: [], ignoredColumns: [] }))));
      throw error;
    }
  });
}

function exportForm(folder) {
  const form = h('form', { class: 'dnk-export', novalidate: true, 'aria-labelledby': 'dnk-export-title' },
    h('h2', { id: 'dnk-export-title' }, 'Export the list'),
    pathField('folder', 'Folder', 'The file is named do-not-knock- and today’s date. Spreadsheets open it as it is.', 'Choose folder…', (start) => api.chooseFolder('doNotKnockFolder', start)),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-secondary' }, 'Export as CSV'),
    h('div', { class: 'dnk-export-result', 'aria-live': 'polite' }));
  form.elements.folder.value = folder ?? '';
  return onSubmit(form, async () => {
    const path = await api.dnkExport(form.elements.folder.value);
    fill(form.querySelector('.dnk-export-result'), h('p', { class: 'ok', role: 'status' }, 'Exported: ', h('span', { class: 'path' }, path)));
  });
}

/** What to fill in from an incident at a door: its place, postcode and a reason. */
async function prefillFrom(incidentId) {
  const detail = await api.incidentsDetail(incidentId);
  const record = detail.current ?? {};
  const [first, ...rest] = (record.location ?? '').split(',').map((part) => part.trim());
  // "Outside 14 Elm Road" → 14, Elm Road.
  const number = first?.match(/(?:^|\s)(\d+[A-Za-z]?)\s+(.+)$/);
  return {
    incidentId,
    house: number ? number[1] : '',
    street: number ? number[2] : (first ?? ''),
    postcode: record.postcode ?? '',
    reason: ['threat-in-person', 'intimidation-at-event'].includes(record.category) ? 'threat-or-violence' : 'abusive',
    note: `See the incident of ${formatDate((record.occurredFrom ?? '').slice(0, 10))}.${rest.length ? ` ${rest.join(', ')}` : ''}`,
  };
}

export async function render(params = []) {
  const prefill = params[0] === 'from' && params[1] ? await prefillFrom(params[1]) : {};
  const [register, folder] = await Promise.all([api.dnkRegister(), api.incidentsExportFolder().catch(() => '')]);
  const listBox = h('div', { class: 'dnk-entries' });
  const dueBox = h('div', { class: 'dnk-due' });
  const refresh = (updated, message) => {
    const shown = updated ?? register;
    Object.assign(register, shown);
    fill(dueBox, shown.dueForReview ? h('p', { class: 'notice', role: 'status', id: 'dnk-due' },
      `${shown.dueForReview} entr${shown.dueForReview === 1 ? 'y is' : 'ies are'} due for review: keep or remove ${shown.dueForReview === 1 ? 'it' : 'them'}.`) : null);
    fill(listBox, shown.entries.length
      ? [h('h2', { id: 'dnk-list-title' }, `On the list (${shown.entries.length})`), entryList(shown.entries, refresh)]
      : h('p', { class: 'muted', id: 'dnk-empty' }, 'No addresses yet. Add one below, or import the party’s list.'));
    if (message) announce(message);
  };
  refresh(register);
  const node = h('section', { class: 'do-not-knock' },
    h('p', { class: 'back' }, h('a', { href: '#/checkins' }, '← Check-ins')),
    h('h1', { tabindex: '-1' }, 'Do-not-knock list'),
    h('p', { class: 'lead' }, 'Doors canvassers must not knock on, and why. Follow the party’s list, and add to it when something happens at a door. Entries are flagged for review on their date; only a person removes one. With a team set up, what is added or removed here reaches every member’s device.'),
    dueBox,
    addForm(register, prefill, refresh),
    listBox,
    importForm(register, refresh),
    exportForm(folder));
  return { title: 'Do-not-knock list', node };
}
