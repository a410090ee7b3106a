//! The party's do-not-knock list in and out as CSV. An import is read in full and checked
//! row by row first; if any row has a problem nothing is imported, and each problem names
//! its row and column.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::Serialize;

use super::{
    check, insert, invalid, list, DoNotKnockError, DoorChange, DoorSink, EntryInput, Source,
};
use crate::incidents::report::{cell, UTF8_BOM};
use crate::input_file::{read_capped, InputFileError};

const MAX_BYTES: u64 = 5 * 1024 * 1024;
const MAX_ROWS: usize = 20_000;
/// Problems shown in an error message; the preview lists them all.
const PROBLEMS_IN_MESSAGE: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    House,
    Street,
    Postcode,
    Reason,
    Note,
    ReviewOn,
}

impl Column {
    fn from_header(header: &str) -> Option<Column> {
        let key: String = header
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        Some(match key.as_str() {
            "house" | "number" | "housenumber" | "name" | "housename" | "housenumberorname"
            | "no" => Column::House,
            "street" | "road" | "streetname" => Column::Street,
            "postcode" | "postalcode" => Column::Postcode,
            "reason" => Column::Reason,
            "note" | "notes" | "comment" | "comments" => Column::Note,
            "reviewon" | "reviewdate" | "review" => Column::ReviewOn,
            _ => return None,
        })
    }

    /// The column as the form labels the field.
    fn label(self) -> &'static str {
        match self {
            Column::House => "House number or name",
            Column::Street => "Street",
            Column::Postcode => "Postcode",
            Column::Reason => "Reason",
            Column::Note => "Note",
            Column::ReviewOn => "Review on",
        }
    }

    fn of_field(field: &str) -> Option<Column> {
        Some(match field {
            "house" => Column::House,
            "street" => Column::Street,
            "postcode" => Column::Postcode,
            "reason" => Column::Reason,
            "note" => Column::Note,
            "reviewOn" => Column::ReviewOn,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowProblem {
    /// The line in the file, counting the header as line 1.
    pub line: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRow {
    pub line: usize,
    pub address: String,
    pub reason_label: &'static str,
    pub review_on: NaiveDate,
    /// Already on the list (or earlier in the file): skipped, not an error.
    pub already_listed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportPreview {
    pub rows: Vec<PreviewRow>,
    pub problems: Vec<RowProblem>,
    pub ignored_columns: Vec<String>,
    /// Rows that an import would add.
    pub to_add: usize,
}

struct Parsed {
    preview: ImportPreview,
    entries: Vec<super::CheckedEntry>,
}

fn read_file(path: &Path) -> Result<String, DoNotKnockError> {
    let shown = path.display();
    let bytes = read_capped(path, MAX_BYTES).map_err(|error| {
        DoNotKnockError::File(match error {
            InputFileError::Unreadable(e) => format!("File: {shown} cannot be read ({e})."),
            InputFileError::NotOrdinary => format!(
                "File: {shown} is not an ordinary file (a pipe, a device or a folder). Choose the \
                 CSV file the spreadsheet saved."
            ),
            InputFileError::TooLarge { limit } => format!(
                "File: this is more than {} MB; a do-not-knock list should be well under that. \
                 Is it the right file?",
                limit / 1024 / 1024
            ),
        })
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        DoNotKnockError::File(
            "File: this is not UTF-8 text. In the spreadsheet, save it as “CSV UTF-8 (comma delimited)”."
                .into(),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
}

/// The line on which a quoted value that is never closed begins, if there is one. (The CSV
/// reader would quietly take the rest of the file as that one value.)
fn unclosed_quote(text: &str) -> Option<usize> {
    let (mut line, mut opened_on, mut quoted, mut at_field_start) = (1, None, false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            '"' if at_field_start => {
                quoted = true;
                opened_on = Some(line);
            }
            _ => {}
        }
        if c == '\n' {
            line += 1;
        }
        at_field_start = !quoted && matches!(c, ',' | '\n' | '\r');
    }
    quoted.then_some(opened_on).flatten()
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
}

fn parse(
    conn: &Connection,
    text: &str,
    added_by: &str,
    now: DateTime<Utc>,
) -> Result<Parsed, DoNotKnockError> {
    if added_by.trim().is_empty() {
        return Err(invalid("addedBy", "Added by: write your name (or the party office’s), so others know where the list came from."));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            DoNotKnockError::File(format!("File: the first line cannot be read as CSV ({e})."))
        })?
        .clone();
    if let Some(line) = unclosed_quote(text) {
        return Err(DoNotKnockError::File(format!(
            "File: row {line} opens a quote (\") that is never closed, so the rest of the file \
             would be read as one value. Close the quote in the spreadsheet and save it again."
        )));
    }
    let columns: Vec<Option<Column>> = headers.iter().map(Column::from_header).collect();
    let mut twice: Vec<String> = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        let same = |(other, _): &(usize, &Option<Column>)| {
            *other < index
                && (column.is_some() && columns[*other] == *column
                    || headers[*other]
                        .trim()
                        .eq_ignore_ascii_case(headers[index].trim())
                        && !headers[index].trim().is_empty())
        };
        if columns.iter().enumerate().any(|pair| same(&pair)) {
            twice.push(format!("“{}”", headers[index].trim()));
        }
    }
    if !twice.is_empty() {
        return Err(DoNotKnockError::File(format!(
            "File: the first line names the same column twice ({}). Keep one of each, so it is \
             clear which to use.",
            twice.join(", ")
        )));
    }
    let ignored_columns = headers
        .iter()
        .zip(&columns)
        .filter(|(_, c)| c.is_none())
        .map(|(h, _)| h.to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    for needed in [Column::House, Column::Street] {
        if !columns.contains(&Some(needed)) {
            return Err(DoNotKnockError::File(format!(
                "File: the first line must name the columns, with at least “house” and “street” \
                 (and perhaps “postcode”, “reason”, “note”, “review on”). No “{}” column was found.",
                match needed {
                    Column::House => "house",
                    _ => "street",
                }
            )));
        }
    }
    let has_reason = columns.contains(&Some(Column::Reason));

    let existing: std::collections::HashSet<String> = list(conn, now)?
        .iter()
        .map(|e| address_key(&e.house, &e.street, &e.postcode))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut preview = ImportPreview {
        rows: Vec::new(),
        problems: Vec::new(),
        ignored_columns,
        to_add: 0,
    };
    let mut entries = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // The file's own line: a quoted value may run over several.
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(index + 2, |p| p.line() as usize);
        if index >= MAX_ROWS {
            return Err(DoNotKnockError::File(format!(
                "File: more than {MAX_ROWS} rows. Split the list and import it in parts."
            )));
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                preview.problems.push(RowProblem {
                    line,
                    column: String::new(),
                    message: format!("Row {line}: cannot be read as CSV ({e})."),
                });
                continue;
            }
        };
        if record.iter().all(|value| value.is_empty()) {
            continue;
        }
        // Values beyond the named columns would be lost without a word.
        let extra = record
            .iter()
            .skip(headers.len())
            .filter(|v| !v.is_empty())
            .count();
        if extra > 0 {
            preview.problems.push(RowProblem {
                line,
                column: String::new(),
                message: format!(
                    "Row {line}: it has {} more value{} than the first line has columns. Put \
                     each value under a column, or name the column on the first line.",
                    extra,
                    if extra == 1 { "" } else { "s" }
                ),
            });
            continue;
        }
        let mut input = EntryInput {
            added_by: added_by.to_owned(),
            reason: if has_reason {
                String::new()
            } else {
                "other".into()
            },
            ..EntryInput::default()
        };
        let mut date_problem = None;
        for (value, column) in record.iter().zip(&columns) {
            match column {
                Some(Column::House) => input.house = value.to_owned(),
                Some(Column::Street) => input.street = value.to_owned(),
                Some(Column::Postcode) => input.postcode = value.to_owned(),
                Some(Column::Reason) => {
                    input.reason = if value.is_empty() {
                        "other".into()
                    } else {
                        value.to_owned()
                    }
                }
                Some(Column::Note) => input.note = value.to_owned(),
                Some(Column::ReviewOn) if !value.is_empty() => match parse_date(value) {
                    Some(date) => input.review_on = Some(date),
                    None => date_problem = Some(value.to_owned()),
                },
                _ => {}
            }
        }
        if let Some(value) = date_problem {
            preview.problems.push(RowProblem {
                line,
                column: Column::ReviewOn.label().into(),
                message: format!("Row {line}, Review on: “{value}” is not a date; write it as day/month/year, such as 8/5/2027."),
            });
            continue;
        }
        match check(&input, now) {
            Ok(entry) => {
                let key = address_key(&entry.house, &entry.street, &entry.postcode);
                let already_listed = existing.contains(&key) || !seen.insert(key);
                preview.rows.push(PreviewRow {
                    line,
                    address: format!(
                        "{} {}{}",
                        entry.house,
                        entry.street,
                        if entry.postcode.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", entry.postcode)
                        }
                    ),
                    reason_label: entry.reason.label(),
                    review_on: entry.review_on,
                    already_listed,
                });
                if !already_listed {
                    entries.push(entry);
                }
            }
            Err(DoNotKnockError::Invalid { field, message }) if field == "addedBy" => {
                return Err(invalid("addedBy", message));
            }
            Err(DoNotKnockError::Invalid { field, message }) => preview.problems.push(RowProblem {
                line,
                column: Column::of_field(&field)
                    .map(Column::label)
                    .unwrap_or_default()
                    .into(),
                message: format!("Row {line}, {message}"),
            }),
            Err(other) => return Err(other),
        }
    }
    preview.to_add = entries.len();
    Ok(Parsed { preview, entries })
}

fn address_key(house: &str, street: &str, postcode: &str) -> String {
    format!(
        "{}|{}|{}",
        house.to_lowercase(),
        street.trim().to_lowercase(),
        postcode.replace(' ', "").to_uppercase()
    )
}

/// What an import of `path` would do, without doing it.
pub fn preview(
    conn: &Connection,
    path: &Path,
    added_by: &str,
    now: DateTime<Utc>,
) -> Result<ImportPreview, DoNotKnockError> {
    let text = read_file(path)?;
    Ok(parse(conn, &text, added_by, now)?.preview)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub added: usize,
    pub already_listed: usize,
}

/// Imports every row in one transaction, or nothing when any row has a problem.
pub fn import(
    conn: &mut Connection,
    path: &Path,
    added_by: &str,
    now: DateTime<Utc>,
    sink: &dyn DoorSink,
) -> Result<ImportResult, DoNotKnockError> {
    let text = read_file(path)?;
    let parsed = parse(conn, &text, added_by, now)?;
    let problems = &parsed.preview.problems;
    if !problems.is_empty() {
        let mut message = format!(
            "File: {}, so nothing was imported. Fix {} in the file and try again. ",
            if problems.len() == 1 {
                "1 row has a problem".to_owned()
            } else {
                format!("{} rows have a problem", problems.len())
            },
            if problems.len() == 1 { "it" } else { "them" }
        );
        let shown: Vec<&str> = problems
            .iter()
            .take(PROBLEMS_IN_MESSAGE)
            .map(|p| p.message.as_str())
            .collect();
        message.push_str(&shown.join(" "));
        if problems.len() > PROBLEMS_IN_MESSAGE {
            message.push_str(" The preview lists the rest.");
        }
        return Err(invalid("path", message));
    }
    if parsed.preview.rows.is_empty() {
        return Err(invalid(
            "path",
            "File: there are no addresses under the first line.",
        ));
    }
    let transaction = conn.transaction()?;
    let mut shared = Vec::new();
    for entry in &parsed.entries {
        shared.push(insert(&transaction, entry, Source::PartyList, None, now)?.1);
    }
    sink.doors_changed(&transaction, DoorChange::Added, &shared, now)?;
    transaction.commit()?;
    Ok(ImportResult {
        added: parsed.entries.len(),
        already_listed: parsed.preview.rows.len() - parsed.entries.len(),
    })
}

/// A write into the chosen folder failed (full disk, no permission): said at the folder.
/// The list is put together in memory before it is written: nothing there touches the disk.
fn in_memory(error: csv::Error) -> DoNotKnockError {
    not_written(std::io::Error::other(error.to_string()))
}

fn not_written(error: std::io::Error) -> DoNotKnockError {
    use std::io::ErrorKind;
    let why = match error.kind() {
        ErrorKind::StorageFull => {
            "that disk is full, so the list was not written. Free some space there, or choose \
             another folder."
                .to_owned()
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "Campaign Safe may not write there. Choose another folder.".to_owned()
        }
        ErrorKind::NotFound => "that folder does not exist. Choose another.".to_owned(),
        _ => format!("the file could not be written there ({error}). Choose another folder."),
    };
    invalid("folder", format!("Folder: {why}"))
}

/// Writes the whole list as `do-not-knock-YYYY-MM-DD.csv` in `folder`, with a UTF-8 mark so
/// spreadsheets read names right. Written to a temporary name first, then renamed.
pub fn export(
    conn: &Connection,
    folder: &Path,
    now: DateTime<Utc>,
) -> Result<PathBuf, DoNotKnockError> {
    if !folder.is_dir() {
        return Err(invalid("folder", "Folder: choose a folder that exists."));
    }
    let mut writer = csv::Writer::from_writer(UTF8_BOM.to_vec());
    writer
        .write_record([
            "house",
            "street",
            "postcode",
            "reason",
            "note",
            "source",
            "added by",
            "added at",
            "review on",
        ])
        .map_err(in_memory)?;
    for e in list(conn, now)? {
        let row = [
            e.house.clone(),
            e.street.clone(),
            e.postcode.clone(),
            e.reason_label.to_owned(),
            e.note.clone(),
            e.source_label.to_owned(),
            e.added_by.clone(),
            e.added_at_local.clone(),
            e.review_on.format("%d/%m/%Y").to_string(),
        ];
        writer
            .write_record(row.iter().map(|f| cell(f)))
            .map_err(in_memory)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| in_memory(csv::Error::from(e.into_error())))?;
    let path = folder.join(format!(
        "do-not-knock-{}.csv",
        super::today(now).format("%Y-%m-%d")
    ));
    // Written beside it under another name, then renamed, with the permissions the user's
    // other new files get.
    let partial = path.with_extension("csv.partial");
    std::fs::write(&partial, &bytes).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        not_written(e)
    })?;
    std::fs::rename(&partial, &path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        not_written(e)
    })?;
    Ok(path)
}
