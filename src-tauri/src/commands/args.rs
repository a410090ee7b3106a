//! Command arguments that answer a wrongly typed value in the app's error shape.
//!
//! Tauri's own argument reading answers with a string in serde's words ("invalid value:
//! integer `-5`, expected u32"). Every command argument is read through [`Arg`] instead, so
//! that refusal too is `{ code, message, field }`, with the field named and a sentence.

use std::ops::Deref;

use serde::Deserialize;
use tauri::ipc::{CommandArg, CommandItem, InvokeError};
use tauri::Runtime;

use crate::error::IpcError;

/// One argument of a command, read as `T`.
#[derive(Debug)]
pub struct Arg<T>(pub T);

impl<T> Deref for Arg<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, R: Runtime, T: Deserialize<'de>> CommandArg<'de, R> for Arg<T> {
    fn from_command(command: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        let key = command.key;
        serde_path_to_error::deserialize(command)
            .map(Arg)
            .map_err(|error| {
                let path = error.path().to_string();
                let field = if path == "." { key.to_owned() } else { path };
                let message = format!(
                    "{}: Campaign Safe cannot use this value ({}). Nothing was changed.",
                    label_of(&field),
                    plain_words(&error.into_inner().to_string())
                );
                InvokeError::from(IpcError {
                    code: "invalid_arguments",
                    message,
                    field: Some(field),
                })
            })
    }
}

/// "escalation[0].phone" → "Escalation 1, phone"; "sessionId" → "Session id".
fn label_of(field: &str) -> String {
    let mut words = String::new();
    for c in field.chars() {
        match c {
            '.' => words.push_str(", "),
            '[' => words.push(' '),
            ']' => {}
            c if c.is_ascii_uppercase() => {
                words.push(' ');
                words.push(c.to_ascii_lowercase());
            }
            c => words.push(c),
        }
    }
    // "PIN" as the forms write it ("duressPinAgain" → "Duress PIN again").
    let words = words
        .split(' ')
        .map(|word| if word == "pin" { "PIN" } else { word })
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "A value".into(),
    }
}

/// serde's description of the mismatch, in words rather than Rust's type names.
fn plain_words(serde_message: &str) -> String {
    let mut text = serde_message
        .replace("invalid type: ", "got ")
        .replace("invalid value: ", "got ")
        .replace("integer `", "the number `")
        .replace("floating point `", "the number `")
        .replace("string \"", "the text \"")
        .replace("boolean `", "yes/no `")
        .replace("unit value", "nothing")
        .replace("map", "a group of values")
        .replace("sequence", "a list")
        .replace('`', "");
    for (rust, words) in [
        ("u8", "a whole number"),
        ("u16", "a whole number"),
        ("u32", "a whole number"),
        ("u64", "a whole number"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("usize", "a whole number"),
        ("f64", "a number"),
        ("a boolean", "yes or no"),
        ("struct ", ""),
    ] {
        text = text.replace(&format!("expected {rust}"), &format!("expected {words}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_words_are_for_people() {
        assert_eq!(label_of("sessionId"), "Session id");
        assert_eq!(label_of("escalation[0].phone"), "Escalation 0, phone");
        assert_eq!(label_of("pin"), "PIN");
        assert_eq!(label_of("duressPinAgain"), "Duress PIN again");
        assert_eq!(
            plain_words("invalid value: integer `-5`, expected u32"),
            "got the number -5, expected a whole number"
        );
        assert_eq!(
            plain_words("invalid type: string \"x\", expected a boolean"),
            "got the text \"x\", expected yes or no"
        );
    }
}
