//! What a volunteer without the app can say in the room: "OK", "safe" or ✅ to check in (a
//! message, or a reply to a reminder), a 👍 reaction on a reminder, "HELP" or "SOS" to raise
//! the alarm at once, and "on it" (best as a reply to the alarm) to say they are dealing
//! with a missed check-in or a call for help.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatAnswer {
    CheckIn,
    Help,
    /// "On it", "I'm dealing with it": an acknowledgement.
    OnIt,
}

/// The words a reply may quote before the person's own text (Element puts "> <@x> …" lines
/// first in the plain body of a reply).
fn own_words(body: &str) -> &str {
    let mut rest = body;
    while let Some(line_end) = rest.find('\n') {
        if rest.starts_with('>') || rest[..line_end].trim().is_empty() {
            rest = &rest[line_end + 1..];
        } else {
            break;
        }
    }
    rest.trim()
}

/// What a plain message means, if anything.
pub fn answer(body: &str) -> Option<ChatAnswer> {
    let words = own_words(body);
    let first: String = words
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | ':' | ';'))
        .next()
        .unwrap_or_default()
        .to_lowercase();
    if ["help", "sos"].contains(&first.as_str()) {
        return Some(ChatAnswer::Help);
    }
    let lower: String = words
        .to_lowercase()
        .replace(['’', '\''], "")
        .trim_end_matches(['.', '!'])
        .to_owned();
    if ["on it", "im on it", "dealing with it", "im dealing with it"].contains(&lower.as_str()) {
        return Some(ChatAnswer::OnIt);
    }
    if ["ok", "okay", "safe"].contains(&first.as_str()) || words.starts_with('✅') {
        return Some(ChatAnswer::CheckIn);
    }
    None
}

/// A reaction that checks in: 👍 in any skin tone, with or without a variation selector.
pub fn is_thumbs_up(key: &str) -> bool {
    key.starts_with('👍')
}

/// The event a message replies to, if it is a reply.
pub fn replied_to(content: &Value) -> Option<String> {
    content
        .pointer("/m.relates_to/m.in_reply_to/event_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ins_and_calls_for_help_in_any_case() {
        for said in [
            "OK",
            "ok",
            "Ok thanks",
            "okay",
            "SAFE",
            "safe and sound",
            "✅",
            "✅ home",
            "ok, all fine",
            "OK!",
        ] {
            assert_eq!(answer(said), Some(ChatAnswer::CheckIn), "{said}");
        }
        for said in ["HELP", "help me", "Sos", "SOS!", "help."] {
            assert_eq!(answer(said), Some(ChatAnswer::Help), "{said}");
        }
        for said in [
            "on it",
            "On it!",
            "I'm on it",
            "I’m dealing with it.",
            "dealing with it",
        ] {
            assert_eq!(answer(said), Some(ChatAnswer::OnIt), "{said}");
        }
        for said in [
            "okra for tea",
            "not ok",
            "is everyone safe?",
            "helpful",
            "on it later maybe",
            "",
            "👍",
        ] {
            assert_eq!(answer(said), None, "{said}");
        }
    }

    #[test]
    fn a_reply_is_read_after_the_quoted_lines() {
        let body = "> <@office:example.org> ⏰ Ward 3: your check-in is due\n> at 14:30\n\nok";
        assert_eq!(answer(body), Some(ChatAnswer::CheckIn));
        let content = serde_json::json!({
            "body": body,
            "m.relates_to": { "m.in_reply_to": { "event_id": "$reminder" } }
        });
        assert_eq!(replied_to(&content).as_deref(), Some("$reminder"));
    }

    #[test]
    fn thumbs_up_in_any_skin_tone() {
        assert!(is_thumbs_up("👍"));
        assert!(is_thumbs_up("👍️"));
        assert!(is_thumbs_up("👍🏽"));
        assert!(!is_thumbs_up("❤️"));
    }
}
