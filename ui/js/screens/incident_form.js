// Recording an incident: the quick form (what happened and when, under 30 seconds on a
// phone) and the full form, which also edits. A failed save leaves everything typed in
// place and shows the message next to the field it is about.

import * as api from '../api.js';
import { h, field, errorSlot, showError, clearErrors, announce } from '../dom.js';
import { dateTimeField, readDateTime, dateInput, readDate } from '../datetime.js';

const text = (max, attrs = {}) => h('input', { type: 'text', maxlength: String(max), ...attrs });
const area = (max, rows = 3) => h('textarea', { rows: String(rows), maxlength: String(max) });
const select = (choices, empty) =>
  h('select', {}, empty ? h('option', { value: '' }, empty) : null, choices.map((c) => h('option', { value: c.key }, c.label)));

function checkboxes(name, legend, choices, chosen = []) {
  return h('fieldset', { class: 'checks' }, h('legend', {}, legend),
    choices.map((c) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name, value: c.key, checked: chosen.includes(c.key) }), ' ', c.label)),
    errorSlot(name));
}

const checked = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);

/** A group of repeatable rows ("Add another person"), each a fieldset of fields. */
function repeatable(name, groupLegend, legend, addLabel, rowFields, rows) {
  const list = h('div', { class: 'rows', 'data-rows': name });
  const addRow = (values = {}) => {
    const index = list.children.length;
    const row = h('fieldset', { class: 'row', 'data-index': index }, h('legend', {}, `${legend} ${index + 1}`), rowFields(index, values));
    list.append(row);
    return row;
  };
  (rows.length ? rows : []).forEach(addRow);
  const add = h('button', { type: 'button', class: 'button button-secondary' }, addLabel);
  add.addEventListener('click', () => addRow().querySelector('input, select, textarea')?.focus());
  return h('fieldset', { class: 'group' }, h('legend', {}, groupLegend), list, add, errorSlot(name));
}

function setValue(control, value) {
  if (value != null) control.value = value;
  return control;
}

function personFields(vocab, people) {
  return (i, p) => {
    const link = h('select', {},
      h('option', { value: '' }, 'Not linked'),
      people.map((k) => h('option', { value: k.id }, `Same person as: ${k.label}`)),
      h('option', { value: 'new' }, 'Remember this person, to link later incidents'));
    return [
      field(`people[${i}].name`, 'Name, if known', setValue(text(vocab.limits.short), p.name)),
      field(`people[${i}].description`, 'Description', setValue(area(vocab.limits.text, 2), p.description), 'Age, build, height, hair, accent, anything distinctive.'),
      field(`people[${i}].clothing`, 'Clothing', setValue(text(vocab.limits.text), p.clothing)),
      field(`people[${i}].vehicleMake`, 'Vehicle make', setValue(text(vocab.limits.short), p.vehicleMake)),
      field(`people[${i}].vehicleColour`, 'Vehicle colour', setValue(text(vocab.limits.short), p.vehicleColour)),
      field(`people[${i}].vehicleRegistration`, 'Registration', setValue(text(vocab.limits.short, { autocapitalize: 'characters' }), p.vehicleRegistration)),
      field(`people[${i}].personId`, 'Link across incidents', setValue(link, p.personId ?? '')),
    ];
  };
}

function witnessFields(vocab) {
  return (i, w) => [
    field(`witnesses[${i}].name`, 'Name', setValue(text(vocab.limits.short), w.name)),
    field(`witnesses[${i}].contact`, 'Contact details', setValue(text(vocab.limits.text), w.contact)),
  ];
}

function reportFields(vocab) {
  return (i, r) => [
    field(`reports[${i}].to`, 'Reported to', setValue(select(vocab.reportedTo), r.to)),
    field(`reports[${i}].on`, 'Date', dateInput(r.on), 'Day/month/year.'),
    field(`reports[${i}].reference`, 'Reference number', setValue(text(vocab.limits.short), r.reference), 'Crime or incident number, or the platform’s report ID.'),
    field(`reports[${i}].officer`, 'Officer or contact', setValue(text(vocab.limits.short), r.officer)),
    field(`reports[${i}].followUp`, 'Follow-up', setValue(select(vocab.followUp), r.followUp)),
    field(`reports[${i}].notes`, 'Notes', setValue(text(vocab.limits.text), r.notes)),
  ];
}

/** Where online abuse was posted: open at once for online abuse, folded away otherwise. */
function onlineFields(vocab, online = {}) {
  return h('details', { class: 'group online', open: Boolean(online.platform || online.postAddress || online.accountHandle) },
    h('summary', {}, 'Online: platform, account and post'),
    h('p', { class: 'hint' }, 'Copy the addresses from the address bar or the post’s Share button. Take a screenshot too and add it under Files after saving.'),
    field('online.platform', 'Platform', setValue(text(vocab.limits.short, { placeholder: 'e.g. X, Facebook, TikTok' }), online.platform)),
    field('online.accountHandle', 'Account name or handle', setValue(text(vocab.limits.short, { spellcheck: 'false' }), online.accountHandle)),
    field('online.accountAddress', 'Account’s address', setValue(text(vocab.limits.text, { inputmode: 'url', spellcheck: 'false' }), online.accountAddress)),
    field('online.postAddress', 'Post’s address', setValue(text(vocab.limits.text, { inputmode: 'url', spellcheck: 'false' }), online.postAddress)),
    field('online.reportedToPlatformOn', 'Reported to the platform on', dateInput(online.reportedToPlatformOn), 'Day/month/year. Leave empty if not reported yet.'),
    field('online.platformReportNumber', 'Platform’s report number', setValue(text(vocab.limits.short), online.platformReportNumber)));
}

function rowsOf(form, name, read) {
  return [...form.querySelectorAll(`[data-rows="${name}"] > fieldset`)].map((row, i) => read((f) => form.elements[`${name}[${i}].${f}`]?.value ?? ''));
}

/** Reads the form into what the backend expects. Times the browser cannot read are sent
 * as they are, so the backend names the field. */
function readForm(form) {
  const el = (name) => form.elements[name];
  const value = (name) => el(name)?.value ?? '';
  const label = (name) => form.querySelector(`[data-field="${name}"] legend`)?.textContent ?? name;
  const occurredFrom = readDateTime(form, 'occurredFrom', label('occurredFrom'));
  if (!occurredFrom) throw new api.ApiError({ code: 'validation', field: 'occurredFrom', message: `${label('occurredFrom')}: type when it happened, as day/month/year and the time (roughly is fine).` });
  const reports = rowsOf(form, 'reports', (f) => ({ to: f('to'), on: f('on'), reference: f('reference'), officer: f('officer'), followUp: f('followUp'), notes: f('notes') }));
  reports.forEach((report, i) => { report.on = readDate(form, `reports[${i}].on`, `Report ${i + 1} – Date`); });
  return {
    occurredFrom,
    occurredTo: form.elements['occurredTo.date'] ? readDateTime(form, 'occurredTo', label('occurredTo')) : null,
    category: value('category'),
    channel: value('channel') || null,
    location: value('location'),
    postcode: value('postcode'),
    whatHappened: value('whatHappened'),
    affected: checked(form, 'affected'),
    people: rowsOf(form, 'people', (f) => ({ personId: f('personId') || null, name: f('name'), description: f('description'), clothing: f('clothing'), vehicleMake: f('vehicleMake'), vehicleColour: f('vehicleColour'), vehicleRegistration: f('vehicleRegistration') })),
    witnesses: rowsOf(form, 'witnesses', (f) => ({ name: f('name'), contact: f('contact') })),
    impact: value('impact'),
    flags: checked(form, 'flags'),
    actions: checked(form, 'actions'),
    reports,
    online: form.elements['online.platform'] ? {
      platform: value('online.platform'),
      accountHandle: value('online.accountHandle'),
      accountAddress: value('online.accountAddress'),
      postAddress: value('online.postAddress'),
      reportedToPlatformOn: readDate(form, 'online.reportedToPlatformOn', 'Reported to the platform on'),
      platformReportNumber: value('online.platformReportNumber'),
    } : null,
  };
}

function submitWith(form, save) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const detail = await save(readForm(form));
      announce('Saved.');
      location.hash = `#/incidents/${encodeURIComponent(detail.id)}`;
    } catch (error) {
      // Everything typed stays in the form; the message goes next to its field.
      showError(form, error);
      form.querySelector('.field-error:not([hidden])')?.closest('details')?.setAttribute('open', '');
      form.querySelector('.field-error:not([hidden])')?.closest('.field, fieldset')?.querySelector('input, select, textarea')?.focus();
      button.disabled = false;
    }
  });
  return form;
}

/** The quick form: what happened and when; the rest can be added later. */
export async function quickForm() {
  const vocab = await api.incidentsVocabulary();
  const category = select(vocab.categories);
  category.value = 'other';
  const form = h('form', { class: 'incident-form quick', novalidate: true },
    h('p', { class: 'back' }, h('a', { href: '#/incidents' }, '← Incidents')),
    h('h1', { tabindex: '-1' }, 'Record an incident'),
    h('p', { class: 'lead' }, 'Write it down now, in the words that were used. Everything else can be added later.'),
    field('whatHappened', 'What happened', area(vocab.limits.whatHappened, 6), 'Exact words are best, in quotes. Who, what, where.'),
    dateTimeField('occurredFrom', 'When', new Date().toISOString()),
    field('category', 'Type (change it later if unsure)', category),
    errorSlot('general'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button button-big' }, 'Save now'),
      h('a', { class: 'button button-secondary', href: '#/incidents/new/full' }, 'Use the full form')));
  return { title: 'Record an incident', node: submitWith(form, api.incidentsRecord) };
}

/** The full form, empty for a new incident or filled from `detail` to edit it. */
export async function fullForm(detail = null) {
  const [vocab, people] = await Promise.all([api.incidentsVocabulary(), api.incidentsPeople()]);
  const r = detail?.current ?? {};
  const heading = detail ? 'Edit incident' : 'Record an incident (full form)';
  const form = h('form', { class: 'incident-form', novalidate: true },
    h('p', { class: 'back' }, h('a', { href: detail ? `#/incidents/${encodeURIComponent(detail.id)}` : '#/incidents' }, detail ? '← Back to the incident' : '← Incidents')),
    h('h1', { tabindex: '-1' }, heading),
    detail ? h('p', { class: 'lead' }, 'Saving adds a new version. The earlier versions stay exactly as they were, and anyone reading the record can see both.') : null,
    field('whatHappened', 'What happened', setValue(area(vocab.limits.whatHappened, 8), r.whatHappened), `Exact words, in quotes. Up to ${vocab.limits.whatHappened.toLocaleString('en-GB')} characters.`),
    h('div', { class: 'field-pair' },
      dateTimeField('occurredFrom', 'Started', r.occurredFrom ?? new Date().toISOString()),
      dateTimeField('occurredTo', 'Ended (optional)', r.occurredTo)),
    field('category', 'Type of incident', setValue(select(vocab.categories, 'Choose…'), r.category)),
    field('channel', 'How it reached you', setValue(select(vocab.channels, 'Not said'), r.channel ?? '')),
    field('location', 'Where', setValue(text(vocab.limits.text), r.location), 'Street, venue, website or phone number it came from.'),
    field('postcode', 'Postcode (optional)', setValue(text(10, { autocapitalize: 'characters' }), r.postcode)),
    onlineFields(vocab, r.online ?? {}),
    checkboxes('affected', 'Who was affected', vocab.affected, r.affected),
    checkboxes('flags', 'Warning signs (tell the police about these)', vocab.flags, r.flags),
    repeatable('people', 'People involved', 'Person', 'Add a person involved', personFields(vocab, people), r.people ?? []),
    repeatable('witnesses', 'Witnesses', 'Witness', 'Add a witness', witnessFields(vocab), r.witnesses ?? []),
    field('impact', 'Impact on you or the team', setValue(area(vocab.limits.text, 3), r.impact)),
    checkboxes('actions', 'What you did', vocab.actions, r.actions),
    repeatable('reports', 'Reports made', 'Report', 'Add a report you made', reportFields(vocab), r.reports ?? []),
    detail ? field('reason', 'Why you are changing it (optional)', text(1000)) : null,
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-big' }, detail ? 'Save as a new version' : 'Save'));
  const save = detail
    ? (input) => api.incidentsAmend(detail.id, input, form.elements.reason.value)
    : api.incidentsRecord;
  return { title: heading, node: submitWith(form, save) };
}
