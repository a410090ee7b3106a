//! The team relay: check-in sessions shared with a team through a Matrix room.
//!
//! Everything that happens to a shared session is posted to the room as an ordinary
//! `m.room.message` (readable in Element) carrying a machine-readable field for the app
//! ([`wire`]). Every member's device rebuilds the team's sessions from the room
//! ([`apply`]), so the same scheduler and alarm model serve them as local sessions, and any
//! device can post "missed" when a check-in is overdue. Posts wait in an outbox in SQLite
//! ([`outbox`]) and go out in order when the server answers.
//!
//! The relay is an adapter: the check-ins and the do-not-knock list tell it of their changes
//! through their sinks ([`outbox::TeamPosts`], [`register::TeamDoors`]), inside their own
//! transactions, and it turns what the room says into their typed changes ([`apply`]). It
//! never writes their tables. [`matrix`] is the network side, with matrix-sdk.

pub mod apply;
pub mod chat;
pub mod duress;
pub mod matrix;
pub mod outbox;
pub mod register;
pub mod whereabouts;
pub mod wire;
pub mod witness;

use serde::Serialize;

use crate::error::ErrorCode;
use crate::storage::StorageError;

/// The namespaced field of an `m.room.message` that carries the app's data.
pub const FIELD: &str = "uk.campaignsafe.checkin";

/// How the Team screen describes the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Connection {
    /// No Matrix account on this device: nothing runs.
    SignedOut,
    Connecting,
    Online,
    /// The server could not be reached; posts wait in the outbox.
    Offline,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("{field_label}: {message}")]
    Invalid {
        field: &'static str,
        field_label: &'static str,
        message: String,
    },
    #[error("Sign in to a team server first (Team screen).")]
    SignedOut,
    #[error("The team server refused: {0}")]
    Refused(String),
    #[error("The team server cannot be reached: {0}. Check-ins and alarms keep working on this device; posts go out when it answers again.")]
    Unreachable(String),
    #[error("That team room is not end-to-end encrypted, so Campaign Safe will not post in it.")]
    NotEncrypted,
    #[error("There is no team {0} on this device.")]
    UnknownTeam(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for RelayError {
    fn from(error: rusqlite::Error) -> Self {
        RelayError::Storage(error.into())
    }
}

impl ErrorCode for RelayError {
    fn code(&self) -> &'static str {
        match self {
            RelayError::Invalid { .. } => "validation",
            RelayError::SignedOut => "signed_out",
            RelayError::Refused(_) => "refused",
            RelayError::Unreachable(_) => "unreachable",
            RelayError::NotEncrypted => "not_encrypted",
            RelayError::UnknownTeam(_) => "not_found",
            RelayError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            RelayError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, RelayError::Storage(_))
    }
}

/// A field error, worded with the form's label.
pub fn invalid(
    field: &'static str,
    field_label: &'static str,
    message: impl Into<String>,
) -> RelayError {
    RelayError::Invalid {
        field,
        field_label,
        message: message.into(),
    }
}

#[cfg(test)]
mod copies_tests;
#[cfg(test)]
mod forget_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod welfare_tests;
