//! The Team service's side of issue 24: this device confirmed (recovery key typed or kept in
//! the record), teammates' changed identities accepted, and the record's head sent to the
//! team to witness.

use std::sync::Arc;

use matrix_sdk::Client;

use super::{client, identities, recovery, unreadable, TeamService, TeamStatus};
use crate::changes::Changed;
use crate::relay::{invalid, RelayError};

impl TeamService {
    /// Confirms this device with the account's recovery key (typed in "Recovery key").
    pub async fn confirm_with_recovery_key(
        self: &Arc<Self>,
        key: &str,
    ) -> Result<TeamStatus, RelayError> {
        recovery::typed_key(key)?;
        let client = self.client().await?;
        recovery::confirm(&client, key).await?;
        // The key backup now opens: posts that came before this device could read them.
        recovery::download_backed_up_keys(&client).await;
        unreadable::retry(self, &client).await;
        self.follow_confirmation(&client).await;
        // Element's devices see the new signature at their next sync; tell this window now.
        self.announce(Changed::Team);
        self.status().await
    }

    /// Keeps the account's recovery key in this record, at the user's choice (it then goes
    /// into the record's backups, encrypted like the rest).
    pub fn keep_recovery_key(&self, key: &str) -> Result<(), RelayError> {
        let key = recovery::typed_key(key)?;
        let user_id = self
            .account()
            .map(|(user, _)| user)
            .ok_or(RelayError::SignedOut)?;
        crate::settings::keep_recovery_key(
            &self.database.conn(),
            &crate::settings::KeptRecoveryKey {
                user_id,
                key: key.to_owned(),
            },
        )
        .map_err(|error| RelayError::Refused(error.to_string()))
    }

    /// Confirms this device with the recovery key kept in this record.
    pub async fn confirm_with_kept_key(self: &Arc<Self>) -> Result<TeamStatus, RelayError> {
        let user_id = self
            .account()
            .map(|(user, _)| user)
            .ok_or(RelayError::SignedOut)?;
        let kept = crate::settings::kept_recovery_key(&self.database.reader(), &user_id)
            .map_err(|error| RelayError::Refused(error.to_string()))?
            .ok_or_else(|| {
                invalid(
                    "recoveryKey",
                    "Recovery key",
                    "no recovery key for this account is kept in this record; type it.",
                )
            })?;
        self.confirm_with_recovery_key(&kept.key).await
    }

    /// Accepts the changed identity of the teammate `user_id`, after the user checked it.
    pub async fn acknowledge_identity(&self, user_id: &str) -> Result<TeamStatus, RelayError> {
        let client = self.client().await?;
        identities::acknowledge(self, &client, user_id).await?;
        self.announce(Changed::Team);
        self.status().await
    }

    /// Once this device's confirmation has changed, who gets its room keys changes too
    /// (`client::recipients`): the SDK takes that only when the client is built, so the
    /// team connection starts again from the stored login.
    pub(super) async fn follow_confirmation(self: &Arc<Self>, client: &Client) {
        let Some(confirmed) = recovery::is_confirmed(client).await else {
            return;
        };
        match client::note_confirmed(&self.database, confirmed) {
            Ok(true) => {
                tracing::info!(
                    confirmed,
                    "this device's confirmation changed: the team connection starts again"
                );
                self.stop().await;
                self.restore().await;
            }
            Ok(false) => {}
            Err(error) => tracing::error!("this device's confirmation was not noted: {error}"),
        }
    }

    /// The record changed: its head goes to every team to witness (issue 24).
    pub(super) fn queue_record_head(&self) {
        // Without a team there is no one to witness it: no work on every incident saved.
        let in_a_team: bool = self
            .database
            .reader()
            .query_row("SELECT EXISTS (SELECT 1 FROM team)", [], |r| r.get(0))
            .unwrap_or(false);
        if !in_a_team {
            return;
        }
        let now = self.clock.now();
        let conn = self.database.conn();
        let queued = crate::incidents::head::signed_head(&conn, now).and_then(|head| match head {
            Some(head) => crate::relay::witness::queue_head(&conn, &head, now),
            None => Ok(()),
        });
        drop(conn);
        match queued {
            Ok(()) => self.send_now.notify_one(),
            Err(error) => tracing::error!("the record's head was not queued for the team: {error}"),
        }
    }
}
