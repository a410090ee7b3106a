// A simple outline of a phone or watch with the buttons to press picked out and numbered;
// a legend under it says what each number is and what to do with it, in normal-sized text.
// Drawn from the guide's data: { device: 'phone'|'watch', buttons: [{ edge, at, label, action }] }.

import { h, s } from './dom.js';

const isAvoid = (button) => button.action.toLowerCase().startsWith('not');

function drawing(diagram, caption) {
  const phone = diagram.device === 'phone';
  const body = phone ? { x: 60, y: 15, w: 80, h: 200, r: 14 } : { x: 50, y: 65, w: 100, h: 110, r: 26 };
  const parts = [
    s('title', {}, caption),
    !phone && s('rect', { x: body.x + 18, y: 5, width: body.w - 36, height: 230, rx: 10, class: 'dg-strap' }),
    s('rect', { x: body.x, y: body.y, width: body.w, height: body.h, rx: body.r, class: 'dg-body' }),
    s('rect', { x: body.x + 8, y: body.y + 10, width: body.w - 16, height: body.h - 20, rx: body.r - 6, class: 'dg-screen' }),
  ];
  diagram.buttons.forEach((button, index) => {
    const right = button.edge === 'right';
    const y = body.y + button.at * body.h;
    const buttonX = right ? body.x + body.w - 1 : body.x - 7;
    const badgeX = right ? body.x + body.w + 28 : body.x - 28;
    parts.push(
      s('rect', { x: buttonX, y: y - 14, width: 8, height: 28, rx: 3, class: isAvoid(button) ? 'dg-button dg-button-avoid' : 'dg-button' }),
      s('line', { x1: right ? buttonX + 8 : buttonX, y1: y, x2: right ? badgeX - 12 : badgeX + 12, y2: y, class: 'dg-line' }),
      s('circle', { cx: badgeX, cy: y, r: 12, class: isAvoid(button) ? 'dg-badge dg-badge-avoid' : 'dg-badge' }),
      s('text', { x: badgeX, y: y + 5, 'text-anchor': 'middle', class: 'dg-number' }, String(index + 1)));
  });
  return s('svg', { viewBox: '0 0 200 240', class: 'device-diagram', role: 'img', 'aria-label': caption }, parts);
}

export function deviceDiagram(diagram, caption) {
  return h('figure', { class: 'diagram' },
    drawing(diagram, caption),
    h('figcaption', {},
      h('ol', { class: 'diagram-legend' }, diagram.buttons.map((button) =>
        h('li', { class: isAvoid(button) ? 'avoid' : null },
          h('strong', {}, button.label), ': ', button.action)))));
}
