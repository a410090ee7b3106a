// The shell: routing between screens, the always-visible Emergency button, the display
// setting, and the start-up problems banner.

import * as api from './api.js';
import { h } from './dom.js';
import { applyDisplay, savedDisplay } from './display.js';
import { startAlarms } from './alarms.js';
import { startCountdowns } from './countdowns.js';
import { setZone } from './when.js';

// Each screen's module is loaded when it is first opened, so the first window is not kept
// waiting for screens nobody has asked for yet. Emergency is fetched straight after the
// first screen is drawn, so it never waits on a slow disk when it is needed.
const screens = {
  today: () => import('./screens/today.js'),
  checkins: () => import('./screens/checkins.js'),
  incidents: () => import('./screens/incidents.js'),
  sos: () => import('./screens/sos.js'),
  advice: () => import('./screens/advice.js'),
  emergency: () => import('./screens/emergency.js'),
  contacts: () => import('./screens/contacts.js'),
  team: () => import('./screens/team.js'),
  backup: () => import('./screens/backup.js'),
  'do-not-knock': () => import('./screens/do_not_knock.js'),
  plans: () => import('./screens/plans.js'),
  review: () => import('./screens/review.js'),
};
// Screens reached from another one, and the navigation entry they belong under.
const parentScreen = { contacts: 'emergency', team: 'checkins', backup: 'today', 'do-not-knock': 'checkins', plans: 'checkins', review: 'today' };

const main = document.getElementById('main');
// The app lock's module, loaded beside the first screen (ui/js/lock.js).
let lock = null;
let renderCount = 0;
let firstRender = true;
// A form being filled in when the lock falls: taken out of the page (so nothing of it shows
// or is read out while locked) and kept here, in memory only, never saved; put back, as it
// was, when the same screen is shown unlocked.
let keptWhileLocked = null;

/** Whether anything in `node`'s forms was typed, picked or ticked since it was drawn. */
function hasTyping(node) {
  for (const input of node.querySelectorAll('input, textarea, select')) {
    if (input.type === 'checkbox' || input.type === 'radio') {
      if (input.checked !== input.defaultChecked) return true;
    } else if (input.tagName === 'SELECT') {
      if ([...input.options].some((option) => option.selected !== option.defaultSelected)) return true;
    } else if (input.value !== input.defaultValue) {
      return true;
    }
  }
  return false;
}

/** Before the lock screen is drawn: keep the half-filled form, if there is one. */
function keepTypingWhileLocked() {
  const shown = main.firstElementChild;
  if (keptWhileLocked || !shown || main.dataset.hash !== location.hash || !hasTyping(shown)) return;
  const focused = main.contains(document.activeElement) ? document.activeElement : null;
  keptWhileLocked = { hash: location.hash, node: shown, title: document.title, focused };
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [name = 'today', ...params] = parts;
  return { name, params };
}

async function route({ keepFocus = false } = {}) {
  const { name, params } = parseHash();
  const known = Object.hasOwn(screens, name);
  const thisRender = ++renderCount;
  markCurrent(known ? (parentScreen[name] ?? name) : 'today');

  let view;
  try {
    if (lock?.isLocked() && !lock.OPEN_WHILE_LOCKED.includes(name)) {
      keepTypingWhileLocked();
      view = await lock.lockScreen({ formKept: keptWhileLocked !== null });
    } else if (keptWhileLocked?.hash === location.hash) {
      // Unlocked on the screen that was being filled in: the form comes back as it was.
      const kept = keptWhileLocked;
      keptWhileLocked = null;
      if (thisRender !== renderCount) return;
      main.replaceChildren(kept.node);
      document.title = kept.title;
      main.dataset.screen = known ? name : 'today';
      main.dataset.hash = location.hash;
      (kept.focused?.isConnected ? kept.focused : main.querySelector('h1') ?? main).focus();
      firstRender = false;
      return;
    } else {
      const screen = await screens[known ? name : 'today']();
      view = await screen.render(params);
    }
  } catch (error) {
    // Locked meanwhile (the idle time ran out elsewhere): the lock screen follows.
    if (error?.code === 'app_locked') lock?.lockedElsewhere();
    view = {
      title: 'Something went wrong',
      node: h('section', {},
        h('h1', { tabindex: '-1' }, 'Something went wrong'),
        h('p', { class: 'problem', role: 'alert' }, error.message ?? String(error)),
        h('p', {}, h('a', { href: '#/today' }, 'Back to Today'))),
    };
  }
  // A slower, older render must not replace the screen the user has since moved to.
  if (thisRender !== renderCount) return;

  main.replaceChildren(view.node);
  document.title = `${view.title} – Campaign Safe`;
  main.dataset.screen = known ? name : 'today';
  main.dataset.hash = location.hash;
  // After the first screen, move focus to the new heading so keyboard and screen-reader
  // users start at the top of what changed. On launch, leave focus alone so the first Tab
  // lands on Emergency.
  if (!firstRender && !keepFocus) {
    (main.querySelector('h1') ?? main).focus();
  }
  if (firstRender) {
    // For the start-up benchmark (benches/startup.rs), which times the first screen drawn.
    performance.mark('first-screen');
    screens.emergency().catch(() => {});
    // Start-up is over: the backend hands back the memory only it needed.
    api.firstScreenDrawn().catch(() => {});
  }
  firstRender = false;
}

function markCurrent(name) {
  for (const link of document.querySelectorAll('.mainnav a')) {
    if (link.dataset.screen === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const emergencyButton = document.getElementById('emergency-button');
  if (name === 'emergency') emergencyButton.setAttribute('aria-current', 'page');
  else emergencyButton.removeAttribute('aria-current');
}

function goToEmergency() {
  if (location.hash === '#/emergency') {
    main.querySelector('h1')?.focus();
  } else {
    location.hash = '#/emergency';
  }
}

// Alt+E opens Emergency from anywhere, even while typing in a form.
document.addEventListener('keydown', (event) => {
  if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === 'e' || event.key === 'E' || event.code === 'KeyE')) {
    event.preventDefault();
    goToEmergency();
  }
});

// The top bar (and, on phones, the alarms under it) sticks to the top and, on phones, the navigation is
// fixed to the bottom. The browser's own scroll-to-focus can leave a field half under
// them, so a keyboard user would lose sight of it (WCAG 2.4.11): bring it clear.
// `focus` is caught on the way down because WebKit sends no `focusin` for date fields.
document.addEventListener('focus', (event) => {
  const target = event.target;
  if (!(target instanceof Element) || target.closest('.topbar, .mainnav, .alarms')) return;
  const rect = target.getBoundingClientRect();
  let top = 0;
  for (const bar of document.querySelectorAll('.topbar, .alarms:not([hidden])')) {
    if (getComputedStyle(bar).position === 'sticky') top = Math.max(top, bar.getBoundingClientRect().bottom);
  }
  const nav = document.querySelector('.mainnav')?.getBoundingClientRect();
  const navAlongBottom = nav && nav.width >= window.innerWidth - 1 && nav.bottom >= window.innerHeight - 1;
  const bottom = navAlongBottom ? nav.top : window.innerHeight;
  if (rect.top < top || rect.bottom > bottom) target.scrollIntoView({ block: 'center' });
}, true);

document.getElementById('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  (main.querySelector('h1') ?? main).focus();
});

/** Says what is not working at start; resolves to the app's status (null if not known). */
async function showStartupProblems() {
  const box = document.getElementById('problems');
  let problems = [];
  let status = null;
  try {
    status = await api.appStatus();
    if (status.upgrading) {
      problems.push(h('div', { class: 'banner banner-progress', role: 'status', id: 'upgrading' },
        h('strong', {}, 'Upgrading your record for this version of Campaign Safe. '),
        'This can take a minute with a long incident log. Nothing is lost, and the Emergency screen works meanwhile. ',
        h('progress', { 'aria-label': 'Upgrading your record' })));
    }
    if (status.passphrase) {
      const { unlockPanel } = await import('./unlock.js');
      problems.push(unlockPanel(status.passphrase));
    }
    if (status.storageProblem) {
      problems.push(h('div', { class: 'banner banner-problem', role: 'alert' },
        h('strong', {}, 'Your saved data cannot be used right now. '),
        status.storageProblem,
        ' Advice and the Emergency screen still work, but nothing new can be saved. ',
        'Data folder: ', h('code', {}, status.dataDir)));
    }
    if (status.contentProblem) {
      problems.push(h('div', { class: 'banner banner-problem', role: 'alert' },
        h('strong', {}, 'Some built-in guidance could not be loaded. '), status.contentProblem));
    }
  } catch (error) {
    problems = [h('div', { class: 'banner banner-problem', role: 'alert' }, error.message)];
  }
  box.replaceChildren(...problems);
  return status;
}

api.listen('open-session', (sessionId) => { location.hash = `#/checkins/${sessionId}`; });
api.listen('open-team', () => { location.hash = '#/team'; });
// The window comes up while the record's key is read and the record opens behind it. The
// first screen waits for the record (tens of milliseconds on a normal start), so nothing is
// drawn from a record that is not open yet, nor before the PIN lock is known.
let firstScreenDrawn = false;
let recordOpened;
const recordOpen = new Promise((resolve) => { recordOpened = resolve; });
// The record finished opening (or upgrading) behind the window: drop the notice and draw the
// screen again with the saved data, leaving focus where it is. A form being filled in is
// left as it is: it saves normally now.
const listening = Promise.all([
  api.listen('record-ready', async () => {
    recordOpened();
    if (!firstScreenDrawn) return; // drawFirstScreen does the rest
    await showStartupProblems();
    await lock?.refreshLock();
    try {
      setZone((await api.timeZone()).zone);
    } catch {
      // UK time stays.
    }
    if (!/\/(new|edit)$/.test(location.hash)) route({ keepFocus: true });
  }),
  // The record will not open at once: it waits for its passphrase, cannot be opened, or is
  // upgraded first. The first screen stops waiting and the banner says which.
  api.listen('record-status', () => {
    recordOpened();
    if (firstScreenDrawn) showStartupProblems();
  }),
]);

async function drawFirstScreen() {
  // The listener and the status are asked for together, one wait instead of two. Should the
  // record open between the two answers, its event can come before the listener is in place:
  // asked again once it is, the status then says the record is open.
  let [, status] = await Promise.all([listening.catch(() => {}), showStartupProblems()]);
  // The first screen's steps, for the start-up benchmark's trace (benches/startup.rs).
  performance.mark('status-known');
  if (status?.opening) status = await showStartupProblems();
  if (status?.opening) {
    // Said only if opening is slow (a large record on a slow disk), so it never flickers.
    const slow = setTimeout(() => main.replaceChildren(h('p', { class: 'opening', role: 'status', id: 'opening' },
      'Opening your record…')), 500);
    await recordOpen;
    clearTimeout(slow);
    // Opening may have failed: the banner says why.
    await showStartupProblems();
    performance.mark('record-open');
  }
  // Times are drawn in the zone the user chose (UK time unless they chose the device's), so
  // the first screen waits for that one answer.
  // The lock's state too: with a PIN set the app starts locked, and nothing of the record is
  // drawn before the lock screen.
  await Promise.all([
    api.timeZone().then((tz) => setZone(tz.zone), () => {}),
    import('./lock.js').then(async (module) => {
      await module.startLock(() => route());
      lock = module;
    }, () => {}),
  ]);
  firstScreenDrawn = true;
  performance.mark('lock-known');
  route();
}

applyDisplay(savedDisplay());
window.addEventListener('hashchange', route);
drawFirstScreen();
startAlarms();
startCountdowns();
