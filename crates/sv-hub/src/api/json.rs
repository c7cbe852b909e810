//! Cesi's JSON bytes: compact (`,` and `:`), keys sorted at every level,
//! non-ASCII escaped as `\uXXXX` (UTF-16 pairs above the BMP), and a
//! trailing newline — what Flask's `jsonify` writes. Scripts that diff
//! answers byte for byte keep working.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Encodes `value` the way Cesi does.
pub fn to_cesi_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out.push('\n');
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // The workspace builds serde_json with `preserve_order`, so the
            // map keeps insertion order; Cesi's answers are sorted.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON answer with Cesi's bytes and content type.
#[derive(Debug, Clone)]
pub struct CesiJson(pub StatusCode, pub Value);

impl IntoResponse for CesiJson {
    fn into_response(self) -> Response {
        let mut response = (self.0, to_cesi_string(&self.1)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// `{"status":"success", …fields}` with 200.
pub fn success(fields: Value) -> CesiJson {
    let mut map = match fields {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    map.insert("status".into(), Value::from("success"));
    CesiJson(StatusCode::OK, Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_compact_and_end_with_a_newline() {
        let v = json!({"status": "success", "users": [{"type": 2, "name": "jürgen"}]});
        assert_eq!(
            to_cesi_string(&v),
            "{\"status\":\"success\",\"users\":[{\"name\":\"j\\u00fcrgen\",\"type\":2}]}\n"
        );
    }

    #[test]
    fn astral_characters_are_utf16_pairs_and_controls_escaped() {
        assert_eq!(
            to_cesi_string(&json!("😀\u{1}/")),
            "\"\\ud83d\\ude00\\u0001/\"\n"
        );
    }

    #[test]
    fn delete_passes_through_as_python_does() {
        // Python's json.dumps with ensure_ascii escapes only > 0x7f; 0x7f
        // itself passes through.
        assert_eq!(to_cesi_string(&json!("\u{7f}")), "\"\u{7f}\"\n");
    }
}
