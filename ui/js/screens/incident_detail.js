// One incident: the current version in full, its attachments, every earlier version, and
// the explicit, confirmed ways to withdraw or erase it.

import * as api from '../api.js';
import { h, errorSlot, showError, clearErrors, announce, plainly } from '../dom.js';
import { formatWhen, formatDate } from '../when.js';

const KIND_TEXT = { recorded: 'Recorded', amended: 'Amended', withdrawn: 'Withdrawn', erased: 'Erased' };

function label(list, key) {
  return list.find((item) => item.key === key)?.label ?? key;
}

function row(name, ...value) {
  const shown = value.flat().filter((v) => v != null && v !== '');
  return shown.length ? [h('dt', {}, name), h('dd', {}, shown)] : null;
}

function personText(p) {
  const vehicle = [p.vehicleColour, p.vehicleMake, p.vehicleRegistration].filter(Boolean).join(' ');
  return [p.name, p.description, p.clothing && `wearing ${p.clothing}`, vehicle && `vehicle ${vehicle}`].filter(Boolean).join(', ') || 'Not described';
}

function reportText(vocab, r) {
  return [label(vocab.reportedTo, r.to), r.on && `on ${formatDate(r.on)}`, r.reference && `reference ${r.reference}`,
    r.officer && `contact ${r.officer}`, `(${label(vocab.followUp, r.followUp)})`, r.notes].filter(Boolean).join(', ');
}

function onlineRows(online) {
  if (!online) return null;
  const told = [online.reportedToPlatformOn && `on ${formatDate(online.reportedToPlatformOn)}`,
    online.platformReportNumber && `report number ${online.platformReportNumber}`].filter(Boolean).join(', ');
  return [
    row('Platform', online.platform),
    row('Account', [online.accountHandle, online.accountAddress].filter(Boolean).join(', ')),
    row('Post’s address', online.postAddress ? h('span', { class: 'long-address' }, online.postAddress) : ''),
    row('Reported to the platform', told),
  ];
}

/** A version's record as a definition list; also used for earlier versions. */
export function recordView(vocab, record, linkedPeople = []) {
  const names = Object.fromEntries(linkedPeople.map((p) => [p.id, p]));
  return h('dl', { class: 'record' },
    row('When', formatWhen(record.occurredFrom), record.occurredTo ? ` to ${formatWhen(record.occurredTo)}` : ''),
    row('Type', label(vocab.categories, record.category)),
    row('How it reached you', record.channel ? label(vocab.channels, record.channel) : ''),
    row('Where', [record.location, record.postcode].filter(Boolean).join(', ')),
    onlineRows(record.online),
    row('What happened', h('span', { class: 'words' }, record.whatHappened)),
    row('Who was affected', record.affected.map((a) => label(vocab.affected, a)).join(', ')),
    row('Warning signs', record.flags.map((f) => label(vocab.flags, f)).join(', ')),
    record.people.map((p, i) => row(`Person ${i + 1}`, personText(p),
      p.personId && names[p.personId] ? [' · ', h('a', { href: `#/incidents/person/${encodeURIComponent(p.personId)}` }, `linked: ${names[p.personId].label}, ${names[p.personId].incidents} incident(s)`)] : null)),
    record.witnesses.map((w) => row('Witness', [w.name, w.contact].filter(Boolean).join(', '))),
    row('Impact', record.impact),
    row('What you did', record.actions.map((a) => label(vocab.actions, a)).join(', ')),
    record.reports.map((r) => row('Reported', reportText(vocab, r))),
    row('Not reported yet', record.reports.length ? '' : 'Add a report when you make one (999, 101, online, your force election contact, party, council or platform).'));
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function attachmentsBlock(detail, refresh) {
  const files = detail.current?.attachments ?? [];
  const input = h('input', { type: 'file', id: 'f-file', name: 'file', multiple: true, 'aria-describedby': 'error-file hint-file' });
  const block = h('section', { class: 'attachments' },
    h('h2', {}, 'Files'),
    files.length ? h('ul', {}, files.map((a) => h('li', {}, h('strong', {}, plainly(a.originalName)), ` · ${sizeText(a.size)} · added ${formatWhen(a.addedAt)}`,
      h('br'), h('span', { class: 'hash' }, `SHA-256 ${a.sha256}`)))) : h('p', { class: 'muted' }, 'No files yet.'),
    detail.status === 'active' ? [
      h('label', { for: 'f-file' }, 'Add screenshots, photos, letters or recordings'),
      h('p', { class: 'hint', id: 'hint-file' }, 'A copy is kept in Campaign Safe with a fingerprint (SHA-256); your original is not changed. Keep the original too.'),
      input, errorSlot('file')] : null);
  input.addEventListener('change', async () => {
    clearErrors(block);
    input.disabled = true;
    try {
      for (const file of input.files) {
        let bytes;
        try {
          bytes = new Uint8Array(await file.arrayBuffer());
        } catch {
          throw new api.ApiError({ code: 'validation', field: 'file', message: `File: ${file.name} cannot be read. Copy it somewhere else and try again.` });
        }
        await api.incidentsAttach(detail.id, file.name, bytes);
      }
      announce('File added.');
      refresh();
    } catch (error) {
      showError(block, error);
      input.disabled = false;
    }
  });
  return block;
}

function historyBlock(vocab, detail) {
  return h('section', { class: 'history' },
    h('h2', {}, `History (${detail.versions.length} version${detail.versions.length === 1 ? '' : 's'})`),
    h('p', { class: 'hint' }, 'Nothing is overwritten. Each version has a fingerprint that includes the one before, so any later change shows when the log is checked.'),
    h('ol', { class: 'versions' }, [...detail.versions].reverse().map((v) => h('li', { class: `version version-${v.kind}` },
      h('p', {}, h('strong', {}, `Version ${v.version}: ${KIND_TEXT[v.kind] ?? v.kind}`), ` ${formatWhen(v.recordedAt)}`, v.reason ? ` · ${v.reason}` : ''),
      v.record ? h('details', {}, h('summary', {}, `Show version ${v.version} as recorded`), recordView(vocab, v.record, detail.linkedPeople))
        : h('p', { class: 'muted' }, 'Content erased.'),
      h('p', { class: 'hash' }, `SHA-256 ${v.hash}`)))));
}

function reasonForm(kind, detail) {
  const erase = kind === 'erase';
  const form = h('form', { class: `danger-form ${kind}-form`, novalidate: true },
    h('div', { class: 'field' }, h('label', { for: `f-${kind}-reason` }, erase ? 'Why must it be erased?' : 'Why are you withdrawing it?'),
      // Withdraw and erase are on one page: their error slots are kept apart by `kind`.
      h('input', { type: 'text', id: `f-${kind}-reason`, name: 'reason', maxlength: '1000', 'aria-describedby': `error-${kind}-reason` }), errorSlot('reason', `${kind}-`)),
    erase ? h('div', { class: 'field' }, h('label', { for: 'f-confirmation' }, 'Type ERASE to confirm. This cannot be undone.'),
      h('input', { type: 'text', id: 'f-confirmation', name: 'confirmation', autocomplete: 'off', 'aria-describedby': 'error-confirmation' }), errorSlot('confirmation')) : null,
    errorSlot('general', `${kind}-`),
    h('button', { type: 'submit', class: `button ${erase ? 'button-danger' : 'button-secondary'}` }, erase ? 'Erase this incident' : 'Withdraw this incident'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      if (erase) await api.incidentsErase(detail.id, form.elements.reason.value, form.elements.confirmation.value);
      else await api.incidentsWithdraw(detail.id, form.elements.reason.value);
      announce(erase ? 'Erased. A tombstone stays in the log.' : 'Withdrawn. It stays in the log.');
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}

export async function renderDetail(incidentId) {
  const [vocab, detail] = await Promise.all([api.incidentsVocabulary(), api.incidentsDetail(incidentId)]);
  const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  const current = detail.current;
  const title = current ? label(vocab.categories, current.category) : 'Erased incident';
  const statusNote = {
    withdrawn: 'Withdrawn: kept in the log as it was, with the reason, and cannot be changed.',
    erased: 'Erased: its content and files are gone. The tombstone keeps the log’s chain whole.',
  }[detail.status];
  const id = encodeURIComponent(detail.id);
  const node = h('section', { class: `incident-detail status-${detail.status}` },
    h('p', { class: 'back' }, h('a', { href: '#/incidents' }, '← Incidents')),
    h('h1', { tabindex: '-1' }, title),
    h('p', { class: 'muted' }, `First recorded ${formatWhen(detail.firstRecorded)} (set by the app, cannot be changed)`),
    statusNote ? h('p', { class: 'problem', role: 'status' }, statusNote) : null,
    detail.status === 'active' ? h('div', { class: 'actions' },
      h('a', { class: 'button', href: `#/incidents/${id}/edit` }, 'Edit or add detail'),
      h('a', { class: 'button button-secondary', href: `#/incidents/export/incident/${id}` }, 'Evidence pack'),
      current && (current.channel === 'in-person' || current.category === 'doorstep-abuse' || current.category === 'threat-in-person')
        ? h('a', { class: 'button button-secondary', href: `#/do-not-knock/from/${id}` }, 'Add to do-not-knock') : null) : null,
    current ? recordView(vocab, current, detail.linkedPeople) : null,
    detail.status !== 'erased' ? attachmentsBlock(detail, refresh) : null,
    historyBlock(vocab, detail),
    detail.status === 'active' ? h('details', { class: 'danger' }, h('summary', {}, 'Withdraw (made in error)'), reasonForm('withdraw', detail)) : null,
    detail.status !== 'erased' ? h('details', { class: 'danger' }, h('summary', {}, 'Erase (data-protection request)'),
      h('p', {}, 'Erasing removes every version’s words and its files for good. Only a tombstone with your reason stays, so the log still checks out.'),
      reasonForm('erase', detail)) : null);
  return { title, node };
}
