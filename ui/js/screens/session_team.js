// The parts of a session's page that come from its team: where the people out on it last
// were, who shares live location now, and the welfare check ("check in now").

import { h } from '../dom.js';
import { lastLocationLine, shortName } from '../components.js';

const clock = (local) => local.split(', ').pop();

/** Where they last were, and who shares live location now; framed when an alarm is open. */
export function whereabouts(session, alarm) {
  const sharing = session.sharing ?? [];
  return h('div', { class: `whereabouts${alarm ? ' whereabouts-alarm' : ''}` },
    lastLocationLine(session.lastLocation),
    sharing.length
      ? h('p', { class: 'sharing-now' }, 'Sharing live location now: ', sharing.map((person, index) => [
        index ? ', ' : '', h('strong', {}, shortName(person.userId)),
        ` since ${clock(person.sinceLocal)} (until ${clock(person.untilLocal)})`]))
      : h('p', { class: 'sharing-now muted' }, 'Nobody on it is sharing live location now.'));
}

/**
 * "Ask for a check-in now": a reminder to the people out on it in the team room; the
 * check-in then falls due a grace period from now. Says when the last one was answered.
 */
export function welfareCheck(session) {
  const asked = session.welfareCheck;
  return h('section', { class: 'welfare-check', 'aria-labelledby': 'welfare-title' },
    h('h2', { id: 'welfare-title' }, 'Check on them now'),
    asked ? h('p', { class: 'welfare-status' },
      `${asked.askedBy === 'you' ? 'You' : asked.askedBy} asked at ${clock(asked.askedAtLocal)}. `,
      asked.answer
        ? h('strong', {}, `Answered at ${clock(asked.answeredAtLocal)}: ${asked.answer}.`)
        : h('strong', {}, 'Not answered yet.')) : null,
    h('p', { class: 'muted' }, 'Posts a reminder in the team room that mentions the people out on it. Their next check-in is then due within the grace period, and the alarm follows if nobody answers.'),
    h('button', { type: 'button', class: 'button button-secondary', 'data-act': 'ask' }, 'Ask for a check-in now'));
}

/**
 * A silent alarm: someone out on it used the duress word or PIN. What they sent looked
 * normal, so nothing here may go back to the room; the page says what to do instead.
 */
export function duressPanel(session, quiet) {
  const { duress } = session;
  const how = duress.how === 'pin' ? 'entered their duress PIN' : 'checked in from chat with the team’s duress word';
  return h('div', { class: 'missed-panel duress-panel', id: 'duress-panel', role: quiet ? null : 'alert' },
    h('p', { class: 'missed-who' }, `Silent alarm: ${duress.byName}`),
    h('p', {}, `At ${clock(duress.atLocal)} ${duress.byName} ${how}. They may be with someone and unable to speak freely.`),
    h('p', {}, 'What they sent looked normal to anyone watching: do not reply in the team room or say anything that gives this away. If you think they are in danger, call 999.'),
    h('button', { type: 'button', class: 'button', 'data-act': 'acknowledge-duress' }, 'I’m dealing with it'));
}
