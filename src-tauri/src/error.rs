//! The one error shape every command returns: `{ code, message, field? }`.
//!
//! Each domain has its own `thiserror` enum and implements [`ErrorCode`]; the `?` operator
//! turns it into an [`IpcError`] here, in one place, so the UI can always show `message`
//! next to `field`.

use serde::Serialize;

/// What crosses IPC when a command fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    /// Stable, machine-readable kind, e.g. `validation`, `not_found`, `storage`.
    pub code: &'static str,
    /// A sentence a stressed person can act on.
    pub message: String,
    /// The input field the message is about, named as the UI names it (camelCase).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IpcError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Whether text holds a character that cannot be kept in a record: a control character
/// other than a line break or a tab (a NUL byte pasted from a binary file, an escape
/// sequence), or one that reorders the text around it. They are invisible on screen and
/// break reports, CSV files and messages.
pub fn has_hidden_characters(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_reordering(c))
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a file
/// named "photo\u{202e}gpj.exe" shows as "photoexe.jpg".
pub fn is_reordering(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text whose reordering characters are written out, so it shows as it is: for names that
/// come from outside and are kept as they came (a file's name).
pub fn shown_plainly(text: &str) -> String {
    text.chars()
        .map(|c| {
            if is_reordering(c) {
                format!("[U+{:04X}]", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The refusal for such text, naming the field as the form labels it.
pub fn hidden_characters_message(label: &str) -> String {
    format!(
        "{label}: this has a hidden control character (such as a NUL byte, or one that \
         reverses the text around it) that cannot be kept in the record. Type it again, or \
         paste it as plain text."
    )
}

/// Implemented by every domain error so it can cross IPC.
pub trait ErrorCode: std::error::Error {
    fn code(&self) -> &'static str;

    fn field(&self) -> Option<&str> {
        None
    }

    /// Faults of the machine (disk, database) rather than of the user's input are logged
    /// with their full cause when they are reported to the UI.
    fn is_fault(&self) -> bool {
        false
    }
}

impl<E: ErrorCode> From<E> for IpcError {
    fn from(error: E) -> Self {
        if error.is_fault() {
            tracing::error!(code = error.code(), "{error}");
        }
        IpcError {
            code: error.code(),
            message: error.to_string(),
            field: error.field().map(str::to_owned),
        }
    }
}

/// Text from a form, trimmed and checked: no hidden characters, at most `max` characters.
/// The refusal names the field by `label`; the caller adds the field's key.
pub fn checked_text(label: &str, value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if has_hidden_characters(value) {
        return Err(hidden_characters_message(label));
    }
    let count = value.chars().count();
    if count > max {
        return Err(format!(
            "{label}: at most {max} characters (this has {count})."
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Sample {
        #[error("Write what happened.")]
        Missing,
    }

    impl ErrorCode for Sample {
        fn code(&self) -> &'static str {
            "validation"
        }
        fn field(&self) -> Option<&str> {
            Some("whatHappened")
        }
    }

    #[test]
    fn serialises_code_message_and_field() {
        let json = serde_json::to_value(IpcError::from(Sample::Missing)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "validation", "message": "Write what happened.", "field": "whatHappened"})
        );
    }

    #[test]
    fn omits_field_when_there_is_none() {
        let json = serde_json::to_string(&IpcError::new("storage", "Disk full.")).unwrap();
        assert_eq!(json, r#"{"code":"storage","message":"Disk full."}"#);
    }
}
