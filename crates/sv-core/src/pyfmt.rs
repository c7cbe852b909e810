//! Placeholder; replaced by the full port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("unknown name {0}")]
    UnknownName(String),
    #[error("{0}")]
    Bad(String),
}
pub fn format(
    template: &str,
    vars: &impl Fn(&str) -> Option<Value>,
) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('%') {
            out.push('%');
            rest = a;
            continue;
        }
        let Some(a) = after.strip_prefix('(') else {
            return Err(FormatError::Bad("bad".into()));
        };
        let Some(close) = a.find(')') else {
            return Err(FormatError::Bad("incomplete format key".into()));
        };
        let name = &a[..close];
        let tail = &a[close + 1..];
        let v = vars(name).ok_or_else(|| FormatError::UnknownName(name.to_string()))?;
        let Some(c) = tail.chars().next() else {
            return Err(FormatError::Bad("incomplete format".into()));
        };
        match (c, v) {
            ('s', Value::Str(s)) => out.push_str(&s),
            ('s', Value::Int(n)) | ('d', Value::Int(n)) => out.push_str(&n.to_string()),
            _ => return Err(FormatError::Bad("bad".into())),
        }
        rest = &tail[c.len_utf8()..];
    }
    out.push_str(rest);
    Ok(out)
}
pub fn py_repr_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{s}'")
    }
}
