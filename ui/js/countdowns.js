// Countdowns to the next check-in, and the session status beside them. They tick only while
// one is on screen and the window is visible, and only when what they show changes: once a
// minute while more than a minute away, every second in the last minute. With nothing on
// screen, nothing runs.

import { ageText } from './components.js';

const MINUTE = 60;

// How far the app's clock is from this page's (only ever non-zero when a test runs the app
// "later"): countdowns count from the app's time, so they agree with its alarms.
let skew = 0;

/** Sets the app's time as last reported. */
export function setAppNow(iso) {
  const at = Date.parse(iso);
  if (!Number.isNaN(at)) skew = at - Date.now();
}

/** "in 25 min", "in 1 h 5 min", "in 40 s", "3 min overdue", and when the text changes next. */
export function countdown(dueIso, now = Date.now() + skew) {
  const seconds = Math.round((Date.parse(dueIso) - now) / 1000);
  const away = Math.abs(seconds);
  let text;
  let changesIn;
  if (away < MINUTE) {
    text = `${away} s`;
    changesIn = 1;
  } else {
    const minutes = Math.floor(away / MINUTE);
    text = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
    // Counting down, the minute figure drops once the seconds run past a whole minute;
    // counting up (overdue), it rises a minute after it last did.
    changesIn = seconds > 0 ? (away % MINUTE) + 1 : MINUTE - (away % MINUTE);
  }
  return { text: seconds >= 0 ? `in ${text}` : `${text} overdue`, overdue: seconds < 0, changesIn };
}

const STATUS = { ok: 'On schedule', due: 'Check-in due', missed: 'Missed check-in', acknowledged: 'Missed – being handled', help: 'Asked for help', ended: 'Ended' };

/** The status a card shows: a check-in past its time is overdue even before the alarm. */
export function statusText(status, overdue) {
  if ((status === 'ok' || status === 'due') && overdue) return 'Check-in overdue';
  return STATUS[status] ?? status;
}

let timer = null;

function update() {
  window.clearTimeout(timer);
  timer = null;
  if (document.hidden) return;
  let next = Infinity;
  for (const element of document.querySelectorAll('[data-due]')) {
    const { text, overdue, changesIn } = countdown(element.dataset.due);
    if (element.classList.contains('countdown')) {
      if (element.textContent !== text) element.textContent = text;
    } else if (element.dataset.status) {
      const status = statusText(element.dataset.status, overdue);
      if (element.textContent !== status) element.textContent = status;
    }
    next = Math.min(next, changesIn);
  }
  // How old a location is: it changes once a minute.
  for (const element of document.querySelectorAll('[data-since]')) {
    const text = ageText(element.dataset.since, Date.now() + skew);
    if (element.textContent !== text) element.textContent = text;
    next = Math.min(next, MINUTE - (Math.floor((Date.now() + skew - Date.parse(element.dataset.since)) / 1000) % MINUTE));
  }
  if (next !== Infinity) timer = window.setTimeout(update, next * 1000);
}

/** Keeps countdowns right from now on: after every change to the page, and when shown. */
export function startCountdowns() {
  // Screens replace their content; a countdown that appears (or goes) reschedules the one
  // timer. The observer is called only when the page changes, never on its own.
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => { pending = false; update(); });
  });
  for (const id of ['main', 'alarms']) observer.observe(document.getElementById(id), { childList: true, subtree: true });
  document.addEventListener('visibilitychange', update);
  update();
}
