// The debrief after a canvass: four short questions. Something that happened becomes a
// quick incident; someone upset gets a follow-up on Today with who checks on them and when.

import * as api from '../api.js';
import { h, field, errorSlot, announce, fill } from '../dom.js';
import { onSubmit, sourcesBlock } from '../components.js';
import { dateInput, readDate } from '../datetime.js';

/** A yes/no question as a pair of radio buttons; `more` shows only after "Yes". */
function question(name, legend, more = null) {
  const radios = ['yes', 'no'].map((value) => h('label', { class: 'check' },
    h('input', { type: 'radio', name, value, 'aria-describedby': `error-${name}` }), ' ', value === 'yes' ? 'Yes' : 'No'));
  const extra = more ? h('div', { class: 'if-yes', hidden: true }, more) : null;
  const set = h('fieldset', { class: 'question', 'data-field': name }, h('legend', {}, legend), radios, errorSlot(name), extra);
  set.addEventListener('change', () => {
    if (extra) extra.hidden = set.querySelector('input:checked')?.value !== 'yes';
  });
  return set;
}

function answer(form, name) {
  const chosen = form.querySelector(`input[name="${name}"]:checked`)?.value;
  return chosen === undefined ? null : chosen === 'yes';
}

/** Where to turn: the party's contact if saved, then the services in content/support.json. */
export function supportBlock(support) {
  return h('section', { class: 'support', 'aria-labelledby': 'support-title' },
    h('h2', { id: 'support-title' }, 'Support'),
    h('p', {}, support.content.intro),
    h('ul', { class: 'support-list' },
      support.partyContact ? h('li', {}, h('strong', {}, `${support.partyContact.roleName}: ${support.partyContact.name}`), ' ',
        h('a', { href: `tel:${support.partyContact.phone}` }, support.partyContact.phone)) : null,
      support.content.contacts.map((c) => h('li', {}, h('strong', {}, c.name), ' ', h('a', { href: `tel:${c.call}` }, c.phone),
        h('br'), c.what, ' ', h('span', { class: 'muted' }, c.when)))),
    support.partyContact ? null : h('p', { class: 'hint' }, 'Add your party’s safety or welfare contact under ', h('a', { href: '#/contacts' }, 'Emergency → Your contacts'), '.'),
    sourcesBlock(support.content.contacts.flatMap((c) => c.sources), support.content.reviewed, 3));
}

export async function render(sessionId) {
  const [session, support, done] = await Promise.all([
    api.checkinsDetail(sessionId),
    api.aftercareSupport().catch(() => null),
    api.aftercareDebriefed(sessionId),
  ]);
  const result = h('div', { class: 'debrief-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'debrief-form', novalidate: true },
    question('anythingHappened', 'Did anything happen?',
      field('whatHappened', 'What happened, in a few words', h('textarea', { rows: '3', maxlength: '2000' }), 'It is recorded as an incident now; add detail to it later.')),
    question('anyoneUpset', 'Is anyone upset or shaken?', [
      field('whoIsUpset', 'Who', h('input', { type: 'text', maxlength: '200' })),
      field('whoChecks', 'Who will check on them', h('input', { type: 'text', maxlength: '200' }), 'It goes on Today until it is done.'),
      field('checkOn', 'When', dateInput(''), 'Day/month/year. Empty: tomorrow.'),
    ]),
    field('goodEncounters', 'Any good encounters worth sharing? (optional)', h('textarea', { rows: '2', maxlength: '2000' })),
    question('updateDoNotKnock', 'Does the do-not-knock list need updating?'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-big' }, 'Save the debrief'));
  onSubmit(form, async () => {
    const value = (name) => form.elements[name].value;
    const saved = await api.aftercareDebrief(sessionId, {
      anythingHappened: answer(form, 'anythingHappened'), whatHappened: value('whatHappened'),
      anyoneUpset: answer(form, 'anyoneUpset'), whoIsUpset: value('whoIsUpset'), whoChecks: value('whoChecks'),
      checkOn: readDate(form, 'checkOn', 'When'), goodEncounters: value('goodEncounters'),
      updateDoNotKnock: answer(form, 'updateDoNotKnock'),
    });
    form.remove();
    fill(result,
      h('p', { class: 'ok', role: 'status', id: 'debrief-saved' }, 'Debrief saved. Thank you.'),
      saved.incidentId ? h('p', {}, 'The incident is recorded: ', h('a', { href: `#/incidents/${encodeURIComponent(saved.incidentId)}` }, 'add detail to it')) : null,
      saved.followUps ? h('p', {}, `${saved.followUps} follow-up${saved.followUps === 1 ? ' is' : 's are'} on `, h('a', { href: '#/today' }, 'Today'), ' until done.') : null,
      saved.updateDoNotKnock ? h('p', {}, h('a', { class: 'button button-secondary', href: '#/do-not-knock' }, 'Update the do-not-knock list')) : null);
    announce('Debrief saved.');
    result.querySelector('a, p')?.focus?.();
  });
  const node = h('section', { class: 'debrief' },
    h('p', { class: 'back' }, h('a', { href: `#/checkins/${sessionId}` }, '← The session')),
    h('h1', { tabindex: '-1' }, `Debrief: ${session.title}`),
    h('p', { class: 'lead' }, 'Glad you are back. Four quick questions while it is fresh: the bad, and the good.'),
    done ? h('p', { class: 'ok', id: 'debrief-saved' }, 'This session has been debriefed.') : form,
    result,
    support ? supportBlock(support) : null);
  return { title: `Debrief: ${session.title}`, node };
}
