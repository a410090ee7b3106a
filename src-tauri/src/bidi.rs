//! Names and titles inside the sentences the app builds (alarms, timelines, team posts).
//!
//! A name in a right-to-left script (Arabic, Hebrew, Urdu) pulls the punctuation and the
//! next right-to-left name beside it into its own direction: "Silent alarm: <name>
//! (<session>)" can show the session before the name, and "<name> and <name> missed a
//! check-in" can swap the two people. Unicode's isolates keep each one to itself, and are
//! understood by WebKit, by the desktop's notices (Pango) and by Matrix clients.

use std::borrow::Cow;

use unicode_bidi::{bidi_class, BidiClass};

const FIRST_STRONG_ISOLATE: char = '\u{2068}';
const POP_DIRECTIONAL_ISOLATE: char = '\u{2069}';

/// `text` set apart for direction, ready to go into a sentence. Only text that holds a
/// right-to-left letter (or an Arabic-Indic digit) is wrapped: left-to-right text is returned
/// as it is, byte for byte, so English sentences, their tests and anything that reads them
/// stay the same.
pub fn isolated(text: &str) -> Cow<'_, str> {
    let right_to_left = text
        .chars()
        .any(|c| matches!(bidi_class(c), BidiClass::R | BidiClass::AL | BidiClass::AN));
    if !right_to_left {
        return Cow::Borrowed(text);
    }
    // The app's names never hold direction marks (forms refuse them, names from the room are
    // stripped); dropping any here keeps the pair balanced whatever a caller passes.
    let inner: String = text
        .chars()
        .filter(|c| !crate::error::is_reordering(*c))
        .collect();
    Cow::Owned(format!(
        "{FIRST_STRONG_ISOLATE}{inner}{POP_DIRECTIONAL_ISOLATE}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_to_right_text_is_left_as_it_is() {
        for text in [
            "Asha",
            "Ward 5: Elm Street",
            "Émilie 👩‍👧",
            "",
            "0770 900123",
            "Ὀδυσσεύς",
        ] {
            assert!(
                matches!(isolated(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn right_to_left_text_is_isolated_once() {
        assert_eq!(isolated("أمينة"), "\u{2068}أمينة\u{2069}");
        assert_eq!(isolated("שרה כהן"), "\u{2068}שרה כהן\u{2069}");
        // Mixed: one Hebrew letter is enough.
        assert_eq!(isolated("Ward 5 ש"), "\u{2068}Ward 5 ש\u{2069}");
        // Arabic-Indic digits alone turn the text around them too.
        assert_eq!(isolated("٥"), "\u{2068}٥\u{2069}");
        // Marks passed in cannot unbalance the pair.
        assert_eq!(
            isolated("\u{202E}أمينة\u{2069}\u{2069}"),
            "\u{2068}أمينة\u{2069}"
        );
    }
}
