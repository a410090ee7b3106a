// The members of a team and their devices, in words that come from the keys alone
// (issue 24): who is confirmed, who is verified, who this device's messages leave out and
// why, and a way to verify a teammate by comparing numbers.

import { h, isolated } from '../dom.js';
import { compareWithTeammate } from './team_compare.js';

/**
 * The members list. `deviceConfirmed`: this device is confirmed, so (as Element X does) it
 * sends the team's keys only to devices their owners confirmed.
 */
export function memberList(members, deviceConfirmed) {
  return [
    leftOut(members, deviceConfirmed),
    h('ul', { class: 'member-list' }, members.map((member) => h('li', {},
      // dir=auto: a name in a right-to-left script keeps to itself, and the id beside it reads as typed.
      h('strong', { dir: 'auto' }, member.name), ' ', h('span', { class: 'path' }, member.userId),
      personTrust(member),
      member.devices.length ? h('ul', {}, member.devices.map((device) => deviceLine(member, device))) : null))),
  ];
}

/** Who this device's team messages do not reach, and why, before the full list. */
function leftOut(members, deviceConfirmed) {
  if (deviceConfirmed !== true) {
    return deviceConfirmed === false
      ? h('p', { class: 'note' }, 'This device is not confirmed, so it still sends its messages to every device here, so that an alarm always goes out; but Element shows none of them until you confirm it.')
      : null;
  }
  const missed = [];
  for (const member of members) {
    if (!member.hasIdentity) {
      missed.push(`${isolated(member.name)}: has not set up cross-signing, so none of their devices gets anything`);
      continue;
    }
    const unconfirmed = member.devices.filter((device) => !device.confirmedByOwner && !device.thisDevice);
    if (unconfirmed.length) {
      const names = unconfirmed.map((device) => `“${isolated(device.name || 'Unnamed device')}”`).join(', ');
      missed.push(`${member.isYou ? 'your' : `${isolated(member.name)}’s`} ${names}: not confirmed by ${member.isYou ? 'you' : isolated(member.name)}`);
    }
  }
  if (!missed.length) return h('p', { class: 'ok left-out' }, 'Every device here gets this device’s team messages.');
  return h('div', { class: 'note note-warning left-out' },
    h('p', {}, h('strong', {}, 'Left out of this device’s team messages:')),
    h('ul', {}, missed.map((line) => h('li', {}, line))),
    h('p', {}, 'They can confirm a device in Element (Settings › Sessions, or with their recovery key), or set up recovery there if they have none.'));
}

// What the keys say about a person, in words (issue 24): never a guess from the app.
function personTrust(member) {
  if (!member.hasIdentity) {
    return h('p', { class: 'note note-warning' }, member.isYou
      ? 'You have not set up cross-signing: Element users will not send messages to your devices. Set up recovery in Element (Settings › Encryption).'
      : 'Has not set up cross-signing, so confirmed devices (in Element and in Campaign Safe) send them no team messages. They need to set up recovery in Element (Settings › Encryption).');
  }
  if (member.isYou) return h('p', {}, 'You');
  return member.youVerified
    ? h('p', { class: 'ok' }, 'You have verified this person.')
    : h('p', { class: 'muted' }, 'You have not verified this person.');
}

function deviceLine(member, device) {
  // A teammate not yet verified can be, with any of their sessions.
  const verify = !member.isYou && member.hasIdentity && !member.youVerified ? compareWithTeammate(member, device) : null;
  return h('li', {},
    `${device.name || 'Unnamed device'}${device.thisDevice ? ' (this device)' : ''}: `,
    h('span', { class: device.confirmedByOwner ? 'ok' : 'muted' },
      device.confirmedByOwner ? 'confirmed by its owner' : 'not confirmed by its owner, so confirmed devices send it no team messages'),
    h('details', { class: 'device-id' }, h('summary', {}, 'Details'),
      h('p', {}, 'Device ID: ', h('code', {}, device.deviceId))),
    verify);
}
