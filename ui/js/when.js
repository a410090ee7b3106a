// Times are stored in UTC and shown in UK time, whatever zone the device is set to.

const UK = 'Europe/London';

const dateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: UK, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
});
const dateOnly = new Intl.DateTimeFormat('en-GB', { timeZone: UK, day: 'numeric', month: 'short', year: 'numeric' });

/** "Wed 25 Nov 2026, 18:30" in UK time, or '' for nothing. */
export function formatWhen(iso) {
  return iso ? dateTime.format(new Date(iso)) : '';
}

export function formatDate(isoDate) {
  return isoDate ? dateOnly.format(new Date(`${isoDate}T12:00:00Z`)) : '';
}

const pad = (n) => String(n).padStart(2, '0');

/** A UTC instant as the value of a datetime-local input (the device's own zone). */
export function toInputValue(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** Now, to the minute, for a datetime-local input. */
export function nowInputValue() {
  return toInputValue(new Date().toISOString());
}

/** A datetime-local value back to a UTC ISO string; '' stays null, nonsense is reported. */
export function fromInputValue(value) {
  if (!value) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** A date input's value (YYYY-MM-DD) as the start of that UK day, in UTC. */
export function dayStart(value) {
  return value ? new Date(`${value}T00:00:00`).toISOString() : null;
}

export function dayEnd(value) {
  return value ? new Date(`${value}T23:59:59.999`).toISOString() : null;
}
