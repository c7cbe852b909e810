//! What the page's account screens need beyond Cesi's: a user's role,
//! their live sessions (listed without their token), their own API
//! tokens, and revoking either — for one user at a time.
//!
//! Sessions are named to their owner by a short prefix of the token's
//! stored hash ([`SessionInfo::id`]): it identifies a row to revoke and
//! lets nobody sign in (the hash of a 256-bit random token is not the
//! token).

use super::{Store, StoreError, TokenInfo};

/// How many hex digits of a session's stored hash name it in answers.
pub const SESSION_ID_LEN: usize = 16;

/// One live session of a user, as listed (never its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The first [`SESSION_ID_LEN`] hex digits of the token's hash.
    pub id: String,
    /// The token's full hash (to compare with the caller's own session;
    /// never sent).
    pub token_hash: String,
    /// Creation, seconds since the epoch.
    pub created: i64,
    /// Expiry, seconds since the epoch.
    pub expires: i64,
}

impl Store {
    /// Changes a user's Cesi `usertype`; `false` if there is no such user.
    pub async fn set_usertype(&self, username: &str, usertype: i64) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "UPDATE users SET usertype = $1 WHERE username = $2",
                vec![usertype.into(), username.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// How many users have `usertype` 0 (admin).
    pub async fn admin_count(&self) -> Result<i64, StoreError> {
        let rows = self
            .engine
            .query("SELECT COUNT(*) FROM users WHERE usertype = 0", vec![])
            .await?;
        Ok(rows.first().map_or(0, |r| r[0].int()))
    }

    /// The live sessions of `username` at `now`, newest first.
    pub async fn sessions_of(
        &self,
        username: &str,
        now: i64,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT token_hash, created, expires FROM hub_sessions WHERE username = $1 AND expires > $2 ORDER BY created DESC, token_hash",
                vec![username.into(), now.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let token_hash = r[0].text();
                SessionInfo {
                    id: token_hash.chars().take(SESSION_ID_LEN).collect(),
                    token_hash,
                    created: r[1].int(),
                    expires: r[2].int(),
                }
            })
            .collect())
    }

    /// Ends the session of `username` whose hash is `token_hash`; `false`
    /// if that user has no such session.
    pub async fn delete_session_of(
        &self,
        username: &str,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "DELETE FROM hub_sessions WHERE username = $1 AND token_hash = $2",
                vec![username.into(), token_hash.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// The API tokens acting as `username`, by name.
    pub async fn tokens_of(&self, username: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT name, username, created FROM hub_tokens WHERE username = $1 ORDER BY name",
                vec![username.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| TokenInfo {
                name: r[0].text(),
                username: r[1].text(),
                created: r[2].int(),
            })
            .collect())
    }

    /// Revokes the token `name` if it acts as `username`; `false` if that
    /// user has no token of that name.
    pub async fn revoke_token_of(&self, username: &str, name: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "DELETE FROM hub_tokens WHERE username = $1 AND name = $2",
                vec![username.into(), name.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// Revokes every token of `username`; how many there were.
    pub async fn delete_tokens_of(&self, username: &str) -> Result<u64, StoreError> {
        self.engine
            .execute(
                "DELETE FROM hub_tokens WHERE username = $1",
                vec![username.into()],
            )
            .await
    }
}
