use super::args::Arg;
use std::path::PathBuf;

use serde::Serialize;
use tauri::ipc::{InvokeBody, Request};
use tauri::{Manager, Runtime, State};

use crate::changes::Changed;
use crate::error::IpcError;
use crate::incidents::attachments::AttachmentStore;
use crate::incidents::chain::{self, VerifyReport};
use crate::incidents::find::{self, KnownPerson, ListPage, ListQuery};
use crate::incidents::head;
use crate::incidents::import::{self, ImportSummary};
use crate::incidents::model::{self, IncidentInput, Vocabulary};
use crate::incidents::pack::{self, ExportSummary, Selection};
use crate::incidents::{self, invalid, IncidentDetail};
use crate::state::AppState;

/// The attachments, sealed with the record's key: there only once the record is open.
fn files(state: &AppState) -> Result<AttachmentStore, crate::storage::StorageError> {
    Ok(AttachmentStore::new(
        &state.data_dir,
        state.database()?.key(),
    ))
}

#[tauri::command(async)]
pub fn incidents_vocabulary() -> Vocabulary {
    model::vocabulary()
}

#[tauri::command(async)]
pub fn incidents_list(
    state: State<'_, AppState>,
    query: Arg<ListQuery>,
) -> Result<ListPage, IpcError> {
    Ok(find::list(&state.database()?.reader(), &query)?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn incidents_detail(
    state: State<'_, AppState>,
    incident_id: Arg<String>,
) -> Result<IncidentDetail, IpcError> {
    Ok(incidents::detail(
        &state.database()?.reader(),
        &incident_id,
    )?)
}

#[tauri::command(async)]
pub fn incidents_record(
    state: State<'_, AppState>,
    incident: Arg<IncidentInput>,
) -> Result<IncidentDetail, IpcError> {
    let database = state.database()?;
    let id = incidents::record(&mut database.conn(), &incident, state.clock.now())?;
    state.changes.announce(Changed::Record);
    Ok(incidents::detail(&database.conn(), &id)?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn incidents_amend(
    state: State<'_, AppState>,
    incident_id: Arg<String>,
    incident: Arg<IncidentInput>,
    reason: Arg<String>,
) -> Result<IncidentDetail, IpcError> {
    let database = state.database()?;
    incidents::amend(
        &mut database.conn(),
        &incident_id,
        &incident,
        &reason,
        state.clock.now(),
    )?;
    state.changes.announce(Changed::Record);
    Ok(incidents::detail(&database.conn(), &incident_id)?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn incidents_withdraw(
    state: State<'_, AppState>,
    incident_id: Arg<String>,
    reason: Arg<String>,
) -> Result<IncidentDetail, IpcError> {
    let database = state.database()?;
    incidents::withdraw(
        &mut database.conn(),
        &incident_id,
        &reason,
        state.clock.now(),
    )?;
    state.changes.announce(Changed::Record);
    Ok(incidents::detail(&database.conn(), &incident_id)?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn incidents_erase(
    state: State<'_, AppState>,
    incident_id: Arg<String>,
    reason: Arg<String>,
    confirmation: Arg<String>,
) -> Result<IncidentDetail, IpcError> {
    let database = state.database()?;
    incidents::erase(
        &mut database.conn(),
        &files(&state)?,
        &incident_id,
        &reason,
        &confirmation,
        state.clock.now(),
    )?;
    state.changes.announce(Changed::Record);
    Ok(incidents::detail(&database.conn(), &incident_id)?)
}

fn header(request: &Request<'_>, name: &str) -> Option<String> {
    let raw = request.headers().get(name)?.to_str().ok()?;
    // The window percent-encodes values (file names are rarely ASCII-only).
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
}

/// A file picked in the window, sent as the raw request body, with the incident and the
/// file's name in `incident-id` and `file-name` headers.
#[tauri::command(async)]
pub fn incidents_attach(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<IncidentDetail, IpcError> {
    let incident_id = header(&request, "incident-id")
        .ok_or_else(|| invalid("incidentId", "Choose the incident to add the file to."))?;
    let name = header(&request, "file-name").unwrap_or_default();
    let bytes: Vec<u8> = match request.body() {
        InvokeBody::Raw(bytes) => bytes.clone(),
        // Where the webview can only post JSON, bytes arrive as an array of numbers.
        InvokeBody::Json(value) => serde_json::from_value(value.clone())
            .map_err(|_| invalid("file", "File: the file could not be read."))?,
    };
    let database = state.database()?;
    incidents::check_attachable(&database.reader(), &incident_id, &name)?;
    let files = files(&state)?;
    let stored = files.store_bytes(&bytes)?;
    let sha256 = stored.sha256.clone();
    let mut conn = database.conn();
    if let Err(error) = incidents::attach(&mut conn, &incident_id, stored, &name, state.clock.now())
    {
        incidents::discard_unattached(&conn, &files, &sha256);
        return Err(error.into());
    }
    let detail = incidents::detail(&conn, &incident_id)?;
    // The database is free again before the relay reads it for the record's head.
    drop(conn);
    state.changes.announce(Changed::Record);
    Ok(detail)
}

#[tauri::command(async)]
pub fn incidents_people(state: State<'_, AppState>) -> Result<Vec<KnownPerson>, IpcError> {
    Ok(find::people(&state.database()?.reader())?)
}

#[derive(Debug, Serialize)]
pub struct PersonView {
    person: KnownPerson,
    incidents: ListPage,
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn incidents_person(
    state: State<'_, AppState>,
    person_id: Arg<String>,
) -> Result<PersonView, IpcError> {
    let conn = state.database()?.reader();
    let person = find::person(&conn, &person_id)?;
    let query = ListQuery {
        person_id: Some(person_id.0),
        status: Some("all".into()),
        limit: Some(500),
        ..ListQuery::default()
    };
    Ok(PersonView {
        person,
        incidents: find::list(&conn, &query)?,
    })
}

#[tauri::command]
pub async fn incidents_verify(state: State<'_, AppState>) -> Result<VerifyReport, IpcError> {
    let database = state.database()?.clone();
    let files = files(&state)?;
    let now = state.clock.now();
    // The heads the team rooms hold on the server: a witness the record cannot change.
    let signer =
        head::own_signer(&database.reader()).map_err(crate::storage::StorageError::from)?;
    let from_rooms = match (signer, state.team()) {
        (Some(signer), Ok(team)) => Some(team.heads_in_team_rooms(&signer).await),
        _ => None,
    };
    // A thread and a connection of its own: a check over a large log must not hold up
    // check-ins.
    let report = tauri::async_runtime::spawn_blocking(move || {
        let storage = crate::storage::StorageError::from;
        let conn = database.open_reader()?;
        let mut report = chain::verify_all(&conn, &files).map_err(storage)?;
        report.head = Some(head::record_head(&conn, now).map_err(storage)?);
        let (heads, witnesses) = match &from_rooms {
            Some(Ok(found)) if found.rooms > 0 => (
                found.heads.as_slice(),
                Some(if found.rooms_read == found.rooms {
                    format!("Compared with the heads your team rooms hold on the server ({} found) and those this device kept.", found.heads.len())
                } else {
                    format!("{} of your {} team rooms could be read from the server; the others were compared from the heads this device kept.", found.rooms_read, found.rooms)
                }),
            ),
            Some(Err(error)) => (
                &[][..],
                Some(format!("Your team rooms could not be read ({error}): compared with the heads this device kept only. Check again once the team server is reachable.")),
            ),
            _ => (&[][..], None),
        };
        // Heads of this record that a team saw: a history rewritten since no longer gives them.
        report.head_problems =
            crate::relay::witness::rewritten_record_with(&conn, heads).map_err(storage)?;
        report.witnesses = witnesses;
        Ok::<VerifyReport, crate::storage::StorageError>(report)
    })
    .await
    .map_err(|error| crate::storage::StorageError::Unavailable(format!("the check stopped: {error}")))??;
    if !report.problems.is_empty() || !report.head_problems.is_empty() {
        tracing::warn!(
            problems = report.problems.len(),
            "incident log check found problems"
        );
    }
    Ok(report)
}

/// Where packs go unless the user types another folder: Documents, else home.
#[tauri::command(async)]
pub fn incidents_export_folder<R: Runtime>(app: tauri::AppHandle<R>) -> String {
    let paths = app.path();
    paths
        .document_dir()
        .or_else(|_| paths.home_dir())
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[tauri::command(async)]
pub fn incidents_export(
    state: State<'_, AppState>,
    selection: Arg<Selection>,
    folder: Arg<String>,
) -> Result<ExportSummary, IpcError> {
    let folder = folder.trim();
    if folder.is_empty() {
        return Err(invalid("folder", "Save to: type the folder the pack should go in.").into());
    }
    let conn = state.database()?.open_reader()?;
    Ok(pack::export(
        &conn,
        &files(&state)?,
        &selection,
        &PathBuf::from(folder),
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn incidents_import(
    state: State<'_, AppState>,
    path: Arg<String>,
) -> Result<ImportSummary, IpcError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(invalid(
            "file",
            "Import: type the pack's folder or its incidents.json.",
        )
        .into());
    }
    let database = state.database()?;
    let summary = import::import(
        database,
        &files(&state)?,
        &PathBuf::from(path),
        state.clock.now(),
    )?;
    state.changes.announce(Changed::Record);
    Ok(summary)
}
