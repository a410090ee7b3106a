//! The fixed lists an incident chooses from, with the names stored (kebab-case) and the
//! words the UI shows. Their order is the order choices are stored and hashed in.

use serde::{Deserialize, Serialize};

use super::model::{SHORT_MAX, TEXT_MAX, WHAT_HAPPENED_MAX};
/// Declares a fixed list with its stored names (kebab-case) and the words the UI shows.
macro_rules! fixed_list {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $key:literal : $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $key)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn from_key(key: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|item| item.key() == key)
            }

            /// Each chosen item once, in the list's order, so equal choices hash equally.
            pub fn in_list_order(chosen: &[Self]) -> Vec<Self> {
                Self::ALL.iter().copied().filter(|item| chosen.contains(item)).collect()
            }
        }
    };
}
/// Other domains' fixed lists (the do-not-knock reasons) are declared the same way.
pub(crate) use fixed_list;

fixed_list!(Category {
    DoorstepAbuse = "doorstep-abuse": "Doorstep abuse or hostility",
    ThreatInPerson = "threat-in-person": "Threat in person",
    FollowedOrWatched = "followed-or-watched": "Being followed or watched",
    OnlineAbuse = "online-abuse": "Online abuse or social media",
    PhoneCall = "phone-call": "Phone call",
    LetterOrEmail = "letter-or-email": "Letter or email",
    CriminalDamage = "criminal-damage": "Criminal damage (boards, posters, property, vehicle)",
    HateIncident = "hate-incident": "Hate incident",
    IntimidationAtEvent = "intimidation-at-event": "Intimidation at an event, surgery or count",
    CyberAttack = "cyber-attack": "Cyber attack or account compromise",
    SuspiciousItem = "suspicious-item": "Suspicious item or package",
    Other = "other": "Other",
});

fixed_list!(Channel {
    InPerson = "in-person": "In person",
    Phone = "phone": "Phone call",
    TextMessage = "text-message": "Text or messaging app",
    SocialMedia = "social-media": "Social media",
    Email = "email": "Email",
    Post = "post": "Post or hand-delivered",
    Other = "other": "Other",
});

fixed_list!(Affected {
    Me = "me": "Me",
    Family = "family": "My family",
    TeamMember = "team-member": "A team member",
    Office = "office": "The office",
});

fixed_list!(
    /// The warning signs police ask about. Each is one bit in `incident.flags`.
    Flag {
        ImminentViolence = "imminent-violence": "Threat of imminent violence",
        Fixated = "fixated": "Fixated behaviour",
        PrivateInformation = "private-information": "Released private information that is not public",
        WeaponSeen = "weapon-seen": "Weapon seen",
        Repeat = "repeat": "Repeat: has happened before",
    }
);

fixed_list!(Action {
    LeftArea = "left-area": "Left the area",
    HaltedCanvass = "halted-canvass": "Halted the canvass",
    Called999 = "called-999": "Called 999",
    Called101 = "called-101": "Called 101",
});

fixed_list!(ReportedTo {
    Police999 = "police-999": "Police by 999",
    Police101 = "police-101": "Police by 101",
    PoliceOnline = "police-online": "Police online",
    ElectionContact = "election-contact": "Force election contact (SPOC)",
    Party = "party": "Party",
    Council = "council": "Council or returning officer",
    ElectionCoordinator = "election-coordinator": "Local election co-ordinator",
    Platform = "platform": "Platform (social media site)",
    Other = "other": "Other",
});

fixed_list!(FollowUp {
    Waiting = "waiting": "Waiting to hear back",
    InProgress = "in-progress": "Being dealt with",
    Closed = "closed": "Closed",
    NoFurtherAction = "no-further-action": "No further action",
});

impl Flag {
    pub fn bit(self) -> i64 {
        let index = Flag::ALL.iter().position(|flag| *flag == self).unwrap_or(0);
        1 << index
    }

    pub fn mask(flags: &[Flag]) -> i64 {
        flags.iter().fold(0, |mask, flag| mask | flag.bit())
    }
}

/// Every fixed list with the words to show, for the UI's choices.
#[derive(Debug, Serialize)]
pub struct Choice {
    pub key: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vocabulary {
    pub categories: Vec<Choice>,
    pub channels: Vec<Choice>,
    pub affected: Vec<Choice>,
    pub flags: Vec<Choice>,
    pub actions: Vec<Choice>,
    pub reported_to: Vec<Choice>,
    pub follow_up: Vec<Choice>,
    pub limits: Limits,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub what_happened: usize,
    pub text: usize,
    pub short: usize,
    pub attachment_bytes: u64,
}

macro_rules! choices {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|item| Choice {
                key: item.key(),
                label: item.label(),
            })
            .collect()
    };
}

pub fn vocabulary() -> Vocabulary {
    Vocabulary {
        categories: choices!(Category),
        channels: choices!(Channel),
        affected: choices!(Affected),
        flags: choices!(Flag),
        actions: choices!(Action),
        reported_to: choices!(ReportedTo),
        follow_up: choices!(FollowUp),
        limits: Limits {
            what_happened: WHAT_HAPPENED_MAX,
            text: TEXT_MAX,
            short: SHORT_MAX,
            attachment_bytes: super::attachments::MAX_BYTES,
        },
    }
}
