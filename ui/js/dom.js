// Building the page. Text is only ever added as text nodes, never parsed as HTML, so user
// and content text cannot become markup or script. (A test checks that nothing in ui/
// parses strings as HTML.)

/**
 * Creates an element. `attrs` values: strings set attributes, `true` sets an empty one,
 * null/false/undefined skip it, functions under `on<event>` become listeners.
 * Children may be nodes, strings, numbers, arrays, or null (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attrs);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Same as h(), for SVG diagrams. */
export function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attrs);
  append(element, children);
  return element;
}

function setAttributes(element, attrs) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `element` holds, skipping null and false as `h` does. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A slot where an error about `field` is shown, next to that field. */
export function errorSlot(field, scope = '') {
  // A form's general slot is tied to no field, and a screen may hold several forms: it gets
  // an id only when scoped, so no two elements share one.
  const id = field === 'general' && !scope ? null : `error-${scope}${field}`;
  return h('p', { class: 'field-error', 'data-error-for': field, id, hidden: true });
}

/**
 * A labelled form field: the control gets its id and name from `name`, and is described by
 * its hint and its error slot, so screen readers read both with it. `scope` keeps ids apart
 * when several forms on one screen have a field of the same name.
 */
export function field(name, label, control, hint, scope = '') {
  const key = `${scope}${name}`;
  control.id = `f-${key}`;
  control.name = name;
  control.setAttribute('aria-describedby', `error-${key}${hint ? ` hint-${key}` : ''}`);
  return h('div', { class: 'field' },
    h('label', { for: control.id }, label),
    hint ? h('p', { class: 'hint', id: `hint-${key}` }, hint) : null,
    control, errorSlot(name, scope));
}

/**
 * Shows an API error next to its field inside `container`; when it names no field shown
 * there, in the container's general slot, or else its first error slot.
 */
export function showError(container, error) {
  clearErrors(container);
  const slot =
    (error.field && container.querySelector(`[data-error-for="${CSS.escape(error.field)}"]`)) ||
    container.querySelector('[data-error-for="general"]') ||
    container.querySelector('.field-error');
  if (!slot) {
    announce(error.message);
    return;
  }
  slot.textContent = error.message;
  slot.hidden = false;
  slot.setAttribute('role', 'alert');
}

export function clearErrors(container) {
  for (const slot of container.querySelectorAll('.field-error')) {
    slot.textContent = '';
    slot.hidden = true;
    slot.removeAttribute('role');
  }
}

/**
 * `refresh` made to run one at a time, in order: a call while one runs makes it run once
 * more afterwards. Two refreshes in flight could otherwise finish out of order (a loaded
 * machine), leaving the screen on the older answer with nothing left to correct it.
 * `merge` combines the arguments of calls that came while one ran (default: the last).
 */
export function oneAtATime(refresh, merge = (_, latest) => latest) {
  let running = false;
  let pending = null;
  const run = async (...args) => {
    if (running) {
      pending = pending ? [merge(pending[0], args[0])] : [args[0]];
      return;
    }
    running = true;
    let next = args;
    try {
      while (next) {
        try {
          await refresh(...next);
        } catch (error) {
          console.error(error);
        }
        next = pending;
        pending = null;
      }
    } finally {
      running = false;
    }
  };
  return run;
}

/** Says something to screen readers without moving focus. */
export function announce(message) {
  const announcer = document.getElementById('announcer');
  if (!announcer) return;
  announcer.textContent = '';
  // A fresh text node after clearing makes screen readers repeat identical messages.
  window.setTimeout(() => { announcer.textContent = message; }, 50);
}

/**
 * Text as it is, with characters that would reorder it on screen written out: a file named
 * "photo\u202Egpj.exe" (from an older pack) shows its U+202E instead of "photoexe.jpg".
 */
export function plainly(text) {
  return String(text ?? '').replace(/[\u202A-\u202E\u2066-\u2069]/g,
    (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

// Letters written right to left: Hebrew to Mandaic and the Arabic extensions, their
// presentation forms, and the right-to-left scripts beyond the first plane.
const RIGHT_TO_LEFT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/**
 * A name set apart for direction inside a sentence, as the backend's `bidi::isolated` does:
 * a name in Arabic or Hebrew then cannot pull the words or the next name beside it round.
 * Left-to-right text is returned as it is.
 */
export function isolated(text) {
  const value = String(text ?? '');
  return RIGHT_TO_LEFT.test(value) ? `\u2068${value.replace(/[\u202A-\u202E\u2066-\u2069]/g, '')}\u2069` : value;
}

/**
 * After an action whose answer redraws the screen: if the redraw takes the focused button
 * away, focus goes to `target()` (the session's card or heading), or else the screen's
 * heading; never the page body, where a keyboard user is lost. Looks for 2 seconds only.
 */
export function holdFocus(target) {
  const started = performance.now();
  const check = () => {
    const focused = document.activeElement;
    if (!focused || focused === document.body) {
      (target() ?? document.querySelector('main h1'))?.focus();
      return;
    }
    if (performance.now() - started < 2000) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

/** Where focus goes in session `sessionId`'s card once its button went: the next check-in,
 * or the card's title; null when no card for it is on the screen. */
export function sessionFocus(sessionId) {
  const card = document.querySelector(`main [data-session-id="${sessionId}"]`);
  return card?.querySelector('button[data-act="check-in"]') ?? card?.querySelector('.card-title a') ?? null;
}
