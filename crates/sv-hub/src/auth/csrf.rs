//! Tokens that prove a state change comes from the hub's own page.
//!
//! A page's token is derived from the session it was served to:
//! `hex(SHA-256("supervisor-hub csrf\n" ‖ session token))`. The session
//! token is 256 random bits that only the browser (in an `HttpOnly`
//! cookie) and nobody else holds, so another site can neither read nor
//! compute the page's token; the store keeps `SHA-256(session token)`
//! without the prefix, so a copy of the database yields no page token
//! either. Nothing is stored per token; the token ends with its session.
//!
//! Forms carry it in the [`FIELD`] field, scripts in the [`HEADER`]
//! header. [`check_api`] is the API's rule for requests authenticated by
//! the cookie: a state-changing request that a browser sent must carry the
//! header. Scripts (`curl`, Python …) that keep Cesi's cookie jar send no
//! browser marks and keep working as with Cesi; a bearer token or the
//! proxy header needs no page token at all (no cookie rides along).

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::api::error::ApiError;

/// The header a script on the page sends the token in.
pub const HEADER: &str = "x-csrf-token";

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The refusal's message.
pub const REFUSED: &str = "Missing or wrong CSRF token; reload the page";

/// The page token of the session whose cookie holds `session`.
pub fn token_for(session: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"supervisor-hub csrf\n");
    hasher.update(session.as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether `given` is the page token of `session` (constant time).
pub fn matches(session: &str, given: &str) -> bool {
    let expected = token_for(session);
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Whether a browser sent this request: browsers mark what they send
/// (`Origin` on every POST, `Sec-Fetch-*`), and every browser's user
/// agent starts with `Mozilla/`; `curl`, `wget` and Python's clients do
/// none of that.
pub fn browser_sent(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
        || headers.contains_key("sec-fetch-site")
        || headers.contains_key("sec-fetch-mode")
        || headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("Mozilla/"))
}

/// Whether `method` changes nothing (the check does not apply).
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The API's rule for a request authenticated by the session cookie
/// `session`: a state-changing request a browser sent must carry the
/// session's token in [`HEADER`], else 403.
pub fn check_api(parts: &Parts, session: &str) -> Result<(), ApiError> {
    if is_safe(&parts.method) || !browser_sent(&parts.headers) {
        return Ok(());
    }
    let given = parts
        .headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if matches(session, given) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(REFUSED.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Request};

    fn parts(method: Method, headers: &[(&'static str, &str)]) -> Parts {
        let mut req = Request::builder().method(method).uri("/api/v2/x/");
        for (k, v) in headers {
            req = req.header(*k, HeaderValue::from_str(v).expect("header"));
        }
        req.body(()).expect("request").into_parts().0
    }

    #[test]
    fn tokens_bind_to_their_session() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let t = token_for(&a);
        assert_eq!(t.len(), 64);
        assert!(matches(&a, &t));
        assert!(!matches(&b, &t));
        assert!(!matches(&a, ""));
        assert!(!matches(&a, &t[1..]));
        // Not the store's hash of the session.
        assert_ne!(t, crate::auth::token::token_hash(&a));
    }

    #[test]
    fn browsers_need_the_header_scripts_do_not() {
        let s = "c".repeat(64);
        let t = token_for(&s);
        let ua = "Mozilla/5.0 (X11; Linux x86_64) Chrome/140";
        // Reads never need it.
        assert!(check_api(&parts(Method::GET, &[("user-agent", ua)]), &s).is_ok());
        // A script keeping Cesi's cookie jar.
        assert!(check_api(&parts(Method::POST, &[("user-agent", "curl/8")]), &s).is_ok());
        assert!(check_api(&parts(Method::POST, &[]), &s).is_ok());
        // A browser without, or with a wrong, token.
        for marks in [
            vec![("user-agent", ua)],
            vec![("origin", "http://hub")],
            vec![("sec-fetch-site", "same-origin")],
        ] {
            assert!(check_api(&parts(Method::POST, &marks), &s).is_err());
            let zeros = "0".repeat(64);
            let mut wrong: Vec<(&'static str, &str)> = marks.clone();
            wrong.push((HEADER, &zeros));
            assert!(check_api(&parts(Method::DELETE, &wrong), &s).is_err());
            let mut right: Vec<(&'static str, &str)> = marks.clone();
            right.push((HEADER, &t));
            assert!(check_api(&parts(Method::PUT, &right), &s).is_ok());
        }
    }
}
