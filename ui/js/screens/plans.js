// Canvass plans: the list, one plan with its risk check and its start, and the one-page
// briefing to print.

import * as api from '../api.js';
import { h, field, errorSlot, announce } from '../dom.js';
import { onSubmit } from '../components.js';
import { formatDate } from '../when.js';

function planList(plans) {
  if (!plans.length) return h('p', { class: 'muted', id: 'plans-empty' }, 'No plans yet.');
  return h('ul', { class: 'cards plan-list' }, plans.map((plan) => h('li', { class: 'card' },
    h('h2', { class: 'card-title' }, h('a', { href: `#/plans/${plan.id}` }, plan.title)),
    h('p', { class: 'muted' }, formatDate(plan.date), plan.started ? ' · started' : ''),
    plan.reviewDue ? h('p', { class: 'notice' }, 'Long past: it names people and places. Delete it when it is no longer needed.') : null)));
}

function detailsList(detail) {
  const p = detail.plan;
  const row = (name, value) => (value ? [h('dt', {}, name), h('dd', {}, value)] : null);
  return h('dl', { class: 'record plan-record' },
    row('When', `${formatDate(p.date)}, ${p.startTime.slice(0, 5)} to ${p.endTime.slice(0, 5)}`),
    row('Ward', p.ward),
    row('Streets', p.streets.join(', ')),
    row('Postcodes', p.postcodes.join(', ')),
    row('Walk list', p.walkList),
    row('Meeting point', p.meetingPoint),
    row('Pairs or groups', p.pairs.map((pair) => pair.join(' and ')).join('; ')),
    row('Coordinator', p.coordinator),
    row('Who to call', detail.escalationShown.join('; ')),
    row('Check in', `every ${p.checkInMinutes} minutes`),
    row('Transport', [p.transport, p.vehicleRegistration].filter(Boolean).join(', ')),
    row('Kit', p.kit),
    row('Sunset', detail.riskCheck.sunsetLocal ? `${detail.riskCheck.sunsetLocal} (${detail.townName})` : ''));
}

function riskFieldset(risk, started) {
  const key = `risks.${risk.kind}.action`;
  const action = h('textarea', { rows: '2', maxlength: '1000', disabled: started });
  action.value = risk.action;
  return h('fieldset', { class: `risk${risk.present ? ' risk-present' : ''}`, 'data-risk': risk.kind },
    h('legend', {}, risk.label, risk.auto ? (risk.present ? ': found' : risk.checked ? ': none found' : ': not checked') : ''),
    risk.found.length ? h('ul', { class: 'risk-found' }, risk.found.map((line) => h('li', {}, line))) : null,
    risk.auto && risk.kind !== 'lone-working' ? null : h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: `risks.${risk.kind}.present`, checked: risk.present, disabled: started || (risk.auto && risk.found.length > 0) }),
      ' This applies to this outing'),
    field(key, 'What you will do about it', action, risk.hint));
}

/** What the risk check comes to, as it stands: before starting, and once started. */
function riskSummary(present, unanswered, started) {
  const risks = `${present} risk${present === 1 ? '' : 's'}`;
  if (started) return present ? `${risks} planned for before the canvass started.` : 'Nothing was found before the canvass started.';
  if (!present) return 'Nothing found. Check the ones only the team can know.';
  if (!unanswered) return `${risks} to plan for, each with an answer.`;
  if (unanswered === present) return `${risks} to plan for. Say what the team will do about ${present === 1 ? 'it' : 'each'} before starting.`;
  return `${risks} to plan for; ${unanswered} still without an answer. Say what the team will do before starting.`;
}

function readRisks(form, riskCheck) {
  return riskCheck.risks.map((risk) => ({
    kind: risk.kind,
    present: Boolean(form.elements[`risks.${risk.kind}.present`]?.checked),
    action: form.elements[`risks.${risk.kind}.action`].value,
  }));
}

async function renderDetail(id) {
  const detail = await api.plansDetail(id);
  const started = Boolean(detail.startedAtLocal);
  const teams = await api.teamStatus().then((s) => s.teams, () => []);
  const present = detail.riskCheck.risks.filter((r) => r.present).length;
  const unanswered = detail.riskCheck.risks.filter((r) => r.present && !r.action.trim()).length;
  const form = h('form', { class: 'risk-check', novalidate: true, 'aria-labelledby': 'risk-title' },
    h('h2', { id: 'risk-title' }, 'Risk check before going'),
    h('p', { id: 'risk-summary', class: present ? 'notice' : 'ok' },
      riskSummary(present, unanswered, started)),
    detail.riskCheck.incidents.length ? h('p', {}, 'Earlier incidents: ', detail.riskCheck.incidents.map((i, n) => [n ? ', ' : '', h('a', { href: `#/incidents/${encodeURIComponent(i.id)}` }, i.line.split(':').slice(0, 2).join(':'))])) : null,
    detail.riskCheck.risks.map((risk) => riskFieldset(risk, started)),
    // With a team set up, the sessions are shared with it unless someone chooses otherwise.
    !started && teams.length ? field('roomId', 'Share the sessions with', h('select', {}, teams.map((t, i) => h('option', { value: t.roomId, selected: i === 0 }, `Team: ${t.name}`)), h('option', { value: '' }, 'Nobody else (this device only)')), 'Every member’s device then raises the alarm if a check-in is missed.') : null,
    errorSlot('general'),
    started ? null : h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button button-secondary', value: 'save' }, 'Save answers'),
      h('button', { type: 'submit', class: 'button button-big', value: 'start' }, 'Start the canvass')));
  onSubmit(form, async (_form, button) => {
    await api.plansAnswerRisks(id, readRisks(form, detail.riskCheck));
    if (button.value === 'start') {
      await api.plansStart(id, form.elements.roomId?.value);
      announce('Canvass started: a check-in session for each pair.');
    } else {
      announce('Answers saved.');
    }
    // Drawn again through the router, so the page and its title show the plan as it now is.
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });

  const deleteBox = h('details', { class: 'danger' }, h('summary', {}, 'Delete this plan'),
    h('p', {}, 'The plan is removed for good. Sessions it started stay in Check-ins.'),
    h('button', { type: 'button', class: 'button button-danger', onclick: async () => {
      await api.plansDelete(id);
      announce('Plan deleted.');
      location.hash = '#/plans';
    } }, 'Delete the plan'));

  const node = h('section', { class: 'plan' },
    h('p', { class: 'back' }, h('a', { href: '#/plans' }, '← Plans')),
    h('h1', { tabindex: '-1' }, detail.plan.title),
    started ? h('p', { class: 'ok', id: 'plan-started' }, `Started ${detail.startedAtLocal}: `,
      detail.sessions.map((s, n) => [n ? ', ' : '', h('a', { href: `#/checkins/${s}` }, `session ${n + 1}`)])) : null,
    h('div', { class: 'actions' },
      started ? null : h('a', { class: 'button button-secondary', href: `#/plans/${id}/edit` }, 'Edit'),
      h('button', { type: 'button', class: 'button button-secondary', id: 'plan-copy', onclick: async () => {
        const copied = await api.plansCopy(id);
        location.hash = `#/plans/${copied.id}/edit`;
      } }, 'Copy for the next outing'),
      h('a', { class: 'button button-secondary', href: `#/plans/${id}/briefing` }, 'Briefing to print')),
    form,
    h('h2', {}, 'The plan'),
    detailsList(detail),
    deleteBox);
  return { title: detail.plan.title, node };
}

/** `text` ending in one full stop, never two ("Sunset 16:00 in Manchester."). */
function sentence(text) {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** One page to hand out or pin up: the plan, the risks and what to do, whom to call. */
async function renderBriefing(id) {
  const detail = await api.plansDetail(id);
  const risks = detail.riskCheck.risks.filter((r) => r.present);
  const node = h('section', { class: 'briefing' },
    h('p', { class: 'back no-print' }, h('a', { href: `#/plans/${id}` }, '← Back to the plan')),
    h('h1', { tabindex: '-1' }, `Briefing: ${detail.plan.title}`),
    detailsList(detail),
    h('h2', {}, 'Risks and what we will do'),
    risks.length ? h('ul', {}, risks.map((r) => h('li', {},
      h('strong', {}, `${r.label}.`), r.found.length ? ` ${r.found.map(sentence).join(' ')}` : '',
      h('br'), `What we will do: ${r.action.trim() ? sentence(r.action) : 'not yet answered.'}`)))
      : h('p', {}, 'None found.'),
    h('h2', {}, 'If something happens'),
    h('ul', {},
      h('li', {}, 'In danger now: call 999. Leave, and do not go back to argue.'),
      h('li', {}, 'Check in on time. Missed check-ins raise the alarm with the people above.'),
      h('li', {}, 'Write down what was said, by whom and where, as soon as you are safe.')),
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'button', onclick: () => window.print() }, 'Print')));
  return { title: `Briefing: ${detail.plan.title}`, node };
}

export async function render(params = []) {
  const [first, second] = params;
  if (first === 'new') {
    const { planForm } = await import('./plan_form.js');
    return planForm();
  }
  if (first && second === 'edit') {
    const { planForm } = await import('./plan_form.js');
    return planForm(await api.plansDetail(Number(first)));
  }
  if (first && second === 'briefing') return renderBriefing(Number(first));
  if (first) return renderDetail(Number(first));
  const plans = await api.plansList();
  const list = planList(plans);
  const node = h('section', { class: 'plans' },
    h('p', { class: 'back' }, h('a', { href: '#/checkins' }, '← Check-ins')),
    h('h1', { tabindex: '-1' }, 'Canvass plans'),
    h('p', { class: 'lead' }, 'Plan each outing with the team: where, when, who goes with whom, and a risk check before going. Starting a plan starts a check-in session for each pair.'),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/plans/new' }, 'Plan a canvass')),
    list);
  return { title: 'Canvass plans', node };
}
