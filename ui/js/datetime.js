// Date and time fields of the app's own: day/month/year and the 24-hour clock in the app's
// zone (UK time unless the user chose the device's),
// whatever language and zone the device is set to (a browser's own date field follows the
// device: "11/28/2026, 06:25 PM" on a US laptop).

import { h, errorSlot } from './dom.js';
import { ApiError } from './api.js';
import { toFields, parseDate, parseTime, wallToUtc, dateValue, dateField, zoneName } from './when.js';

const format = () => `Day/month/year and the 24-hour clock, ${zoneName()}.`;

function part(id, name, value, placeholder, size, describedBy) {
  const input = h('input', {
    type: 'text', id, name, inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    placeholder, maxlength: String(size), size: String(size), 'aria-describedby': describedBy,
  });
  input.value = value;
  return input;
}

/** A date and a time, typed: `name` is what errors are reported against. */
export function dateTimeField(name, label, iso, hint = format()) {
  const { date, time } = toFields(iso);
  const described = `hint-${name} error-${name}`;
  const dateInput = part(`f-${name}`, `${name}.date`, date, 'DD/MM/YYYY', 10, described);
  const timeInput = part(`f-${name}-time`, `${name}.time`, time, 'HH:MM', 5, described);
  return h('fieldset', { class: 'field datetime', 'data-field': name },
    h('legend', {}, label),
    h('p', { class: 'hint', id: `hint-${name}` }, hint),
    h('div', { class: 'datetime-parts' },
      h('span', {}, h('label', { for: dateInput.id }, 'Date'), dateInput),
      h('span', {}, h('label', { for: timeInput.id }, 'Time'), timeInput)),
    errorSlot(name));
}

/** Sets a date-and-time field to an instant (or to nothing). */
export function setDateTime(form, name, iso) {
  const { date, time } = toFields(iso);
  form.elements[`${name}.date`].value = date;
  form.elements[`${name}.time`].value = time;
}

/**
 * The instant typed in a date-and-time field, in UTC; null when both parts are empty. What
 * cannot be read is refused with the field's label, as the backend's errors are.
 */
export function readDateTime(form, name, label) {
  const dateText = form.elements[`${name}.date`]?.value ?? '';
  const timeText = form.elements[`${name}.time`]?.value ?? '';
  if (!dateText.trim() && !timeText.trim()) return null;
  const date = parseDate(dateText);
  if (!date) throw new ApiError({ code: 'validation', field: name, message: `${label}: type the date as day/month/year, such as 28/11/2026.` });
  const time = parseTime(timeText);
  if (!time) throw new ApiError({ code: 'validation', field: name, message: `${label}: type the time on the 24-hour clock, such as 23:30.` });
  return new Date(wallToUtc(date.year, date.month, date.day, time.hour, time.minute)).toISOString();
}

/** A date alone, typed as day/month/year. */
export function dateInput(isoDate) {
  const input = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: 'DD/MM/YYYY', maxlength: '10', size: '10' });
  input.value = dateField(isoDate);
  return input;
}

/** A date field's value as "2026-11-28", null when empty; refused with its label otherwise. */
export function readDate(form, name, label) {
  const value = dateValue(form.elements[name]?.value ?? '');
  if (value === undefined) throw new ApiError({ code: 'validation', field: name, message: `${label}: type the date as day/month/year, such as 28/11/2026.` });
  return value;
}
