//! Who may say what about a session, and which times from the room are believed: the rules
//! [`super::change::apply`] asks before it changes anything (see its module's summary).

use chrono::{DateTime, Utc};

use super::change::{short_name, Actor, Facts, SessionChange, Via, CLOCK_SLACK};
use crate::time::to_millis;

/// Whether `actor` may make `change` to the session, and if not, why (for the page).
pub(super) fn permitted(
    facts: &Facts,
    change: &SessionChange,
    actor: &Actor,
    me: &str,
) -> Result<(), String> {
    use SessionChange::*;
    let owner = if facts.owner.is_empty() {
        me
    } else {
        facts.owner.as_str()
    };
    let owners = short_name(owner);
    match actor {
        Actor::Scheduler => match change {
            Remind { .. } if facts.tracked => {
                Err("reminders come from the device that started it".into())
            }
            Remind { .. } | Miss { .. } | RepeatMissed { .. } => Ok(()),
            _ => Err("the scheduler only reminds and raises alarms".into()),
        },
        Actor::Here(_) => match change {
            Acknowledge | MissReported { .. } | AskCheckIn | AcknowledgeDuress => Ok(()),
            Duress { .. } => Err("duress is signalled by the person out on it".into()),
            _ if !facts.tracked => Ok(()),
            CheckIn { .. } => Err(format!(
                "only {owners}'s devices can check in for this session; say you are dealing \
                 with it instead"
            )),
            _ => Err(format!("only {owners}'s devices can change this session")),
        },
        Actor::Member { user_id, name, via } => {
            let is_owner = user_id == owner;
            let in_chat = facts.chat_members.iter().any(|m| m == user_id);
            let verb = match change {
                CheckIn { .. } => "check in for",
                Snooze => "snooze",
                Extend { .. } => "extend",
                End => "end",
                Help { .. } => "ask for help for",
                _ => "change",
            };
            match (change, via) {
                (Acknowledge | MissReported { .. }, _) => Ok(()),
                (AskCheckIn | AcknowledgeDuress, Via::App) => Ok(()),
                (Duress { .. }, _) if is_owner || in_chat => Ok(()),
                (Duress { .. }, _) => Err(format!(
                    "only the people out on it can signal duress, and {name} is not one of them"
                )),
                (CheckIn { .. } | Help { .. }, Via::Chat) if is_owner || in_chat => Ok(()),
                (CheckIn { .. } | Help { .. }, Via::Chat) => Err(format!(
                    "only the people out on it can {verb} it from chat, and {name} is not one \
                     of them"
                )),
                (Help { .. }, _) if is_owner || in_chat => Ok(()),
                (CheckIn { .. } | Snooze | Extend { .. } | End | Help { .. }, _) if is_owner => {
                    Ok(())
                }
                (Remind { .. } | Miss { .. } | RepeatMissed { .. }, _) => {
                    Err("each device decides for itself when a check-in is missed".into())
                }
                _ => Err(format!("only {owners}'s devices can {verb} this session")),
            }
        }
    }
}

/// A time from the room: not ahead of this device's clock (beyond a little slack), not before
/// the session started.
pub(super) fn plausible(
    at: DateTime<Utc>,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if at > now + CLOCK_SLACK {
        return Err("it was dated in the future".into());
    }
    if to_millis(at) < facts.started_at {
        return Err("it was dated before the session started".into());
    }
    Ok(())
}
