//! The XML-RPC value model.

/// One XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>` or `<i4>` (also `<i1>`, `<i2>`, which Python accepts);
    /// encoded as `<int>`.
    Int(i32),
    /// `<i8>` (also `<biginteger>`), the 64-bit extension Python's
    /// `xmlrpc.client` reads; encoded as `<i8>`.
    I8(i64),
    /// `<boolean>`, `0` or `1` on the wire.
    Bool(bool),
    /// `<string>`, or the text of a `<value>` with no type element.
    String(String),
    /// `<double>` (also `<float>`).
    Double(f64),
    /// `<dateTime.iso8601>`, kept as its text (trimmed), e.g.
    /// `"20261122T01:02:03"`; the caller decides how to interpret it.
    DateTime(String),
    /// `<base64>`, decoded.
    Base64(Vec<u8>),
    /// `<struct>` members in document order. The decoder folds a repeated
    /// member name into the first occurrence's slot with the last value,
    /// as a Python dict would.
    Struct(Vec<(String, Value)>),
    /// `<array><data>…</data></array>`.
    Array(Vec<Value>),
    /// `<nil/>`, Python's `None` with `allow_none=True`.
    Nil,
}

/// An XML-RPC fault: `faultCode` and `faultString`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault {code}: {string}")]
pub struct Fault {
    /// `faultCode`.
    pub code: i32,
    /// `faultString`.
    pub string: String,
}

/// A decoded or to-be-encoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    /// The `<methodName>` text, unvalidated (the dispatcher decides what is
    /// a valid name).
    pub name: String,
    /// The `<param>` values in order.
    pub params: Vec<Value>,
}

/// A `<methodResponse>`: one value, or a fault.
pub type Response = Result<Value, Fault>;

impl Value {
    /// The text of a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number held by [`Value::Int`], or by [`Value::I8`] when it fits
    /// in 32 bits: a Python peer does not distinguish the two, so a small
    /// `<i8>` argument is as good as an `<int>`.
    pub fn as_i32(&self) -> Option<i32> {
        match self {
            Value::Int(n) => Some(*n),
            Value::I8(n) => i32::try_from(*n).ok(),
            _ => None,
        }
    }

    /// The flag held by [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of a [`Value::Array`].
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members of a [`Value::Struct`].
    pub fn as_struct(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    /// The value of struct member `key`. If a hand-built struct repeats a
    /// name, the last one wins, which is what a Python peer would see.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_struct()?
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// The XML-RPC element name of this value's type, for messages such as
    /// "expected int, got string".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::I8(_) => "i8",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        assert_eq!(Value::from("x").as_str(), Some("x"));
        assert_eq!(Value::from(String::from("y")).as_str(), Some("y"));
        assert_eq!(Value::from(5).as_i32(), Some(5));
        assert_eq!(Value::I8(7).as_i32(), Some(7));
        assert_eq!(Value::I8(1 << 40).as_i32(), None);
        assert_eq!(Value::from(true).as_bool(), Some(true));
        assert_eq!(Value::from(1).as_bool(), None);
        assert_eq!(
            Value::from(vec![Value::Nil]).as_array(),
            Some(&[Value::Nil][..])
        );
        let s = Value::Struct(vec![
            ("a".into(), 1.into()),
            ("b".into(), 2.into()),
            ("a".into(), 3.into()),
        ]);
        assert_eq!(s.get("a"), Some(&Value::Int(3)));
        assert_eq!(s.get("b"), Some(&Value::Int(2)));
        assert_eq!(s.get("c"), None);
        assert_eq!(Value::Nil.get("a"), None);
        assert_eq!(s.as_struct().map(<[_]>::len), Some(3));
        assert_eq!(Value::Nil.as_str(), None);
    }

    #[test]
    fn type_names() {
        let cases = [
            (Value::Int(1), "int"),
            (Value::I8(1), "i8"),
            (Value::Bool(true), "boolean"),
            (Value::String(String::new()), "string"),
            (Value::Double(1.0), "double"),
            (Value::DateTime(String::new()), "dateTime.iso8601"),
            (Value::Base64(Vec::new()), "base64"),
            (Value::Struct(Vec::new()), "struct"),
            (Value::Array(Vec::new()), "array"),
            (Value::Nil, "nil"),
        ];
        for (value, name) in cases {
            assert_eq!(value.type_name(), name);
        }
    }

    #[test]
    fn fault_displays_code_and_string() {
        let f = Fault {
            code: 10,
            string: "BAD_NAME: x".into(),
        };
        assert_eq!(f.to_string(), "fault 10: BAD_NAME: x");
    }
}
