// A canvass plan's form: where, when, who goes with whom, transport, kit, who coordinates
// and whom to call. Lists are typed one item per line. The risk check comes after saving,
// on the plan's page, because it looks in the incident log and the do-not-knock list.

import * as api from '../api.js';
import { h, field, errorSlot, announce } from '../dom.js';
import { onSubmit } from '../components.js';
import { dateInput, readDate } from '../datetime.js';

const text = (max, attrs = {}) => h('input', { type: 'text', maxlength: String(max), ...attrs });
const lines = (rows) => h('textarea', { rows: String(rows), maxlength: '4000' });
const splitLines = (value) => value.split('\n').map((line) => line.trim()).filter(Boolean);

function setValue(control, value) {
  if (value != null) control.value = value;
  return control;
}

export async function planForm(existing = null) {
  const choices = await api.plansChoices();
  const p = existing?.plan ?? {};
  const town = h('select', {}, h('option', { value: '' }, 'Not chosen'), choices.places.map((c) => h('option', { value: c.key }, c.label)));
  const checkIn = h('select', {}, [15, 20, 30, 45, 60, 90].map((m) => h('option', { value: String(m) }, `Every ${m} minutes`)));
  checkIn.value = String(p.checkInMinutes ?? choices.defaultCheckInMinutes);
  const heading = existing ? 'Edit the plan' : 'Plan a canvass';
  const form = h('form', { class: 'plan-form', novalidate: true },
    h('p', { class: 'back' }, h('a', { href: existing ? `#/plans/${existing.id}` : '#/plans' }, existing ? '← Back to the plan' : '← Plans')),
    h('h1', { tabindex: '-1' }, heading),
    h('p', { class: 'lead' }, 'Share it with the whole team before going. After saving, the plan’s page runs the risk check: earlier incidents and do-not-knock doors in the area, and sunset.'),
    field('title', 'Name of the outing', setValue(text(200), p.title), 'Such as “Ward 3, Saturday morning”.'),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Where'),
      field('ward', 'Ward', setValue(text(200), p.ward)),
      field('streets', 'Streets', setValue(lines(4), (p.streets ?? []).join('\n')), 'One street per line.'),
      field('postcodes', 'Postcodes', setValue(lines(2), (p.postcodes ?? []).join('\n')), 'One per line, whole or the start of one (AB1 2CD, AB1 2 or AB1).'),
      field('walkList', 'Walk-list reference', setValue(text(200), p.walkList), 'The party’s reference for the list you are working.'),
      field('meetingPoint', 'Meeting point', setValue(text(200), p.meetingPoint))),
    h('fieldset', { class: 'group' }, h('legend', {}, 'When'),
      field('date', 'Date', dateInput(p.date ?? ''), 'Day/month/year.'),
      h('div', { class: 'field-pair' },
        field('startTime', 'Starts', setValue(text(5, { inputmode: 'numeric', placeholder: 'HH:MM', size: '5' }), p.startTime?.slice(0, 5)), '24-hour clock.'),
        field('endTime', 'Ends', setValue(text(5, { inputmode: 'numeric', placeholder: 'HH:MM', size: '5' }), p.endTime?.slice(0, 5)), '24-hour clock.')),
      field('town', 'Nearest town, for sunset', setValue(town, p.town ?? ''), 'Sunset is worked out on this device; nothing is looked up online.')),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Who'),
      field('pairs', 'Pairs or groups', setValue(lines(4), (p.pairs ?? []).map((pair) => pair.join(' and ')).join('\n')), 'One pair per line, such as “Sam and Alex”. Each pair gets its own check-ins.'),
      field('coordinator', 'Who coordinates', setValue(text(200), p.coordinator), 'The person the pairs check in with.'),
      field('escalation', 'Who to call if a check-in is missed', setValue(lines(3), (existing?.escalationShown ?? []).join('\n')), 'In order, one per line: name, comma, phone number.'),
      field('checkInMinutes', 'Check in every', checkIn)),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Getting there and kit'),
      field('transport', 'Transport', setValue(text(200), p.transport), 'Such as “Blue Ford Focus” or “Number 42 bus”.'),
      field('vehicleRegistration', 'Vehicle registration', setValue(text(20, { autocapitalize: 'characters' }), p.vehicleRegistration)),
      field('kit', 'Kit', setValue(h('textarea', { rows: '2', maxlength: '1000' }), p.kit), 'Phones charged, torch, rosettes, leaflet holders, first aid.')),
    errorSlot('risks'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-big' }, existing ? 'Save the plan' : 'Save and check risks'));
  return {
    title: heading,
    node: onSubmit(form, async () => {
      const value = (name) => form.elements[name].value;
      const input = {
        title: value('title'), ward: value('ward'), streets: splitLines(value('streets')), postcodes: splitLines(value('postcodes')),
        walkList: value('walkList'), town: value('town'), date: readDate(form, 'date', 'Date'),
        startTime: value('startTime'), endTime: value('endTime'), meetingPoint: value('meetingPoint'),
        pairs: splitLines(value('pairs')), transport: value('transport'), vehicleRegistration: value('vehicleRegistration'),
        kit: value('kit'), coordinator: value('coordinator'), escalation: splitLines(value('escalation')),
        checkInMinutes: Number(value('checkInMinutes')), risks: p.risks ?? [],
      };
      const saved = existing ? await api.plansUpdate(existing.id, input) : await api.plansCreate(input);
      announce('Plan saved.');
      location.hash = `#/plans/${saved.id}`;
    }),
  };
}
