// Dates and times. One time zone for the whole app, for entry and display alike, whatever
// zone and language the device is set to: UK time unless the user chose the device's zone
// (Today, "Times shown in"). Times are stored in UTC and typed as day/month/year and the
// 24-hour clock in fields of the app's own.

let zone = 'Europe/London';
// Made when a time is first shown: the zone data behind them is a few megabytes the first
// screen need not hold when it shows no times.
let formats = null;

function formatters() {
  formats ??= {
    dateTime: new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }),
    dateOnly: new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric' }),
    parts: new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    }),
  };
  return formats;
}

/** Shows and reads every time in `name` (an IANA zone the backend chose) from now on. */
export function setZone(name) {
  if (name === zone) return;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    zone = name;
  } catch {
    zone = 'Europe/London';
  }
  formats = null;
}

/** How the date and time fields describe the zone: "UK time" or "time in America/New_York". */
export function zoneName() {
  return zone === 'Europe/London' ? 'UK time' : `time in ${zone.replaceAll('_', ' ')}`;
}

/** "Wed 25 Nov 2026, 18:30" in the app's zone, or '' for nothing. */
export function formatWhen(iso) {
  return iso ? formatters().dateTime.format(new Date(iso)) : '';
}

export function formatDate(isoDate) {
  return isoDate ? formatters().dateOnly.format(new Date(`${isoDate}T12:00:00Z`)) : '';
}

const pad = (n) => String(n).padStart(2, '0');

/** The app zone's wall clock at a UTC instant: { year, month, day, hour, minute }. */
function wall(ms) {
  const got = Object.fromEntries(formatters().parts.formatToParts(new Date(ms)).map((p) => [p.type, Number(p.value)]));
  return { year: got.year, month: got.month, day: got.day, hour: got.hour % 24, minute: got.minute, second: got.second };
}

/** The UTC instant of a wall time in the app's zone (the first, when the clocks go back). */
export function wallToUtc(year, month, day, hour = 0, minute = 0) {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const offset = (ms) => {
    const w = wall(ms);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - ms;
  };
  const first = asUtc - offset(asUtc);
  const second = asUtc - offset(first);
  return Math.min(first, second);
}

/** A UTC instant as the app's date and time fields show it: "28/11/2026" and "23:30". */
export function toFields(iso) {
  if (!iso) return { date: '', time: '' };
  const w = wall(Date.parse(iso));
  return { date: `${pad(w.day)}/${pad(w.month)}/${w.year}`, time: `${pad(w.hour)}:${pad(w.minute)}` };
}

/** Now, or `hours` from now, to the minute, for the date and time fields. */
export function fieldsFromNow(hours = 0) {
  return toFields(new Date(Date.now() + hours * 3600_000).toISOString());
}

/** "28/11/2026" (also 28.11.2026, 28-11-2026, 28/11/26) as { year, month, day }, or null. */
export function parseDate(text) {
  const match = /^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})\s*$/.exec(text);
  if (!match) return null;
  const [day, month] = [Number(match[1]), Number(match[2])];
  const year = match[3].length === 2 ? 2000 + Number(match[3]) : Number(match[3]);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return { year, month, day };
}

/** "23:30" (also 23.30, 2330, 9:05) as { hour, minute }, or null. */
export function parseTime(text) {
  const match = /^\s*(\d{1,2})\s*[:.]?\s*(\d{2})\s*$/.exec(text);
  if (!match) return null;
  const [hour, minute] = [Number(match[1]), Number(match[2])];
  return hour < 24 && minute < 60 ? { hour, minute } : null;
}

/** A date field's day/month/year as "2026-11-28", or null when empty, or undefined. */
export function dateValue(text) {
  if (!text.trim()) return null;
  const date = parseDate(text);
  return date ? `${date.year}-${pad(date.month)}-${pad(date.day)}` : undefined;
}

/** "2026-11-28" as the date field shows it. */
export function dateField(isoDate) {
  if (!isoDate) return '';
  const [year, month, day] = isoDate.split('-');
  return `${day}/${month}/${year}`;
}

/** The start of a day in the app's zone ("2026-11-28") in UTC. */
export function dayStart(isoDate) {
  if (!isoDate) return null;
  const [year, month, day] = isoDate.split('-').map(Number);
  return new Date(wallToUtc(year, month, day)).toISOString();
}

/** The last moment of a day in the app's zone, in UTC. */
export function dayEnd(isoDate) {
  if (!isoDate) return null;
  const [year, month, day] = isoDate.split('-').map(Number);
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return new Date(wallToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()) - 1).toISOString();
}
