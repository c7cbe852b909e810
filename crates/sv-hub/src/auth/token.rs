//! Random secrets (session tokens, API tokens, the setup token) and the
//! session cookie's text.
//!
//! A token is 32 random bytes, sent as 64 hex digits and stored as the
//! hex of its SHA-256: it has full entropy, so a fast hash is enough, and
//! a copy of the database lets nobody sign in.

use sha2::{Digest, Sha256};

/// The session cookie's name (Cesi's, so the UI's expectations hold).
pub const COOKIE_NAME: &str = "session";

/// Why no random token could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct RandomError(String);

/// A new random token, as the client sees it.
pub fn new_token() -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// What the store keeps for `token`.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` looks like one of ours (checked before any database
/// lookup, so junk costs nothing).
pub fn is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `Set-Cookie` for a new session: `HttpOnly` (scripts cannot read it),
/// `SameSite=Lax` (a cross-site POST, fetch or image carries no cookie),
/// `Path=/`, and `Secure` when the hub sits behind TLS.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={token}; HttpOnly; SameSite=Lax; Path=/{secure}")
}

/// `Set-Cookie` that deletes the session cookie (Cesi's exact text).
pub const CLEAR_COOKIE: &str = "session=; Expires=Thu, 01-Jan-1970 00:00:00 GMT; Max-Age=0; Path=/";

/// The session token in a `Cookie` header, if any.
pub fn cookie_token(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hash_stably() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        assert!(!is_well_formed("eyJsb2dnZWRfaW4iOnRydWV9.x.y"));
    }

    #[test]
    fn cookie_texts() {
        assert_eq!(
            session_cookie("ab", false),
            "session=ab; HttpOnly; SameSite=Lax; Path=/"
        );
        assert!(session_cookie("ab", true).ends_with("; Secure"));
        assert_eq!(cookie_token("a=1; session=xyz; b=2"), Some("xyz"));
        assert_eq!(cookie_token("a=1"), None);
    }
}
