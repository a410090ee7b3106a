// Every call to the backend goes through here. Failures always become an ApiError with
// { code, message, field }, the shape every command returns.

export class ApiError extends Error {
  constructor({ code = 'internal', message = 'Something went wrong.', field = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;
  }
}

// Tauri's own bridge, as its @tauri-apps/api package calls it. The app does not ask Tauri
// to inject that package's 41 KB global build (withGlobalTauri) into the page before its
// first line is read: invoke and listen are all the app uses of it.
const tauri = () => window.__TAURI_INTERNALS__;

async function call(command, args = {}, options = undefined) {
  const bridge = tauri();
  if (typeof bridge?.invoke !== 'function') {
    throw new ApiError({
      code: 'no_backend',
      message: 'Campaign Safe’s background service is not available. Close the app and open it again.',
    });
  }
  try {
    return await bridge.invoke(command, args, options);
  } catch (error) {
    if (error && typeof error === 'object' && typeof error.message === 'string') {
      throw new ApiError(error);
    }
    throw new ApiError({ message: String(error) });
  }
}

export const appStatus = () => call('app_status');
export const firstScreenDrawn = () => call('app_first_screen_drawn');
export const backupStatus = () => call('backup_status');
export const backupWrite = (folder, passphrase, passphraseAgain) =>
  call('backup_write', { folder, passphrase, passphraseAgain });
export const backupRestore = (path, passphrase) => call('backup_restore', { path, passphrase });
export const lockStatus = () => call('lock_status');
export const lockNow = () => call('lock_now');
export const lockUnlock = (pin) => call('lock_unlock', { pin });
export const lockSetPin = (pin, pinAgain) => call('lock_set_pin', { pin, pinAgain });
export const lockSetDuressPin = (duressPin, duressPinAgain) => call('lock_set_duress_pin', { duressPin, duressPinAgain });
export const lockSetIdle = (idleMinutes) => call('lock_set_idle', { idleMinutes });
export const keepKeyUnderPassphrase = (passphrase, passphraseAgain) =>
  call('keep_key_under_passphrase', { passphrase, passphraseAgain });
export const unlockRecord = (passphrase, passphraseAgain) =>
  call('unlock_record', { passphrase, passphraseAgain });
export const timeZone = () => call('settings_time_zone');
export const setTimeZone = (choice) => call('settings_set_time_zone', { choice });
export const locationDays = () => call('settings_location_days');
export const setLocationDays = (locationDays) => call('settings_set_location_days', { locationDays });

export const adviceList = () => call('advice_list');
export const adviceSection = (sectionId) => call('advice_section', { sectionId });
export const adviceSetTick = (sectionId, itemId, done) =>
  call('advice_set_tick', { sectionId, itemId, done });

export const sosGuides = () => call('sos_guides');
export const sosResolve = (model) => call('sos_resolve', { model });
export const sosGuide = (guideId) => call('sos_guide', { guideId });
export const sosSetTick = (guideId, itemId, done) => call('sos_set_tick', { guideId, itemId, done });
export const sosDevices = () => call('sos_devices');
export const sosAddDevice = (model) => call('sos_add_device', { model });
export const sosRemoveDevice = (deviceId) => call('sos_remove_device', { deviceId });

export const contactsList = () => call('contacts_list');
export const contactsSave = (role, name, phone, notes) => call('contacts_save', { role, name, phone, notes });
export const contactsClear = (role) => call('contacts_clear', { role });

export const emergencyInfo = () => call('emergency_info');

export const checkinsActive = () => call('checkins_active');
export const checkinsDetail = (sessionId) => call('checkins_detail', { sessionId });
export const checkinsStart = (session) => call('checkins_start', { session });
/** `pin` only counts on the lock screen once a duress PIN is set. */
export const checkinsCheckIn = (sessionId, pin) => call('checkins_check_in', { sessionId, pin: pin ?? null });
export const checkinsExtend = (sessionId, minutes) => call('checkins_extend', { sessionId, minutes });
export const checkinsEnd = (sessionId) => call('checkins_end', { sessionId });
export const checkinsAcknowledge = (sessionId) => call('checkins_acknowledge', { sessionId });
export const checkinsAsk = (sessionId) => call('checkins_ask', { sessionId });
export const checkinsAcknowledgeDuress = (sessionId) => call('checkins_acknowledge_duress', { sessionId });
export const checkinsSnooze = (sessionId) => call('checkins_snooze', { sessionId });
export const alarmsOpen = () => call('alarms_open');

export const teamStatus = () => call('team_status');
export const teamSignIn = (account) => call('team_sign_in', { account });
export const teamConfirmDevice = (recoveryKey) => call('team_confirm_device', { recoveryKey });
export const teamKeepRecoveryKey = (recoveryKey) => call('team_keep_recovery_key', { recoveryKey });
export const teamConfirmWithKeptKey = () => call('team_confirm_with_kept_key');
export const teamAcknowledgeIdentity = (userId) => call('team_acknowledge_identity', { userId });
export const teamCompareStart = (userId = null, deviceId = null) =>
  call('team_compare_start', { userId, deviceId });
export const teamCompareAccept = () => call('team_compare_accept');
export const teamCompareAnswer = (matched) => call('team_compare_answer', { matched });
export const teamCompareStop = () => call('team_compare_stop');
export const teamCreate = (name) => call('team_create', { name });
export const teamJoin = (invite, name) => call('team_join', { invite, name });
export const teamInvite = (roomId, userId) => call('team_invite', { roomId, userId });
export const teamSetDuressWord = (roomId, duressWord) => call('team_set_duress_word', { roomId, duressWord });
export const teamMembers = (roomId) => call('team_members', { roomId });
export const teamLeave = (roomId) => call('team_leave', { roomId });
export const teamSignOut = () => call('team_sign_out');
export const teamReconnect = () => call('team_reconnect');
export const checkinsShare = (sessionId, roomId, chatMembers) => call('checkins_share', { sessionId, roomId, chatMembers });

export const incidentsVocabulary = () => call('incidents_vocabulary');
export const incidentsList = (query) => call('incidents_list', { query });
export const incidentsDetail = (incidentId) => call('incidents_detail', { incidentId });
export const incidentsRecord = (incident) => call('incidents_record', { incident });
export const incidentsAmend = (incidentId, incident, reason) => call('incidents_amend', { incidentId, incident, reason });
export const incidentsWithdraw = (incidentId, reason) => call('incidents_withdraw', { incidentId, reason });
export const incidentsErase = (incidentId, reason, confirmation) => call('incidents_erase', { incidentId, reason, confirmation });
export const incidentsPeople = () => call('incidents_people');
export const incidentsPerson = (personId) => call('incidents_person', { personId });
export const incidentsVerify = () => call('incidents_verify');
export const incidentsExportFolder = () => call('incidents_export_folder');
export const incidentsExport = (selection, folder) => call('incidents_export', { selection, folder });
export const incidentsImport = (path) => call('incidents_import', { path });

// Native pickers; each resolves to a path, or null when the user closed the dialog.
export const dnkRegister = () => call('dnk_register');
export const dnkAdd = (entry) => call('dnk_add', { entry });
export const dnkKeep = (entryId, reviewOn) => call('dnk_keep', { entryId, reviewOn });
export const dnkRemove = (entryId) => call('dnk_remove', { entryId });
export const dnkPreview = (path, addedBy) => call('dnk_preview', { path, addedBy });
export const dnkImport = (path, addedBy) => call('dnk_import', { path, addedBy });
export const dnkExport = (folder) => call('dnk_export', { folder });
export const dnkForPlace = (place) => call('dnk_for_place', { place });
export const plansChoices = () => call('plans_choices');
export const plansList = () => call('plans_list');
export const plansDetail = (planId) => call('plans_detail', { planId });
export const plansCreate = (plan) => call('plans_create', { plan });
export const plansUpdate = (planId, plan) => call('plans_update', { planId, plan });
export const plansAnswerRisks = (planId, risks) => call('plans_answer_risks', { planId, risks });
export const plansCopy = (planId) => call('plans_copy', { planId });
export const plansDelete = (planId) => call('plans_delete', { planId });
export const plansStart = (planId, roomId) => call('plans_start', { planId, roomId: roomId || null });
export const aftercareDebrief = (sessionId, answers) => call('aftercare_debrief', { sessionId, answers });
export const aftercareDebriefed = (sessionId) => call('aftercare_debriefed', { sessionId });
export const aftercareFollowUps = () => call('aftercare_follow_ups');
export const aftercareComplete = (followUpId) => call('aftercare_complete', { followUpId });
export const aftercareSupport = () => call('aftercare_support');
export const reviewStatus = () => call('review_status');
export const reviewRecord = (review) => call('review_record', { review });
export const reviewSetWeeks = (weeks) => call('review_set_weeks', { weeks });
export const chooseFolder = (purpose, start) => call('choose_folder', { purpose, start: start || null });
export const chooseFile = (purpose, start) => call('choose_file', { purpose, start: start || null });

/** Sends a picked file's bytes as the raw request body; names travel in headers. */
export const incidentsAttach = (incidentId, fileName, bytes) =>
  call('incidents_attach', bytes, {
    headers: { 'incident-id': encodeURIComponent(incidentId), 'file-name': encodeURIComponent(fileName) },
  });

/** Listens for an event from the backend; resolves to a function that stops listening. */
export async function listen(event, handler) {
  const bridge = tauri();
  if (typeof bridge?.invoke !== 'function') return () => {};
  const eventId = await bridge.invoke('plugin:event|listen', {
    event,
    target: { kind: 'Any' },
    handler: bridge.transformCallback((message) => handler(message.payload)),
  });
  return async () => {
    window.__TAURI_EVENT_PLUGIN_INTERNALS__?.unregisterListener(event, eventId);
    await bridge.invoke('plugin:event|unlisten', { event, eventId });
  };
}
