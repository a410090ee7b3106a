// Backup: one file, sealed with a passphrase, that holds the whole record; and restoring one
// into a new, empty record, checked afterwards.

import * as api from '../api.js';
import { h, field, errorSlot, announce, fill } from '../dom.js';
import { pathField, onSubmit } from '../components.js';
import { formatWhen } from '../when.js';

function passwordInput(autocomplete) {
  return h('input', { type: 'password', required: true, spellcheck: 'false', autocapitalize: 'off', autocomplete });
}

function megabytes(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function statusText(status) {
  if (!status) return null;
  if (!status.lastBackupAt) {
    return h('p', { class: status.reminderDue ? 'notice' : 'muted', id: 'backup-last' },
      'No backup has been made of this record yet.');
  }
  return h('p', { class: status.reminderDue ? 'notice' : 'muted', id: 'backup-last' },
    `Last backup: ${formatWhen(status.lastBackupAt)}.`,
    status.incidentsSince ? ` ${status.incidentsSince} incident${status.incidentsSince === 1 ? ' was' : 's were'} recorded or changed since.` : ' Nothing has changed since.');
}

function writeForm(folder) {
  const form = h('form', { class: 'backup-form', novalidate: true, 'aria-labelledby': 'backup-write-title' },
    h('h2', { id: 'backup-write-title' }, 'Make a backup'),
    h('p', {}, 'Everything in one file: incidents with every version, attachments, check-ins, contacts and settings. It is sealed with a passphrase you choose now; without it nobody can read the file, and nobody can recover it if it is lost.'),
    pathField('folder', 'Save to folder', 'A USB stick, or the party’s secure storage: somewhere other than this laptop.', 'Choose folder…', (start) => api.chooseFolder('backupFolder', start)),
    field('passphrase', 'Passphrase for this backup', passwordInput('new-password'), 'At least 10 characters. Write it down and keep it apart from the backup.', 'backup-'),
    field('passphraseAgain', 'Passphrase again', passwordInput('new-password'), null, 'backup-'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button' }, 'Make the backup'),
    h('div', { class: 'backup-result', 'aria-live': 'polite' }));
  form.elements.folder.value = folder ?? '';
  const result = form.querySelector('.backup-result');
  onSubmit(form, async () => {
    fill(result, h('p', { class: 'hint', role: 'status' }, 'Making the backup…'));
    let made;
    try {
      made = await api.backupWrite(form.elements.folder.value, form.elements.passphrase.value, form.elements.passphraseAgain.value);
    } catch (error) {
      fill(result);
      throw error;
    }
    form.elements.passphrase.value = '';
    form.elements.passphraseAgain.value = '';
    fill(result, h('p', { class: 'ok', role: 'status', id: 'backup-made' },
      `Backup made: ${made.incidents} incident${made.incidents === 1 ? '' : 's'} and ${made.attachments} attachment${made.attachments === 1 ? '' : 's'}, ${megabytes(made.bytes)}. `,
      h('span', { class: 'path' }, made.path)));
    announce('Backup made');
    const status = document.getElementById('backup-last');
    if (status) status.replaceWith(statusText({ lastBackupAt: made.createdAt, incidentsSince: 0, reminderDue: false }));
  });
  return form;
}

function restoreForm() {
  const form = h('form', { class: 'restore-form', novalidate: true, 'aria-labelledby': 'backup-restore-title' },
    h('h2', { id: 'backup-restore-title' }, 'Restore a backup'),
    h('p', {}, 'For a new laptop or a fresh install: the backup is restored into an empty record, then every incident and attachment is checked. A record that already holds anything is never overwritten. A team is joined again afterwards.'),
    pathField('file', 'Backup file', 'Its name ends in .csbackup.', 'Choose the backup…', (start) => api.chooseFile('backupToRestore', start)),
    field('passphrase', 'Passphrase of the backup', passwordInput('current-password'), null, 'restore-'),
    errorSlot('general'),
    h('button', { type: 'submit', class: 'button button-secondary' }, 'Restore'),
    h('div', { class: 'restore-result', 'aria-live': 'polite' }));
  const result = form.querySelector('.restore-result');
  onSubmit(form, async () => {
    fill(result, h('p', { class: 'hint', role: 'status' }, 'Checking and restoring…'));
    let restored;
    try {
      restored = await api.backupRestore(form.elements.file.value, form.elements.passphrase.value);
    } catch (error) {
      fill(result);
      throw error;
    }
    form.elements.passphrase.value = '';
    const check = await api.incidentsVerify();
    const clean = check.problems.length === 0;
    fill(result,
      h('p', { class: 'ok', role: 'status', id: 'restore-done' },
        `Restored ${restored.incidents} incident${restored.incidents === 1 ? '' : 's'} and ${restored.attachments} attachment${restored.attachments === 1 ? '' : 's'} from the backup made ${formatWhen(restored.createdAt)}.`),
      h('p', { class: clean ? 'ok' : 'problem', id: 'restore-check' },
        clean
          ? checkedWords(check)
          : `Checked: ${check.problems.length} problem${check.problems.length === 1 ? '' : 's'} found. Open Incidents and run Check the log to see them.`),
      h('p', {}, h('a', { href: '#/incidents' }, 'Go to Incidents')));
    announce('Backup restored');
  });
  return form;
}

export async function render() {
  const [status, folder] = await Promise.all([
    api.backupStatus().catch(() => null),
    api.incidentsExportFolder().catch(() => ''),
  ]);
  const node = h('section', { class: 'backup' },
    h('p', { class: 'back' }, h('a', { href: '#/today' }, '← Today')),
    h('h1', { tabindex: '-1' }, 'Backup'),
    statusText(status),
    writeForm(folder),
    restoreForm());
  return { title: 'Backup', node };
}

/** What checking the restored log found, in words that fit the numbers (none, one, many). */
function checkedWords(check) {
  const { incidentsChecked: incidents, attachmentsChecked: attachments } = check;
  if (incidents === 0) return 'Checked: the backup holds no incidents, so there was nothing to check.';
  const what = incidents === 1 ? 'the one incident' : `all ${incidents} incidents`;
  const files = attachments === 0 ? '' : ` and ${attachments} attachment${attachments === 1 ? '' : 's'}`;
  return `Checked: ${what}${files} ${incidents === 1 && attachments === 0 ? 'is' : 'are'} as recorded.`;
}
