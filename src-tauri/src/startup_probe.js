// Injected only when CAMPAIGN_SAFE_STARTUP_PROBE is set (benches/startup.rs), in the app and
// in the bare reference window alike: reports the page's own DOMContentLoaded time, from the
// start of navigation, to the program's standard output through the `startup_probe` command.
window.addEventListener('load', () => setTimeout(() => {
  const [entry] = performance.getEntriesByType('navigation');
  const t = performance.timing;
  const ms = entry ? entry.domContentLoadedEventEnd : t.domContentLoadedEventEnd - t.navigationStart;
  window.__TAURI_INTERNALS__.invoke('startup_probe', { moment: 'dom-content-loaded', ms });
}));
