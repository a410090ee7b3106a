// Incidents: #/incidents lists them newest first with search and filters;
// #/incidents/new is the quick form, #/incidents/new/full the full one;
// #/incidents/<id> shows one with its history, #/incidents/<id>/edit edits it;
// #/incidents/person/<id> is one known person's incidents; #/incidents/export makes a pack
// (#/incidents/export/person/<id> or /incident/<id> starts it with that selection).

import * as api from '../api.js';
import { h, field, errorSlot, showError, clearErrors, announce } from '../dom.js';
import { formatWhen, dayStart, dayEnd } from '../when.js';
import { dateInput, readDate } from '../datetime.js';
import { quickForm, fullForm } from './incident_form.js';
import { renderDetail } from './incident_detail.js';
import { exportScreen } from './incident_export.js';

export async function render([first, second, third]) {
  if (first === 'new') return second === 'full' ? fullForm() : quickForm();
  if (first === 'export') return exportScreen(second, third);
  if (first === 'person' && second) return personScreen(second);
  if (first && second === 'edit') return fullForm(await api.incidentsDetail(first));
  if (first) return renderDetail(first);
  return listScreen();
}

const FLAG_SHORT = { 'imminent-violence': 'Imminent violence', fixated: 'Fixated', 'private-information': 'Private info released', 'weapon-seen': 'Weapon', repeat: 'Repeat' };

export function incidentCard(item) {
  return h('li', { class: `card incident incident-${item.status}`, 'data-incident-id': item.id },
    h('h2', { class: 'card-title' }, h('a', { href: `#/incidents/${encodeURIComponent(item.id)}` }, item.categoryLabel)),
    h('p', { class: 'incident-when' }, formatWhen(item.occurredFrom), item.location ? ` · ${item.location}` : ''),
    h('p', { class: 'incident-summary' }, item.summary),
    h('p', { class: 'badges' },
      item.status === 'withdrawn' ? h('span', { class: 'badge badge-muted' }, 'Withdrawn') : null,
      item.flags.map((flag) => h('span', { class: 'badge badge-warning' }, FLAG_SHORT[flag] ?? flag)),
      h('span', { class: 'badge' }, item.reported ? 'Reported' : 'Not reported yet'),
      item.versions > 1 ? h('span', { class: 'badge badge-muted' }, `${item.versions} versions`) : null));
}

function resultsList(page, query, onMore) {
  const list = h('ul', { class: 'cards incident-list' }, page.items.map(incidentCard));
  const more = page.more ? h('button', { type: 'button', class: 'button button-secondary' }, 'Show older') : null;
  more?.addEventListener('click', async () => {
    more.disabled = true;
    const next = await api.incidentsList({ ...query, offset: (query.offset ?? 0) + page.items.length });
    list.append(...next.items.map(incidentCard));
    page.items.push(...next.items);
    if (!next.more) more.remove(); else more.disabled = false;
    onMore?.(next);
  });
  return h('div', { class: 'results' }, list, more);
}

async function listScreen() {
  const [vocab, people] = await Promise.all([api.incidentsVocabulary(), api.incidentsPeople()]);
  const results = h('div', { class: 'incident-results', 'aria-live': 'polite' });
  const search = h('input', { type: 'search', id: 'f-text', name: 'text', maxlength: '200', 'aria-describedby': 'error-text' });
  const filters = h('form', { class: 'incident-filters', role: 'search', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'f-text' }, 'Search words, names, places, references'), search, errorSlot('text')),
    h('details', { class: 'filters' }, h('summary', {}, 'Filters'),
      h('div', { class: 'field' }, h('label', { for: 'f-category' }, 'Type'),
        h('select', { id: 'f-category', name: 'category' }, h('option', { value: '' }, 'Any type'), vocab.categories.map((c) => h('option', { value: c.key }, c.label))), errorSlot('category')),
      h('div', { class: 'field-pair' },
        field('from', 'From', dateInput(null), 'Day/month/year.'),
        field('to', 'To', dateInput(null), 'Day/month/year.')),
      h('div', { class: 'field' }, h('label', { for: 'f-person' }, 'Person'),
        h('select', { id: 'f-person', name: 'personId' }, h('option', { value: '' }, 'Anyone'), people.map((p) => h('option', { value: p.id }, `${p.label} (${p.incidents})`)))),
      h('fieldset', { class: 'checks' }, h('legend', {}, 'Warning signs'),
        vocab.flags.map((f) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'flags', value: f.key }), ' ', f.label))),
      h('div', { class: 'field' }, h('label', { for: 'f-reported' }, 'Reported'),
        h('select', { id: 'f-reported', name: 'reported' }, h('option', { value: '' }, 'Either'), h('option', { value: 'yes' }, 'Reported'), h('option', { value: 'no' }, 'Not reported yet'))),
      h('div', { class: 'field' }, h('label', { for: 'f-status' }, 'Show'),
        h('select', { id: 'f-status', name: 'status' }, h('option', { value: 'all' }, 'Current and withdrawn'), h('option', { value: 'active' }, 'Current only'), h('option', { value: 'withdrawn' }, 'Withdrawn only')))),
    h('button', { type: 'submit', class: 'button' }, 'Find'));

  const readQuery = () => {
    const el = filters.elements;
    const reported = el.reported.value;
    return {
      text: el.text.value,
      category: el.category.value || null,
      from: dayStart(readDate(filters, 'from', 'From')),
      to: dayEnd(readDate(filters, 'to', 'To')),
      personId: el.personId.value || null,
      flags: [...filters.querySelectorAll('input[name="flags"]:checked')].map((box) => box.value),
      reported: reported === '' ? null : reported === 'yes',
      status: el.status.value,
      offset: 0,
    };
  };
  // Results are drawn as each key is pressed (a query takes a few milliseconds even at
  // 100,000 incidents); an answer that comes back after a newer one is dropped, and the
  // count is read out only once typing pauses.
  let latest = 0;
  let speaking;
  const run = async () => {
    clearErrors(filters);
    const mine = ++latest;
    try {
      const query = readQuery();
      const page = await api.incidentsList(query);
      if (mine !== latest) return;
      const searching = query.text.trim() || query.category || query.from || query.to || query.personId || query.flags.length || query.reported !== null;
      results.replaceChildren(page.items.length
        ? resultsList(page, query)
        : h('p', { class: 'empty' }, searching ? 'Nothing matches. Try fewer words or clear a filter.' : 'No incidents recorded yet. When something happens, record it straight away.'));
      clearTimeout(speaking);
      if (searching) {
        const said = page.items.length ? `${page.items.length}${page.more ? '+' : ''} found.` : 'Nothing found.';
        speaking = setTimeout(() => announce(said), 700);
      }
    } catch (error) {
      showError(filters, error);
    }
  };
  filters.addEventListener('submit', (event) => { event.preventDefault(); run(); });
  search.addEventListener('input', run);

  // Files no incident names (an attachment refused or cut off half way) are not part of the
  // record; they are named so nobody mistakes them for evidence, or for evidence lost.
  const unreferencedNote = (names) => names.length === 0 ? '' : h('p', { class: 'note' },
    `${names.length} file(s) in the attachments folder belong to no incident (left by an attachment that was refused or cut off). They are not part of the record: `,
    h('span', { class: 'hash' }, names.join(', ')));
  const checkResult = h('div', { class: 'check-result', 'aria-live': 'polite' });
  const checkButton = h('button', { type: 'button', class: 'button button-secondary' }, 'Check the log has not been changed');
  checkButton.addEventListener('click', async () => {
    checkButton.disabled = true;
    try {
      const report = await api.incidentsVerify();
      const headProblems = report.headProblems ?? [];
      checkResult.replaceChildren(report.problems.length === 0 && headProblems.length === 0
        ? h('p', { class: 'ok', role: 'status' }, `All ${report.incidentsChecked} incidents (${report.versionsChecked} versions, ${report.attachmentsChecked} files) check out: nothing has been changed or removed since it was recorded.`)
        : h('div', { class: 'problem', role: 'alert' }, h('p', {}, `${report.problems.length + headProblems.length} problem(s) found:`),
          h('ul', {}, report.problems.map((p) => h('li', {}, h('a', { href: `#/incidents/${encodeURIComponent(p.incidentId)}` }, p.version ? `Version ${p.version}` : 'Incident'), ` ${p.problem}.`)),
            headProblems.map((text) => h('li', { class: 'head-problem' }, `${text[0].toUpperCase()}${text.slice(1)}.`)))),
        unreferencedNote(report.unreferencedFiles ?? []),
        report.witnesses ? h('p', { class: 'record-witnesses' }, report.witnesses) : '',
        report.head ? h('p', { class: 'record-head' },
          'Record head now: ', h('strong', { class: 'hash' }, report.head.short), ` (${report.head.versions} versions, ${formatWhen(report.head.at)}). `,
          'Write it down with the date, or give it to someone you trust: a history rewritten later, even by someone holding this record’s key, no longer gives this head for this moment.') : '');
    } catch (error) {
      checkResult.replaceChildren(h('p', { class: 'problem', role: 'alert' }, error.message));
    }
    checkButton.disabled = false;
  });

  const node = h('section', { class: 'incidents' },
    h('h1', { tabindex: '-1' }, 'Incidents'),
    h('p', { class: 'lead' }, 'Keep a record of every threat, abusive call, message or approach, for you and your family. Police, party and council can act on a detailed log.'),
    h('div', { class: 'actions' },
      h('a', { class: 'button button-big', href: '#/incidents/new' }, 'Record an incident'),
      h('a', { class: 'button button-secondary', href: '#/incidents/export' }, 'Evidence pack')),
    filters, results, h('h2', {}, 'Check the record'), checkButton, checkResult);
  await run();
  return { title: 'Incidents', node };
}

async function personScreen(personId) {
  const view = await api.incidentsPerson(personId);
  const node = h('section', { class: 'incidents person' },
    h('p', { class: 'back' }, h('a', { href: '#/incidents' }, '← Incidents')),
    h('h1', { tabindex: '-1' }, view.person.label),
    h('p', { class: 'lead' }, `Linked to ${view.person.incidents} incident(s). Two or more by the same person can show a course of conduct: tell the police about all of them together.`),
    h('a', { class: 'button', href: `#/incidents/export/person/${encodeURIComponent(personId)}` }, 'Evidence pack for this person'),
    view.incidents.items.length ? h('ul', { class: 'cards incident-list' }, view.incidents.items.map(incidentCard)) : h('p', { class: 'empty' }, 'No incidents link to this person now.'));
  return { title: view.person.label, node };
}
