// Evidence packs: choose which incidents and where the pack goes; import one back.

import * as api from '../api.js';
import { h, field, errorSlot, showError, clearErrors, announce, fill } from '../dom.js';
import { pathField } from '../components.js';
import { dayStart, dayEnd } from '../when.js';
import { dateInput, readDate } from '../datetime.js';

function importForm() {
  const form = h('form', { class: 'import-form', novalidate: true },
    h('h2', {}, 'Import a pack'),
    h('p', {}, 'Brings incidents from a pack made by Campaign Safe on another device into this log. Each one’s fingerprints are checked first; anything changed since it was exported is left out and named.'),
    pathField('file', 'The pack’s folder, or its incidents.json', null, 'Choose the pack…', (start) => api.chooseFile('packToImport', start)),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-secondary' }, 'Import'),
    h('div', { class: 'import-result', 'aria-live': 'polite' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const result = await api.incidentsImport(form.elements.file.value);
      fill(form.querySelector('.import-result'),
        h('p', { class: 'ok', role: 'status' }, `${result.imported} new, ${result.updated} updated, ${result.unchanged} already here.`),
        result.problems.length ? h('ul', { class: 'problem' }, result.problems.map((p) => h('li', {}, p))) : null);
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}

/** `kind`/`value` preselect one person's or one incident's pack. */
export async function exportScreen(kind, value) {
  const [vocab, people, folder] = await Promise.all([api.incidentsVocabulary(), api.incidentsPeople(), api.incidentsExportFolder()]);
  const scope = h('select', {},
    h('option', { value: 'all' }, 'All current incidents'),
    h('option', { value: 'dates' }, 'Incidents between two dates'),
    h('option', { value: 'person' }, 'Incidents linked to one person'),
    h('option', { value: 'category' }, 'One type of incident'),
    kind === 'incident' ? h('option', { value: 'incident' }, 'Just this incident') : null);
  const personSelect = h('select', {}, people.map((p) => h('option', { value: p.id }, `${p.label} (${p.incidents})`)));
  const form = h('form', { class: 'export-form', novalidate: true },
    h('p', { class: 'back' }, h('a', { href: '#/incidents' }, '← Incidents')),
    h('h1', { tabindex: '-1' }, 'Evidence pack'),
    h('p', { class: 'lead' }, 'One folder to give the police, your force election contact, party or council: a printable report with every version and fingerprint, a spreadsheet (CSV), a file Campaign Safe can import, and copies of the attachments.'),
    field('scope', 'Which incidents', scope),
    h('div', { class: 'scope-dates field-pair' },
      field('from', 'From', dateInput(null), 'Day/month/year.'),
      field('to', 'To', dateInput(null), 'Day/month/year.')),
    h('div', { class: 'scope-person' }, people.length ? field('personId', 'Person', personSelect) : h('p', { class: 'muted' }, 'No known people yet: link a person in an incident’s full form.')),
    h('div', { class: 'scope-category' }, field('category', 'Type', h('select', {}, vocab.categories.map((c) => h('option', { value: c.key }, c.label))))),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'includeWithdrawn' }), ' Include withdrawn incidents'),
    pathField('folder', 'Save to folder', 'A new folder is made inside it; nothing there is overwritten. A USB stick works too.', 'Choose folder…', (start) => api.chooseFolder('packFolder', start)),
    errorSlot('selection'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-big' }, 'Make the pack'),
    h('div', { class: 'export-result', 'aria-live': 'polite' }));
  form.elements.folder.value = folder;
  if (kind === 'person') { scope.value = 'person'; personSelect.value = value; }
  if (kind === 'incident') scope.value = 'incident';

  const showScope = () => {
    for (const part of ['dates', 'person', 'category']) form.querySelector(`.scope-${part}`).hidden = scope.value !== part;
  };
  scope.addEventListener('change', showScope);
  showScope();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const el = form.elements;
    const selection = { includeWithdrawn: el.includeWithdrawn.checked };
    try {
      if (scope.value === 'dates') Object.assign(selection, { from: dayStart(readDate(form, 'from', 'From')), to: dayEnd(readDate(form, 'to', 'To')) });
      if (scope.value === 'person') selection.personId = el.personId?.value ?? null;
      if (scope.value === 'category') selection.category = el.category.value;
      if (scope.value === 'incident') selection.ids = [value];
      const summary = await api.incidentsExport(selection, el.folder.value);
      fill(form.querySelector('.export-result'),
        h('p', { class: 'ok', role: 'status' }, `Pack made with ${summary.incidents} incident(s) and ${summary.attachments} file(s), in:`),
        h('p', { class: 'path' }, summary.folder),
        h('ul', {}, summary.files.map((file) => h('li', {}, file))),
        h('p', {}, 'Open report.html in a browser to read or print it.'));
      announce('Evidence pack made.');
    } catch (error) {
      showError(form, error);
    }
  });
  return { title: 'Evidence pack', node: h('section', { class: 'incident-export' }, form, importForm()) };
}
