//! The Team screen's member list against the Matrix SDK's race (matrix-rust-sdk#1205): a
//! full member list fetched before someone joined, answered after the sync that brought the
//! join, was written over it, and the teammate stayed "(invited)" for good. A proxy in front
//! of a real Synapse holds that answer back, so the race happens every run. The same race
//! could keep someone who left on the list, and so still sent the team's keys.

use std::time::Duration;

use matrix_sdk::ruma::RoomId;

use campaign_safe_lib::relay::matrix::Member;
use campaign_safe_lib::relay::RelayError;

use super::holding_proxy::{brought, HoldingProxy};
use super::room_trust::log;
use super::synapse::Synapse;
use super::team_device::{wait_until, wait_until_seen, Device};
use super::volunteer;

/// Asha's Team screen asks for the member list, in the background.
fn list_in_background(
    asha: &Device,
    room: &str,
) -> tokio::task::JoinHandle<Result<Vec<Member>, RelayError>> {
    let service = asha.team.clone();
    let room = room.to_owned();
    tokio::spawn(async move { service.members(&room).await })
}

fn names(members: &[Member]) -> Vec<&str> {
    members.iter().map(|m| m.name.as_str()).collect()
}

/// Waits until Asha's list is as `right` wants it, saying what it showed last.
async fn wait_for_list(asha: &Device, room: &str, what: &str, right: impl Fn(&[Member]) -> bool) {
    wait_until_seen(what, Duration::from_secs(60), || async {
        let members = asha.team.members(room).await.map_err(|e| e.to_string())?;
        if right(&members) {
            Ok(())
        } else {
            Err(format!("{:?}", names(&members)))
        }
    })
    .await;
}

/// Waits until the proxy holds back the answer to a member-list request.
async fn wait_until_held(proxy: &HoldingProxy, what: &str) {
    wait_until(what, Duration::from_secs(60), || async { proxy.holding() }).await;
}

/// Asha invites `invitee` (which makes the SDK fetch the whole list on the next look) and
/// lists the team, with the answer to whichever part of the app asks first held back.
async fn invite_with_the_list_held(
    proxy: &HoldingProxy,
    asha: &Device,
    room: &str,
    invitee: &str,
) -> tokio::task::JoinHandle<Result<Vec<Member>, RelayError>> {
    proxy.hold_next_member_list();
    asha.team.invite(room, invitee).await.expect("invite");
    let listing = list_in_background(asha, room);
    wait_until_held(
        proxy,
        &format!("the answer to a request for the member list is held (inviting {invitee})"),
    )
    .await;
    listing
}

/// Waits until Asha's device has read the sync bringing `user`'s `membership`.
async fn wait_until_read(proxy: &HoldingProxy, room: &str, user: &str, membership: &str) {
    wait_until_seen(
        &format!("Asha's device reads the sync that brings {user}'s {membership}"),
        Duration::from_secs(60),
        || async {
            if proxy.synced_past(|sync| brought(sync, room, user, membership)) {
                Ok(())
            } else {
                Err(format!(
                    "{} sync answers, none of them read with it",
                    proxy.syncs_seen()
                ))
            }
        },
    )
    .await;
}

/// Lets the held (old) list go, and prints what the request it answered returned.
async fn release(
    proxy: &HoldingProxy,
    listing: tokio::task::JoinHandle<Result<Vec<Member>, RelayError>>,
) {
    proxy.release();
    let first = listing.await.expect("listing task").expect("members");
    println!("the list answered with the old one: {:?}", names(&first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn who_joins_or_leaves_while_the_member_list_is_fetched_is_listed_as_they_are() {
    log();
    let server = Synapse::start().await;
    let proxy = HoldingProxy::start(&server.url()).await;
    // Asha's device talks to the server only through the proxy.
    let asha = Device::new("asha", &Synapse::running_at(proxy.port, &server.token)).await;
    let team = asha.team.create_team("Ward 3 team").await.expect("team");
    let vic = volunteer::volunteer("vic", &server).await;
    let vic_id = vic.user_id().expect("signed in").to_string();
    asha.team
        .invite(&team.room_id, &vic_id)
        .await
        .expect("invite");

    // Asha opens the Team screen: the list is fetched now, while Vic is invited, and its
    // answer is held back.
    proxy.hold_next_member_list();
    let listing = list_in_background(&asha, &team.room_id);
    wait_until_held(
        &proxy,
        "the answer to Asha's request for the member list is held",
    )
    .await;

    // Vic joins, and Asha's device reads the sync that says so.
    volunteer::join_as_volunteer(&vic, &team.room_id).await;
    wait_until_read(&proxy, &team.room_id, &vic_id, "join").await;

    // Only now does the old list arrive: the SDK writes Vic back to "invited".
    release(&proxy, listing).await;
    wait_for_list(
        &asha,
        &team.room_id,
        "Asha's device lists Vic as joined",
        |members| {
            members
                .iter()
                .any(|m| m.user_id == vic_id && !m.name.ends_with("(invited)"))
        },
    )
    .await;

    // --- Vic leaves while the list is fetched again.
    let wes = volunteer::volunteer("wes", &server).await;
    let wes_id = wes.user_id().expect("signed in").to_string();
    let listing = invite_with_the_list_held(&proxy, &asha, &team.room_id, &wes_id).await;
    vic.get_room(<&RoomId>::try_from(team.room_id.as_str()).unwrap())
        .expect("Vic's room")
        .leave()
        .await
        .expect("Vic leaves");
    wait_until_read(&proxy, &team.room_id, &vic_id, "leave").await;
    release(&proxy, listing).await;
    wait_for_list(
        &asha,
        &team.room_id,
        "Asha's device no longer lists Vic, who left",
        |members| !members.iter().any(|m| m.user_id == vic_id),
    )
    .await;

    // --- The app closes just as an old list is written over Xan's joining, and opens again.
    // What the syncs brought was remembered for that run only, and the sync that brought the
    // join is not read again: the list must be fetched afresh on the next start.
    let xan = volunteer::volunteer("xan", &server).await;
    let xan_id = xan.user_id().expect("signed in").to_string();
    let listing = invite_with_the_list_held(&proxy, &asha, &team.room_id, &xan_id).await;
    volunteer::join_as_volunteer(&xan, &team.room_id).await;
    wait_until_read(&proxy, &team.room_id, &xan_id, "join").await;
    asha.team.stop().await;
    release(&proxy, listing).await;
    asha.team.restore().await;
    wait_for_list(
        &asha,
        &team.room_id,
        "Asha's device, started again, lists Xan as joined",
        |members| {
            members
                .iter()
                .any(|m| m.user_id == xan_id && !m.name.ends_with("(invited)"))
        },
    )
    .await;
}
