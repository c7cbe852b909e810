//! The one JSON body extractor: bounded in size, and every malformed body
//! answered with JSON 400 (Cesi answered 500 HTML for a body that was not
//! JSON or not an object, its defect D12).

use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use super::error::ApiError;

/// The most a client may send in one JSON body. Cesi's bodies are a user
/// name and two passwords; this leaves ample room and bounds what one
/// request can make the hub allocate.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Werkzeug's text for a body it could not parse (Cesi's 400).
pub const BAD_BODY_TEXT: &str =
    "The browser (or proxy) sent a request that this server could not understand.";

/// A request body that is a JSON object.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|e| {
                // `to_bytes` reports the limit through its error's source.
                if is_length_limit(&e) {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(BAD_BODY_TEXT.into())
                }
            })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonBody(map)),
            _ => Err(ApiError::BadRequest(BAD_BODY_TEXT.into())),
        }
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("length limit")
}

impl JsonBody {
    /// The names among `keys` that are absent or `null`, in that order —
    /// Cesi's `Please enter valid value for '<names>' fields`.
    pub fn missing(&self, keys: &[&str]) -> Option<ApiError> {
        let missing: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| self.0.get(*k).is_none_or(Value::is_null))
            .collect();
        (!missing.is_empty()).then(|| {
            ApiError::BadRequest(format!(
                "Please enter valid value for '{}' fields",
                missing.join(",")
            ))
        })
    }

    /// The string at `key`, if it is one.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }
}
