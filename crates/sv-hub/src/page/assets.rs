//! The page's static files, compiled in (`crates/sv-hub/static/`), served
//! at `/static/<name>`.
//!
//! Pages link them as `/static/<name>?v=<hash>` ([`url`]; the hash is the
//! first 16 hex digits of the content's SHA-256): a request naming the
//! current hash is cached for a year as `immutable`, since a new build
//! changes the URL; any other request is `no-cache` with the hash as
//! `ETag`, so a browser revalidates and gets `304` while it is current.

use std::sync::OnceLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One static file.
pub struct Asset {
    /// Its name under `/static/`.
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every static file. Add a page's script or stylesheet here.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "hub.css",
        content_type: CSS,
        body: include_str!("../../static/hub.css"),
    },
    Asset {
        name: "hub.js",
        content_type: JS,
        body: include_str!("../../static/hub.js"),
    },
    Asset {
        name: "overview.js",
        content_type: JS,
        body: include_str!("../../static/overview.js"),
    },
    // More assets below this line.
    Asset {
        name: "node.js",
        content_type: JS,
        body: include_str!("../../static/node.js"),
    },
    Asset {
        name: "process.js",
        content_type: JS,
        body: include_str!("../../static/process.js"),
    },
    Asset {
        name: "users.js",
        content_type: JS,
        body: include_str!("../../static/users.js"),
    },
    Asset {
        name: "profile.js",
        content_type: JS,
        body: include_str!("../../static/profile.js"),
    },
    Asset {
        name: "activity.js",
        content_type: JS,
        body: include_str!("../../static/activity.js"),
    },
];

fn hashes() -> &'static [String] {
    static HASHES: OnceLock<Vec<String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| hex::encode(&Sha256::digest(a.body.as_bytes())[..8]))
            .collect()
    })
}

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    let i = ASSETS.iter().position(|a| a.name == name)?;
    Some((&ASSETS[i], hashes()[i].as_str()))
}

/// `/static/<name>?v=<hash>` for a known asset (a bare path otherwise,
/// which shows up as a 404 in a test rather than a broken build).
pub fn url(name: &str) -> String {
    match find(name) {
        Some((asset, hash)) => format!("/static/{}?v={hash}", asset.name),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/<name>` (no session needed: nothing here is private).
pub async fn serve(
    Path(name): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((asset, hash)) = find(&name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{hash}\"");
    let cache = if query.get("v").map(String::as_str) == Some(hash) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_content_hash() {
        let u = url("hub.css");
        assert!(u.starts_with("/static/hub.css?v="), "{u}");
        assert_eq!(u.len(), "/static/hub.css?v=".len() + 16);
        assert_eq!(url("nope.js"), "/static/nope.js");
        let names: std::collections::HashSet<_> = ASSETS.iter().map(|a| a.name).collect();
        assert_eq!(names.len(), ASSETS.len(), "asset names are unique");
    }
}
