// "Who may check in by chat": the team room's members, to tick. Those ticked may check in
// from Element (OK, 👍 or HELP), and their phones' shared locations count for the session.

import * as api from '../api.js';
import { h, fill } from '../dom.js';

const LEGEND = 'Who is out on it from the team room: they may check in by chat (OK, 👍 or HELP), and their shared locations show with any alarm';

/**
 * The picker: `load(roomId, ownUserId)` lists that team's members but this account (empty
 * room: hidden); `chosen()` gives the ticked ids.
 */
export function chatMembersPicker() {
  const box = h('fieldset', { class: 'chat-members', hidden: true }, h('legend', {}, LEGEND));
  const load = async (roomId, ownUserId) => {
    fill(box, h('legend', {}, LEGEND));
    if (!roomId) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    try {
      for (const member of await api.teamMembers(roomId)) {
        if (member.userId === ownUserId) continue;
        const id = `chat-${member.userId.replace(/[^a-zA-Z0-9]/g, '')}`;
        box.append(h('div', { class: 'check' },
          h('input', { type: 'checkbox', id, value: member.userId }),
          h('label', { for: id }, h('bdi', {}, member.name), ` (${member.userId})`)));
      }
    } catch (error) {
      box.append(h('p', { class: 'problem' }, error.message));
    }
  };
  const chosen = () => [...box.querySelectorAll('input:checked')].map((input) => input.value);
  return { node: box, load, chosen };
}
