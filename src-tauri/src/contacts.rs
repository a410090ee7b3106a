//! Contact cards for the Emergency screen: the people to call about election safety.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::ErrorCode;
use crate::storage::StorageError;
use crate::time;

/// The roles a card can be for, in the order they are shown.
pub const ROLES: &[(&str, &str)] = &[
    (
        "force-election-contact",
        "Police force election contact (SPOC)",
    ),
    ("election-coordinator", "Local election co-ordinator"),
    ("party-safety-contact", "Party safety contact"),
];

const NAME_MAX: usize = 80;
const NOTES_MAX: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("There is no contact card for “{0}”.")]
    UnknownRole(String),
    #[error("Name: write who this is (at most {NAME_MAX} characters).")]
    Name,
    #[error("Phone: {0}")]
    Phone(&'static str),
    #[error("Notes: at most {NOTES_MAX} characters.")]
    Notes,
    #[error("{}", crate::error::hidden_characters_message(.label))]
    Hidden {
        field: &'static str,
        label: &'static str,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for ContactError {
    fn from(error: rusqlite::Error) -> Self {
        ContactError::Storage(error.into())
    }
}

impl ErrorCode for ContactError {
    fn code(&self) -> &'static str {
        match self {
            ContactError::UnknownRole(_) => "not_found",
            ContactError::Storage(error) => error.code(),
            _ => "validation",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            ContactError::UnknownRole(_) => Some("role"),
            ContactError::Name => Some("name"),
            ContactError::Phone(_) => Some("phone"),
            ContactError::Notes => Some("notes"),
            ContactError::Hidden { field, .. } => Some(field),
            ContactError::Storage(_) => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, ContactError::Storage(_))
    }
}

const PHONE_HELP: &str =
    "use a UK number such as 01632 960 123, 07700 900 123 or +44 7700 900 123, or 101.";

/// Checks a UK phone number and returns it in a form a phone can dial (`+44…` or `0…`,
/// spaces removed). Accepts spaces, hyphens, dots and brackets, `+44`, `0044` and `+44 (0)`.
pub fn normalise_uk_phone(input: &str) -> Result<String, ContactError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ContactError::Phone("enter a number to call."));
    }
    if trimmed
        .chars()
        .any(|c| !(c.is_ascii_digit() || " -.()+".contains(c)))
    {
        return Err(ContactError::Phone("only digits, spaces and a leading + are allowed; use a UK number such as 01632 960 123."));
    }
    if trimmed.char_indices().any(|(i, c)| c == '+' && i != 0) {
        return Err(ContactError::Phone(
            "a + may only come first, as in +44 7700 900 123.",
        ));
    }
    let compact: String = trimmed
        .replace("(0)", "")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    if ["101", "111", "999", "112"].contains(&compact.as_str()) {
        return Ok(compact);
    }
    let national = if let Some(rest) = compact
        .strip_prefix("+44")
        .or_else(|| compact.strip_prefix("0044"))
    {
        format!("0{rest}")
    } else if compact.starts_with('+') {
        return Err(ContactError::Phone(
            "only UK numbers (+44) can be saved here.",
        ));
    } else {
        compact
    };
    // UK numbers are 0 plus 9 or 10 digits; the digit after the 0 is never 0.
    let valid = national.starts_with('0')
        && !national.starts_with("00")
        && (10..=11).contains(&national.len())
        && national.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(national)
    } else {
        Err(ContactError::Phone(PHONE_HELP))
    }
}

/// A stored number as UK numbers are written: "01632 960123", "020 7946 0000", "101".
pub fn shown_phone(stored: &str) -> String {
    match phonenumber::parse(Some(phonenumber::country::Id::GB), stored) {
        Ok(number) if stored.len() > 3 => number
            .format()
            .mode(phonenumber::Mode::National)
            .to_string(),
        _ => stored.to_owned(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCard {
    pub role: String,
    pub role_name: String,
    /// Empty when the card has not been filled in.
    pub name: String,
    pub phone: String,
    /// The number as UK numbers are written, with its spaces: "01632 960123".
    pub phone_shown: String,
    pub notes: String,
    pub updated_at: Option<DateTime<Utc>>,
}

fn role_name(role: &str) -> Result<&'static str, ContactError> {
    ROLES
        .iter()
        .find(|(id, _)| *id == role)
        .map(|(_, name)| *name)
        .ok_or_else(|| ContactError::UnknownRole(role.to_owned()))
}

/// Every role's card, filled in or blank.
pub fn list(conn: &Connection) -> Result<Vec<ContactCard>, ContactError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, phone, notes, updated_at FROM contact_card WHERE role = ?1",
    )?;
    ROLES
        .iter()
        .map(|(role, role_name)| {
            let mut card = ContactCard {
                role: (*role).to_owned(),
                role_name: (*role_name).to_owned(),
                name: String::new(),
                phone: String::new(),
                phone_shown: String::new(),
                notes: String::new(),
                updated_at: None,
            };
            let mut rows = stmt.query([role])?;
            if let Some(row) = rows.next()? {
                card.name = row.get(0)?;
                card.phone = row.get(1)?;
                card.phone_shown = shown_phone(&card.phone);
                card.notes = row.get(2)?;
                card.updated_at = time::from_millis(row.get(3)?);
            }
            Ok(card)
        })
        .collect()
}

/// Validates every field first; nothing is written unless all are good.
pub fn save(
    conn: &Connection,
    role: &str,
    name: &str,
    phone: &str,
    notes: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ContactCard>, ContactError> {
    role_name(role)?;
    let name = name.trim();
    let notes = notes.trim();
    for (field, label, text) in [("name", "Name", name), ("notes", "Notes", notes)] {
        if crate::error::has_hidden_characters(text) {
            return Err(ContactError::Hidden { field, label });
        }
    }
    if name.is_empty() || name.chars().count() > NAME_MAX {
        return Err(ContactError::Name);
    }
    let phone = normalise_uk_phone(phone)?;
    if notes.chars().count() > NOTES_MAX {
        return Err(ContactError::Notes);
    }
    conn.execute(
        "INSERT INTO contact_card (role, name, phone, notes, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (role) DO UPDATE SET name = ?2, phone = ?3, notes = ?4, updated_at = ?5",
        params![role, name, phone, notes, time::to_millis(now)],
    )?;
    list(conn)
}

pub fn clear(conn: &Connection, role: &str) -> Result<Vec<ContactCard>, ContactError> {
    role_name(role)?;
    conn.execute("DELETE FROM contact_card WHERE role = ?1", [role])?;
    list(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Database;

    #[test]
    fn accepts_uk_formats() {
        for (input, expected) in [
            ("01632 960 123", "01632960123"),
            ("07700 900123", "07700900123"),
            ("+44 7700 900 123", "07700900123"),
            ("+44 (0)20 7946 0000", "02079460000"),
            ("0044 20-7946-0000", "02079460000"),
            ("(020) 7946 0000", "02079460000"),
            ("101", "101"),
        ] {
            assert_eq!(normalise_uk_phone(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn refuses_non_uk_and_malformed_numbers_naming_the_field() {
        for input in [
            "",
            "   ",
            "12345",
            "+1 202 555 0100",
            "00 20 7946 0000",
            "0207 946 00000 1",
            "07700 9OO 123",
            "44 7700 900123",
            "07700+900123",
            "<b>0161</b>",
        ] {
            let error = normalise_uk_phone(input).expect_err(input);
            assert_eq!(error.field(), Some("phone"), "{input}");
            assert!(error.to_string().starts_with("Phone: "), "{input}: {error}");
        }
    }

    #[test]
    fn saves_updates_and_clears_a_card() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let now = Utc::now();
        let cards = list(&db.conn()).unwrap();
        assert_eq!(cards.len(), ROLES.len());
        assert!(cards.iter().all(|card| card.name.is_empty()));

        let cards = save(
            &db.conn(),
            "force-election-contact",
            " PC Jo Bloggs ",
            "+44 7700 900 123",
            "Election SPOC",
            now,
        )
        .unwrap();
        assert_eq!(
            (cards[0].name.as_str(), cards[0].phone.as_str()),
            ("PC Jo Bloggs", "07700900123")
        );
        let cards = save(
            &db.conn(),
            "force-election-contact",
            "Sgt Ali",
            "101",
            "",
            now,
        )
        .unwrap();
        assert_eq!(cards[0].name, "Sgt Ali");
        let cards = clear(&db.conn(), "force-election-contact").unwrap();
        assert!(cards[0].name.is_empty());
    }

    #[test]
    fn a_bad_field_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let now = Utc::now();
        save(
            &db.conn(),
            "party-safety-contact",
            "Sam",
            "01632 960 123",
            "",
            now,
        )
        .unwrap();
        let error = save(
            &db.conn(),
            "party-safety-contact",
            "Someone else",
            "not a number",
            "",
            now,
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("phone"));
        let error = save(
            &db.conn(),
            "party-safety-contact",
            "",
            "01632 960 123",
            "",
            now,
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("name"));
        let error = save(
            &db.conn(),
            "party-safety-contact",
            "Sam",
            "01632 960 123",
            &"x".repeat(301),
            now,
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("notes"));
        let error = save(&db.conn(), "mayor", "Sam", "01632 960 123", "", now).unwrap_err();
        assert_eq!(error.field(), Some("role"));
        let card = list(&db.conn())
            .unwrap()
            .into_iter()
            .find(|c| c.role == "party-safety-contact")
            .unwrap();
        assert_eq!(
            (card.name.as_str(), card.phone.as_str()),
            ("Sam", "01632960123")
        );
    }
}
