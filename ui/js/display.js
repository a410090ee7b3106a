// Light, dark or high contrast. "Automatic" follows the system's settings. The choice is a
// property of this device's screen, so it lives in the webview's storage, not the database.

const KEY = 'campaign-safe.display';

export const DISPLAY_CHOICES = [
  ['auto', 'Automatic (follow the system)'],
  ['light', 'Light'],
  ['dark', 'Dark'],
  ['contrast', 'High contrast'],
];

export function savedDisplay() {
  try {
    return localStorage.getItem(KEY) ?? 'auto';
  } catch {
    return 'auto';
  }
}

export function applyDisplay(choice) {
  const known = DISPLAY_CHOICES.some(([value]) => value === choice);
  if (!known || choice === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function saveDisplay(choice) {
  applyDisplay(choice);
  try {
    localStorage.setItem(KEY, choice);
  } catch {
    // Storage can be unavailable; the choice still applies until the app closes.
  }
}
