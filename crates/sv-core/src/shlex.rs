//! Placeholder; replaced by the full port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShlexError {
    #[error("No closing quotation")]
    NoClosingQuotation,
    #[error("No escaped character")]
    NoEscapedCharacter,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KvError(pub String);
pub fn split(s: &str) -> Result<Vec<String>, ShlexError> {
    Ok(s.split_whitespace().map(String::from).collect())
}
pub fn dict_of_key_value_pairs(s: &str) -> Result<Vec<(String, String)>, KvError> {
    let mut v = Vec::new();
    for p in s.split(',') {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let Some((k, x)) = p.split_once('=') else {
            return Err(KvError(format!(
                "Unexpected end of key/value pairs in value '{s}'"
            )));
        };
        v.push((
            k.trim().to_string(),
            x.trim().trim_matches(|c| c == '"' || c == '\'').to_string(),
        ));
    }
    Ok(v)
}
