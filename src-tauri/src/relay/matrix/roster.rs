//! Who is in a team room and what they are called, for the Team screen.
//!
//! The Matrix SDK lists a room's members all or nothing: one member event it cannot read (a
//! name that is a list or an object, which Synapse passes on from any member) fails the
//! whole list, and the Team screen would show nobody. Then each member is read on their own,
//! and one whose event cannot be read is listed by their user id, never left out: everyone
//! listed here is sent the team's keys.

use matrix_sdk::ruma::{OwnedUserId, UserId};
use matrix_sdk::{Client, Room, RoomMemberships};
use serde::Serialize;

use super::client::{refused, shown_name};
use super::teams::room_id;
use crate::relay::RelayError;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberDevice {
    pub device_id: String,
    pub name: String,
    /// Cross-signed by its owner: Element sends to it and shows what it sends.
    pub confirmed_by_owner: bool,
    pub this_device: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: String,
    pub name: String,
    pub devices: Vec<MemberDevice>,
    /// Whether the person has set up cross-signing at all: without it Element users send
    /// none of their devices anything.
    pub has_identity: bool,
    /// This account has verified the person's identity (meaningless for oneself).
    pub you_verified: bool,
    pub is_you: bool,
}

pub async fn members(client: &Client, room: &str) -> Result<Vec<Member>, RelayError> {
    let room = client
        .get_room(room_id(room)?)
        .ok_or_else(|| RelayError::UnknownTeam(room.to_owned()))?;
    let people = people(client, &room).await?;
    let mut members = Vec::new();
    let own_device = client.device_id().map(ToString::to_string);
    let own_user = client.user_id().map(ToString::to_string);
    for person in people {
        // The labels come from the keys alone: a device counts as confirmed only when its
        // owner's cross-signing key signed it, and a person as verified only when we did.
        let devices = match client.encryption().get_user_devices(&person.user_id).await {
            Ok(devices) => devices
                .devices()
                .map(|d| MemberDevice {
                    device_id: d.device_id().to_string(),
                    name: shown_name(d.display_name().unwrap_or_default()),
                    confirmed_by_owner: d.is_cross_signed_by_owner(),
                    this_device: own_device.as_deref() == Some(d.device_id().as_str()),
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let identity = client
            .encryption()
            .get_user_identity(&person.user_id)
            .await
            .ok()
            .flatten();
        members.push(Member {
            name: format!(
                "{}{}",
                person.name,
                if person.invited { " (invited)" } else { "" }
            ),
            devices,
            has_identity: identity.is_some(),
            you_verified: identity.as_ref().is_some_and(|i| i.is_verified()),
            is_you: own_user.as_deref() == Some(person.user_id.as_str()),
            user_id: person.user_id.to_string(),
        });
    }
    Ok(members)
}

/// Someone joined or invited, named as the app shows them.
struct Person {
    user_id: OwnedUserId,
    name: String,
    invited: bool,
}

impl Person {
    fn new(user_id: OwnedUserId, raw_name: Option<&str>, invited: bool) -> Self {
        Self {
            name: shown_member_name(raw_name, &user_id),
            user_id,
            invited,
        }
    }
}

/// Any member sets their own name in the room, so it is cleaned and cut as a device's is;
/// with none left, the user id's own part names them (never an empty name, which would hide
/// who sent a change).
pub(super) fn shown_member_name(raw_name: Option<&str>, user_id: &UserId) -> String {
    let name = shown_name(raw_name.unwrap_or_default());
    if name.is_empty() {
        shown_name(user_id.localpart())
    } else {
        name
    }
}

/// What `room` calls `user`, for the screen: as [`shown_member_name`], by the user id when
/// their member event cannot be read.
pub(super) async fn name_in(room: &Room, user: &UserId) -> String {
    let member = room.get_member_no_sync(user).await.ok().flatten();
    shown_member_name(member.as_ref().map(|m| m.name()), user)
}

/// Whether `user` has joined `room`, by the store's list of ids, which holds even when their
/// member event cannot be read.
pub(super) async fn has_joined(client: &Client, room: &Room, user: &UserId) -> bool {
    client
        .state_store()
        .get_user_ids(room.room_id(), RoomMemberships::JOIN)
        .await
        .is_ok_and(|ids| ids.iter().any(|id| id == user))
}

async fn people(client: &Client, room: &Room) -> Result<Vec<Person>, RelayError> {
    use matrix_sdk::ruma::events::room::member::MembershipState;
    // The SDK fetches the full list first if it has not got it: the fallback needs it too.
    let error = match room
        .members(RoomMemberships::JOIN | RoomMemberships::INVITE)
        .await
    {
        Ok(members) => {
            return Ok(members
                .iter()
                .map(|m| {
                    let invited = *m.membership() == MembershipState::Invite;
                    Person::new(m.user_id().to_owned(), Some(m.name()), invited)
                })
                .collect())
        }
        // The server could not be asked: say so, rather than list what may be out of date.
        Err(error @ matrix_sdk::Error::Http(_)) => return Err(refused(error, "Listing members")),
        Err(error) => error,
    };
    tracing::warn!(room = %room.room_id(), "a member event could not be read ({error}); reading the members one by one");
    let mut people = Vec::new();
    for (memberships, invited) in [
        (RoomMemberships::JOIN, false),
        (RoomMemberships::INVITE, true),
    ] {
        let user_ids = client
            .state_store()
            .get_user_ids(room.room_id(), memberships)
            .await
            .map_err(|e| refused(e.into(), "Listing members"))?;
        for user_id in user_ids {
            let member = room.get_member_no_sync(&user_id).await.ok().flatten();
            let name = member.as_ref().map(|m| m.name());
            people.push(Person::new(user_id, name, invited));
        }
    }
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::Person;
    use matrix_sdk::ruma::OwnedUserId;

    #[test]
    fn a_member_is_named_cleanly_or_by_their_user_id() {
        let mallory: OwnedUserId = "@mallory:localhost".try_into().unwrap();
        let named = |raw: Option<&str>| Person::new(mallory.clone(), raw, false).name;
        assert_eq!(named(Some("\u{202E}ahsA Patel\u{0}")), "ahsA Patel");
        assert_eq!(named(Some(&"x".repeat(100_000))).chars().count(), 64);
        for nothing in [None, Some(""), Some(" \u{202E}\u{7} ")] {
            assert_eq!(named(nothing), "mallory", "{nothing:?}");
        }
    }
}
