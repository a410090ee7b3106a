//! This device confirmed by its owner (issue 24), through a real Synapse: a laptop signed in
//! to an account made in Element confirms itself with the recovery key; an account the app
//! makes shows its recovery key once, and a second laptop confirms itself with it and reads
//! the team's earlier posts from the key backup.

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedDeviceId, UserId};

use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::changes::{Changed, Listener};

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer;

const LONG: Duration = Duration::from_secs(60);
const PATCH: &str = "Vic's patch";

async fn confirmed(device: &Device) -> Option<bool> {
    device.team.status().await.ok()?.device_confirmed
}

/// Whether `client` (another session) sees `device_id` of its own account as cross-signed.
async fn seen_confirmed(
    client: &matrix_sdk::Client,
    user: &str,
    device_id: &OwnedDeviceId,
) -> bool {
    let _ = client
        .sync_once(matrix_sdk::config::SyncSettings::default().timeout(Duration::from_millis(200)))
        .await;
    let user = <&UserId>::try_from(user).unwrap();
    matches!(
        client.encryption().get_device(user, device_id).await,
        Ok(Some(device)) if device.is_cross_signed_by_owner()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_laptop_signed_in_to_an_element_account_confirms_itself_with_the_recovery_key() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let (sam_phone, key) = volunteer::element_user("sam", &server).await;

    // Signed in to an account that already has cross-signing: not confirmed, and no key of
    // its own comes with the sign-in.
    let laptop = Device::signed_in("sam", &server, None).await;
    assert_eq!(laptop.signed_in.recovery_key, None);
    wait_until("the laptop knows it is not confirmed", LONG, || async {
        confirmed(&laptop).await == Some(false)
    })
    .await;
    let laptop_id = laptop.device_id();
    assert!(!seen_confirmed(&sam_phone, &laptop.user_id, &laptop_id).await);

    // Wrong keys are refused by field and change nothing.
    let mut mistyped: Vec<char> = key.chars().collect();
    let last = mistyped.len() - 1;
    mistyped[last] = if mistyped[last] == 'a' { 'b' } else { 'a' };
    let mistyped: String = mistyped.into_iter().collect();
    let other_account_key = volunteer::element_user("other", &server).await.1;
    for wrong in [
        mistyped.as_str(),
        "correct horse battery staple",
        &other_account_key,
    ] {
        let error = laptop
            .team
            .confirm_with_recovery_key(wrong)
            .await
            .expect_err("a wrong key is refused");
        let message = error.to_string();
        assert!(
            message.starts_with("Recovery key: "),
            "{wrong:?}: {message}"
        );
        assert_eq!(confirmed(&laptop).await, Some(false), "{wrong:?}");
    }

    // The right key, typed with the spaces Element shows and stray ones around it.
    let status = laptop
        .team
        .confirm_with_recovery_key(&format!("  {key} "))
        .await
        .expect("the recovery key confirms the laptop");
    assert_eq!(status.device_confirmed, Some(true));
    wait_until("Sam's phone sees the laptop confirmed", LONG, || async {
        seen_confirmed(&sam_phone, &laptop.user_id, &laptop_id).await
    })
    .await;

    // It stays confirmed through a restart.
    laptop.team.stop().await;
    laptop.team.restore().await;
    wait_until(
        "the laptop is still confirmed after a restart",
        LONG,
        || async { confirmed(&laptop).await == Some(true) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_made_here_shows_its_recovery_key_once_and_a_second_laptop_confirms_with_it() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let office = Device::new("asha", &server).await;
    let key = office
        .signed_in
        .recovery_key
        .clone()
        .expect("an account made here comes with its recovery key");
    assert!(key.split(' ').count() >= 12, "{key}");
    assert_eq!(office.team.status().await.unwrap().recovery_key, None);
    wait_until("the office laptop is confirmed", LONG, || async {
        confirmed(&office).await == Some(true)
    })
    .await;

    // A canvass shared with a team before the second laptop exists.
    let team = office
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    let session = office.start("Canvass – Mill Lane", &["Priya"], "Mill Lane", "", 5);
    office.share(session, &team.room_id, &[]);
    wait_until("the office's posts have gone", LONG, || async {
        office.outbox_waiting() == 0
    })
    .await;

    // A second laptop on the same account cannot read what came before it...
    let home = Device::signed_in("asha", &server, None).await;
    assert_eq!(home.signed_in.recovery_key, None);
    home.team
        .join_team(&team.link, "Ward 3")
        .await
        .expect("the second laptop follows the team");
    wait_until(
        "the second laptop has the earlier posts, unreadable",
        LONG,
        || async {
            home.team
                .status()
                .await
                .map(|s| s.unreadable > 0 && s.device_confirmed == Some(false))
                .unwrap_or(false)
        },
    )
    .await;
    assert_eq!(home.session("Canvass – Mill Lane"), None);

    // ...until it is confirmed with the key: then the key backup opens them.
    home.team
        .confirm_with_recovery_key(&key)
        .await
        .expect("the key shown at sign-up confirms the second laptop");
    wait_until(
        "the second laptop reads the earlier posts",
        LONG,
        || async {
            home.team
                .status()
                .await
                .map(|s| s.unreadable == 0)
                .unwrap_or(false)
                && home.session("Canvass – Mill Lane").is_some()
        },
    )
    .await;
    assert_eq!(confirmed(&home).await, Some(true));

    // Nothing kept in the second laptop's record: the kept key is refused by field.
    let error = home
        .team
        .confirm_with_kept_key()
        .await
        .expect_err("no key kept here");
    assert!(error.to_string().starts_with("Recovery key: "), "{error}");
    for hostile in ["", "k\u{0}ey", &"k".repeat(501)] {
        let error = office.team.keep_recovery_key(hostile).expect_err("refused");
        assert!(error.to_string().starts_with("Recovery key: "), "{error}");
    }

    // The office keeps the key in its record; signed out and in again (a new device, as
    // after a restore from a backup), it confirms itself with the kept key.
    office.team.keep_recovery_key(&key).expect("kept");
    office.team.sign_out().await.expect("signed out");
    let status = office
        .team
        .sign_in(&server.url(), "asha", "asha-password", None, None)
        .await
        .expect("signed in again");
    assert!(status.recovery_key_kept);
    wait_until(
        "the office laptop, new again, is not confirmed",
        LONG,
        || async { confirmed(&office).await == Some(false) },
    )
    .await;
    let status = office
        .team
        .confirm_with_kept_key()
        .await
        .expect("confirmed with the kept key");
    assert_eq!(status.device_confirmed, Some(true));
}

/// Records the unreadable posts a device announces (each would raise a notice).
#[derive(Default)]
struct HeardUnreadable(std::sync::Mutex<Vec<(i64, String)>>);

impl Listener for HeardUnreadable {
    fn heard(&self, what: &Changed) {
        if let Changed::Unreadable {
            session_id, sender, ..
        } = what
        {
            self.0.lock().unwrap().push((*session_id, sender.clone()));
        }
    }
}

/// How many of the app's check-in posts of `kind` `client` can read in `room`.
async fn readable_posts(client: &matrix_sdk::Client, room: &str, kind: &str) -> usize {
    volunteer::posts(client, room)
        .await
        .iter()
        .filter(|post| post["uk.campaignsafe.checkin"]["event"] == kind)
        .count()
}

/// Issue 24, scenarios (a) and (b), with a strict stand-in for Element X on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_element_x_team_reaches_a_laptop_only_once_it_is_confirmed_and_nothing_is_lost() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let (sam_phone, key) = volunteer::element_x("sam", &server).await;
    let (vic, _) = volunteer::element_x("vic", &server).await;
    let vic_id = vic.user_id().unwrap().to_string();

    // (a) Sam signs in on the laptop: an account with cross-signing, device not confirmed.
    let laptop = Device::signed_in("sam", &server, None).await;
    let heard = Arc::new(HeardUnreadable::default());
    laptop.changes.listen(heard.clone());
    wait_until("the laptop knows it is not confirmed", LONG, || async {
        confirmed(&laptop).await == Some(false)
    })
    .await;
    let team = laptop
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    laptop
        .team
        .invite(&team.room_id, &vic_id)
        .await
        .expect("invite");
    volunteer::join_as_volunteer(&vic, &team.room_id).await;
    let patch = laptop.start(PATCH, &["Vic"], "", "", 15);
    laptop.share(patch, &team.room_id, std::slice::from_ref(&vic_id));
    wait_until("the laptop's posts have gone", LONG, || async {
        laptop.outbox_waiting() == 0
    })
    .await;
    // Element X does not read what an unconfirmed device sends.
    assert_eq!(readable_posts(&vic, &team.room_id, "started").await, 0);

    // Vic's HELP: his client gives the unconfirmed laptop no key. The laptop lists it, tied
    // to Vic's session, and announces it (a notice: it could be HELP); no alarm is guessed.
    volunteer::send(
        &vic,
        &team.room_id,
        RoomMessageEventContent::text_plain("HELP"),
    )
    .await;
    wait_until(
        "the laptop lists Vic's message as unreadable, tied to his session",
        LONG,
        || async {
            laptop
                .team
                .status()
                .await
                .map(|s| {
                    s.unreadable_posts.iter().any(|post| {
                        post.sender == vic_id
                            && post.sender_name == "vic"
                            && post.sessions.iter().any(|session| session.id == patch)
                    })
                })
                .unwrap_or(false)
        },
    )
    .await;
    assert_eq!(
        heard.0.lock().unwrap().as_slice(),
        &[(patch, "vic".to_owned())]
    );
    assert!(laptop.alarm_kinds().is_empty());

    // (b) Sam's phone has the key to Vic's message and keeps it in Sam's key backup. The
    // laptop confirmed with the recovery key reads it from there: the HELP alarm goes off.
    sam_phone
        .sync_once(matrix_sdk::config::SyncSettings::default())
        .await
        .expect("phone sync");
    sam_phone
        .encryption()
        .backups()
        .wait_for_steady_state()
        .await
        .expect("the phone backs up its keys");
    laptop
        .team
        .confirm_with_recovery_key(&key)
        .await
        .expect("confirmed");
    // From now on its room keys go only to confirmed devices (the client was built again).
    let strict: bool = laptop
        .database
        .reader()
        .query_row("SELECT device_confirmed FROM team_account", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(strict, "the laptop notes that it is confirmed");
    wait_until(
        "Vic's earlier HELP is read from the key backup and raises the alarm",
        LONG,
        || async {
            laptop.alarm_kinds() == [AlarmKind::Help]
                && laptop.team.status().await.map(|s| s.unreadable).ok() == Some(0)
        },
    )
    .await;
    laptop.acknowledge(PATCH);

    // Messages now flow both ways: Vic's client sees the laptop confirmed, reads its posts,
    // and gives it the key to his next message.
    let laptop_id = laptop.device_id();
    wait_until("Vic sees the laptop confirmed", LONG, || async {
        seen_confirmed(&vic, &laptop.user_id, &laptop_id).await
    })
    .await;
    laptop.check_in(PATCH);
    wait_until("Vic reads the laptop's check-in", LONG, || async {
        readable_posts(&vic, &team.room_id, "checked_in").await > 0
    })
    .await;
    volunteer::send(
        &vic,
        &team.room_id,
        RoomMessageEventContent::text_plain("ok"),
    )
    .await;
    wait_until(
        "Vic's ok reaches the laptop as a check-in",
        LONG,
        || async { laptop.last_check_in_by(PATCH) == format!("{vic_id} (chat)") },
    )
    .await;
    assert_eq!(laptop.team.status().await.unwrap().unreadable, 0);
}

/// Issue 24, scenario (d): a teammate resets their identity. The warning comes, stays
/// through a restart, and goes only once the user accepts the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_teammate_who_resets_their_identity_is_warned_about_until_it_is_accepted() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let office = Device::new("asha", &server).await;
    let (vic, _) = volunteer::element_x("vic", &server).await;
    let vic_id = vic.user_id().unwrap().to_string();
    let team = office
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    office
        .team
        .invite(&team.room_id, &vic_id)
        .await
        .expect("invite");
    volunteer::join_as_volunteer(&vic, &team.room_id).await;
    wait_until("the office knows Vic's identity", LONG, || async {
        office
            .team
            .members(&team.room_id)
            .await
            .map(|members| {
                members
                    .iter()
                    .any(|m| m.user_id == vic_id && m.has_identity)
            })
            .unwrap_or(false)
    })
    .await;
    assert!(office
        .team
        .status()
        .await
        .unwrap()
        .identity_changes
        .is_empty());

    // Vic (or whoever now has his password) makes new keys.
    volunteer::reset_identity(&vic, "vic").await;
    let warned = || async {
        office
            .team
            .status()
            .await
            .map(|s| {
                s.identity_changes.iter().any(|change| {
                    change.user_id == vic_id
                        && change.room_id == team.room_id
                        && change.name == "vic"
                        && !change.was_verified
                })
            })
            .unwrap_or(false)
    };
    wait_until("the office warns that Vic's identity changed", LONG, warned).await;

    // Never hidden by itself: not by a restart, nor by a refused acceptance.
    office.team.stop().await;
    office.team.restore().await;
    wait_until("the warning is still there after a restart", LONG, warned).await;
    for hostile in ["@nobody:localhost", "not an id", "", &"@x".repeat(10_000)] {
        let error = office
            .team
            .acknowledge_identity(hostile)
            .await
            .expect_err("nothing to accept");
        assert!(
            error.to_string().starts_with("Teammate: "),
            "{hostile:?}: {error}"
        );
    }
    assert!(warned().await);

    let status = office
        .team
        .acknowledge_identity(&vic_id)
        .await
        .expect("accepted");
    assert!(
        status.identity_changes.is_empty(),
        "{:?}",
        status.identity_changes
    );
}
