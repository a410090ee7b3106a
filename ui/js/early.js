// The first screen's questions, asked the moment the page starts: while the page's other
// modules still load, not in turn after them. Loaded first (index.html), and by api.js,
// which hands these answers out until the first screen is drawn.
//
// Only questions that change nothing, and only for the first screen: an answer is at most
// the page's load time old when it is used, and a screen that follows changes (the session
// cards) reads once more after it starts listening. Alarms are not asked here: they listen
// before they read, so no change can fall between the two.

const FIRST_SCREEN = [
  'app_status', 'lock_status', 'settings_time_zone',
  // Today's (screens/today.js).
  'advice_list', 'backup_status', 'aftercare_follow_ups', 'review_status', 'checkins_active',
];

const answers = new Map();
const bridge = window.__TAURI_INTERNALS__;
if (typeof bridge?.invoke === 'function') {
  for (const command of FIRST_SCREEN) {
    const answer = bridge.invoke(command, {});
    // A refusal (the record still opening, the app locked) is asked again when it is needed.
    answer.catch(() => {});
    answers.set(command, answer);
  }
}

/** The answer to `command` asked at start, or null: none asked, or forgotten since. */
export function earlyAnswer(command) {
  return answers.get(command) ?? null;
}

/**
 * From now on every question is asked afresh: the first screen is drawn, or the record was
 * not open when these were asked.
 */
export function forgetEarlyAnswers() {
  answers.clear();
}
