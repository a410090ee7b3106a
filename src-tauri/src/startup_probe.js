// Injected only when CAMPAIGN_SAFE_STARTUP_PROBE is set (benches/startup.rs), in the app and
// in the bare reference window alike. Reports to the program's standard output, through the
// `startup_probe` command, times from the start of navigation: the page's steps (its HTML
// arrived, parsed, DOMContentLoaded) and its performance marks, among them the app's first
// screen drawn (`first-screen`, set by ui/js/app.js; the bare window has none).
(() => {
  const invoke = (moment, ms) => window.__TAURI_INTERNALS__.invoke('startup_probe', { moment, ms });
  // When each stylesheet and preloaded module of the page arrived in it.
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.localName !== 'link') continue;
        const name = node.getAttribute('href').toLowerCase().replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '');
        node.addEventListener('load', () => performance.mark(`arrived-${name}`.slice(0, 35)));
      }
    }
  }).observe(document, { childList: true, subtree: true });
  window.addEventListener('load', () => setTimeout(async () => {
    const [entry] = performance.getEntriesByType('navigation');
    if (entry) {
      await invoke('step-html-arrived', entry.responseEnd);
      await invoke('step-parsed', entry.domInteractive);
    }
    // The first paint, and where the page's clock started (ms since the epoch), so the
    // bench can place the app's own "served" times on the page's clock.
    for (const paint of performance.getEntriesByType('paint')) {
      await invoke(`step-${paint.name}`, paint.startTime);
    }
    await invoke('time-origin', performance.timeOrigin);
    const t = performance.timing;
    invoke('dom-content-loaded', entry ? entry.domContentLoadedEventEnd : t.domContentLoadedEventEnd - t.navigationStart);
  }));
  new PerformanceObserver((marks) => {
    for (const mark of marks.getEntries()) {
      if (mark.name === 'first-screen') invoke('first-screen', mark.startTime);
      else invoke(`step-${mark.name}`, mark.startTime);
    }
  }).observe({ type: 'mark', buffered: true });
})();
