//! Basic authentication of the HTTP servers: the `username` / `password`
//! of `[unix_http_server]` and `[inet_http_server]`, the password plain or
//! `{SHA}`-hashed as in Supervisor, compared in constant time; and the
//! `401` answer Medusa gives.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use subtle::ConstantTimeEq;

/// The answer refusing the request, unless it carries `expected` (when
/// credentials are configured).
pub(super) fn refusal(
    headers: &HeaderMap,
    expected: Option<&(String, String)>,
) -> Option<Response> {
    let status = check_auth(headers, expected?).err()?;
    Some(if status == StatusCode::UNAUTHORIZED {
        unauthorized()
    } else {
        super::error(status)
    })
}

/// The `401` with the challenge Medusa sends.
fn unauthorized() -> Response {
    let mut response = super::error(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"default\""),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Whether the request carries the configured credentials. `Err` is the
/// status to answer: 401, or 400 for undecodable credentials (as Medusa).
fn check_auth(headers: &HeaderMap, expected: &(String, String)) -> Result<(), StatusCode> {
    let denied = StatusCode::UNAUTHORIZED;
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(denied)?;
    let (scheme, encoded) = value.split_once(' ').ok_or(denied)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(denied);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let decoded = String::from_utf8_lossy(&decoded);
    // Supervisor answers 500 for credentials without a colon; 401 is right.
    let (user, password) = decoded.split_once(':').ok_or(denied)?;
    if password_matches(user, password, expected) {
        Ok(())
    } else {
        Err(denied)
    }
}

/// Plain or `{SHA}`-hashed password, compared in constant time.
fn password_matches(user: &str, password: &str, expected: &(String, String)) -> bool {
    let user_ok = user.as_bytes().ct_eq(expected.0.as_bytes());
    let password_ok = match expected.1.strip_prefix("{SHA}") {
        Some(hashed) => {
            use sha1::Digest as _;
            let digest = sha1::Sha1::digest(password.as_bytes());
            hex::encode(digest).as_bytes().ct_eq(hashed.as_bytes())
        }
        None => password.as_bytes().ct_eq(expected.1.as_bytes()),
    };
    bool::from(user_ok & password_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_plain_and_sha() {
        let plain = ("user".to_string(), "123".to_string());
        assert!(password_matches("user", "123", &plain));
        assert!(!password_matches("user", "1234", &plain));
        assert!(!password_matches("users", "123", &plain));
        // echo -n 123 | sha1sum
        let sha = (
            "user".to_string(),
            "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef".to_string(),
        );
        assert!(password_matches("user", "123", &sha));
        assert!(!password_matches(
            "user",
            "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef",
            &sha
        ));
    }

    #[test]
    fn auth_header_forms() {
        let creds = ("user".to_string(), "pw".to_string());
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            check_auth(&h, &creds)
        };
        let good = base64::engine::general_purpose::STANDARD.encode("user:pw");
        assert_eq!(with(&format!("Basic {good}")), Ok(()));
        assert_eq!(with(&format!("basic {good}")), Ok(()));
        assert_eq!(
            with("Basic dXNlcg=="),
            Err(StatusCode::UNAUTHORIZED),
            "no colon: 401, not 500"
        );
        assert_eq!(with("Basic !!!"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(
            with(&format!("Bearer {good}")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            check_auth(&HeaderMap::new(), &creds),
            Err(StatusCode::UNAUTHORIZED)
        );
    }
}
