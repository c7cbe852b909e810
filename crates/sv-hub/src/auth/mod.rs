//! Who is calling: passwords ([`password`]), tokens and the session
//! cookie ([`token`]), failed-login throttling ([`ratelimit`]), the
//! activity log ([`activity_log`]), the page's CSRF tokens ([`csrf`]),
//! and [`HubAuth`], the hub's real [`Authenticator`].
//!
//! Sessions are server-side: the cookie carries a random token whose hash
//! is a row in the store, so a session survives a restart, works on every
//! hub instance sharing the database, expires, and ends for good at
//! logout or password change (Cesi's signed cookies did none of that:
//! its defects D5, D6).

pub mod activity_log;
pub mod csrf;
pub mod password;
pub mod ratelimit;
pub mod token;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::header;
use axum::http::request::Parts;
use futures_util::future::BoxFuture;

use crate::api::error::ApiError;
use crate::api::guard::{Authenticator, Principal, Role};
use crate::config::HubSettings;
use crate::store::{Store, StoreError};
use password::Verdict;
use ratelimit::LoginLimiter;

/// The settings authentication reads from `[hub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    /// `Secure` on the session cookie.
    pub cookie_secure: bool,
    /// How long a session lives.
    pub session_ttl: Duration,
    /// Peers whose user header is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The user header, if proxy sign-on is on.
    pub proxy_user_header: Option<String>,
}

impl From<&HubSettings> for AuthSettings {
    fn from(hub: &HubSettings) -> AuthSettings {
        AuthSettings {
            cookie_secure: hub.cookie_secure,
            session_ttl: hub.session_ttl,
            trusted_proxies: hub.trusted_proxies.clone(),
            proxy_user_header: hub.proxy_user_header.clone(),
        }
    }
}

/// Most live sessions one user keeps; a new login beyond it ends the
/// oldest (bounds what logging in can make the store hold).
pub const MAX_SESSIONS_PER_USER: i64 = 50;

/// The outcome of a login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Signed in: the new session token (for the cookie).
    Ok {
        /// The token to put in the cookie.
        token: String,
    },
    /// Unknown user or wrong password.
    Invalid,
    /// Too many recent failures from this peer or for this user.
    Throttled,
}

/// The hub's authenticator and session keeper.
pub struct HubAuth {
    store: Store,
    // Replaced at SIGHUP; read per request (a clone of a few fields).
    settings: std::sync::RwLock<AuthSettings>,
    limiter: LoginLimiter,
}

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A store failure as an API error; the detail goes to the log only.
pub fn store_failure(e: StoreError) -> ApiError {
    eprintln!("supervisor-hub: store: {e}");
    match e {
        StoreError::Unavailable(_) => ApiError::Unavailable,
        _ => ApiError::Internal,
    }
}

impl HubAuth {
    /// An authenticator over `store`.
    pub fn new(store: Store, settings: AuthSettings) -> Arc<HubAuth> {
        Arc::new(HubAuth {
            store,
            settings: std::sync::RwLock::new(settings),
            limiter: LoginLimiter::new(),
        })
    }

    /// The store it reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Its settings.
    pub fn settings(&self) -> AuthSettings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Applies new settings (SIGHUP); sessions are untouched.
    pub fn set_settings(&self, settings: AuthSettings) {
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
    }

    /// The principal for a stored user, `None` if there is no such user.
    pub async fn principal(&self, username: &str) -> Result<Option<Principal>, ApiError> {
        let user = self.store.user(username).await.map_err(store_failure)?;
        Ok(user.map(|u| Principal {
            username: u.username,
            role: Role::from_usertype(u.usertype),
            environments: u.environments,
        }))
    }

    /// Checks a username and password, starts a session on success, and
    /// upgrades a werkzeug hash to argon2id. Failures are counted per peer
    /// and per user and logged (never the password).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> Result<Login, ApiError> {
        let keys = ratelimit::keys(peer, username);
        let now = Instant::now();
        if self.limiter.is_blocked(&keys, now) {
            eprintln!(
                "supervisor-hub: login throttled for user {username:?} from {}",
                peer.map_or("a unix socket".to_string(), |p| p.to_string())
            );
            return Ok(Login::Throttled);
        }
        let user = self.store.user(username).await.map_err(store_failure)?;
        let verdict = match &user {
            Some(u) => password::verify_async(u.password_hash.clone(), password.to_string()).await,
            None => {
                // Spend the same time as for a real user, so response times
                // do not tell which names exist.
                let _ = password::hash_async(password.to_string()).await;
                Verdict::Wrong
            }
        };
        if verdict == Verdict::Wrong {
            self.limiter.failed(&keys, now);
            eprintln!(
                "supervisor-hub: failed login for user {username:?} from {}",
                peer.map_or("a unix socket".to_string(), |p| p.to_string())
            );
            return Ok(Login::Invalid);
        }
        self.limiter.succeeded(&format!("user:{username}"));
        if verdict == Verdict::OkRehash {
            match password::hash_async(password.to_string()).await {
                Ok(hash) => {
                    self.store
                        .set_password(username, &hash)
                        .await
                        .map_err(store_failure)?;
                }
                Err(e) => eprintln!("supervisor-hub: keeping the old hash of {username:?}: {e}"),
            }
        }
        let token = self.start_session(username).await?;
        Ok(Login::Ok { token })
    }

    /// Starts a session for `username`; returns its token.
    pub async fn start_session(&self, username: &str) -> Result<String, ApiError> {
        let token = token::new_token().map_err(|e| {
            eprintln!("supervisor-hub: {e}");
            ApiError::Internal
        })?;
        let now = unix_now();
        let ttl = i64::try_from(self.settings().session_ttl.as_secs()).unwrap_or(i64::MAX);
        self.store
            .create_session(
                &token::token_hash(&token),
                username,
                now,
                now.saturating_add(ttl),
            )
            .await
            .map_err(store_failure)?;
        Ok(token)
    }

    /// The user of the session `token`, if it is live.
    pub async fn session_user(&self, token: &str) -> Result<Option<String>, ApiError> {
        if !token::is_well_formed(token) {
            return Ok(None);
        }
        self.store
            .session_user(&token::token_hash(token), unix_now())
            .await
            .map_err(store_failure)
    }

    /// Ends the session `token`.
    pub async fn end_session(&self, token: &str) -> Result<(), ApiError> {
        self.store
            .delete_session(&token::token_hash(token))
            .await
            .map(drop)
            .map_err(store_failure)
    }

    /// Ends every session of `username` except the one of `keep`.
    pub async fn end_sessions_of(
        &self,
        username: &str,
        keep: Option<&str>,
    ) -> Result<(), ApiError> {
        let keep = keep.map(token::token_hash);
        self.store
            .delete_sessions_of(username, keep.as_deref())
            .await
            .map(drop)
            .map_err(store_failure)
    }

    /// The session token of a request's cookie.
    pub fn cookie_token(parts: &Parts) -> Option<String> {
        parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(token::cookie_token)
            .map(str::to_string)
    }

    async fn identify(
        &self,
        parts: &Parts,
        peer: Option<SocketAddr>,
    ) -> Result<Option<String>, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            // A presented but wrong token is a failed request, not a
            // fall-through to the cookie: scripts should learn at once.
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| token::is_well_formed(t));
            return match token {
                Some(t) => self
                    .store
                    .token_user(&token::token_hash(t))
                    .await
                    .map_err(store_failure),
                None => Ok(None),
            };
        }
        if let Some(t) = HubAuth::cookie_token(parts)
            && let Some(user) = self.session_user(&t).await?
        {
            // The cookie rides along with whatever a browser sends: a
            // state change from a browser must prove it comes from the page.
            csrf::check_api(parts, &t)?;
            return Ok(Some(user));
        }
        let settings = self.settings();
        if let (Some(header_name), Some(peer)) = (&settings.proxy_user_header, peer)
            && settings.trusted_proxies.contains(&peer.ip())
            && let Some(user) = parts.headers.get(header_name.as_str())
        {
            return Ok(user
                .to_str()
                .ok()
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty()));
        }
        Ok(None)
    }
}

impl Authenticator for HubAuth {
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
        peer: Option<SocketAddr>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>> {
        Box::pin(async move {
            match self.identify(parts, peer).await? {
                Some(username) => self.principal(&username).await,
                None => Ok(None),
            }
        })
    }
}
