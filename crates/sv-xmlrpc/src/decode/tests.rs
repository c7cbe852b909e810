//! Decoder unit tests: one group per value type, then one per class of
//! malformed or hostile input.

use std::time::{Duration, Instant};

use super::*;
use crate::value::{Fault, Value};

fn limits() -> Limits {
    Limits::default()
}

/// Wraps one `<value>` body in a response and decodes it.
fn value(inner: &str) -> Result<Value, DecodeError> {
    let doc = format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>{inner}</value>\n</param>\n</params>\n</methodResponse>\n"
    );
    match decode_response(doc.as_bytes(), &limits())? {
        Ok(v) => Ok(v),
        Err(fault) => panic!("unexpected fault {fault:?}"),
    }
}

fn ok(inner: &str) -> Value {
    match value(inner) {
        Ok(v) => v,
        Err(e) => panic!("{inner:?} failed: {e}"),
    }
}

fn err(inner: &str) -> DecodeError {
    match value(inner) {
        Ok(v) => panic!("{inner:?} decoded to {v:?}"),
        Err(e) => e,
    }
}

fn call(doc: &str) -> Result<MethodCall, DecodeError> {
    decode_call(doc.as_bytes(), &limits())
}

fn response(doc: &str) -> Result<Response, DecodeError> {
    decode_response(doc.as_bytes(), &limits())
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

// ---------------------------------------------------------------- ints

#[test]
fn int_and_i4_and_small_ints() {
    assert_eq!(ok("<int>1</int>"), Value::Int(1));
    assert_eq!(ok("<i4>-17</i4>"), Value::Int(-17));
    assert_eq!(ok("<i1>3</i1>"), Value::Int(3));
    assert_eq!(ok("<i2>+4</i2>"), Value::Int(4));
    assert_eq!(ok("<int> \n 42\t</int>"), Value::Int(42));
    assert_eq!(ok("<int>0007</int>"), Value::Int(7));
    assert_eq!(ok("<int>1_000</int>"), Value::Int(1000));
    assert_eq!(ok("<int>2147483647</int>"), Value::Int(i32::MAX));
    assert_eq!(ok("<int>-2147483648</int>"), Value::Int(i32::MIN));
    assert_eq!(ok("<ex:i4>5</ex:i4>"), Value::Int(5));
}

#[test]
fn bad_ints() {
    for bad in [
        "", " ", "abc", "1.0", "0x10", "1__0", "_1", "1_", "--1", "+-1", "1 2", "1e3", "٣",
    ] {
        assert!(
            matches!(
                err(&format!("<int>{bad}</int>")),
                DecodeError::InvalidScalar { tag: "int", .. }
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        err("<int>2147483648</int>"),
        DecodeError::InvalidScalar {
            tag: "int",
            reason: "out of the 32-bit range"
        }
    ));
    assert!(matches!(
        err("<i4>-2147483649</i4>"),
        DecodeError::InvalidScalar { .. }
    ));
}

#[test]
fn i8_values() {
    assert_eq!(ok("<i8>5</i8>"), Value::I8(5));
    assert_eq!(ok("<i8>9223372036854775807</i8>"), Value::I8(i64::MAX));
    assert_eq!(ok("<i8>-9223372036854775808</i8>"), Value::I8(i64::MIN));
    assert_eq!(ok("<biginteger> 12 </biginteger>"), Value::I8(12));
    assert!(matches!(
        err("<i8>9223372036854775808</i8>"),
        DecodeError::InvalidScalar { tag: "i8", .. }
    ));
    assert!(matches!(
        err("<i8>99999999999999999999999999999999999999999999</i8>"),
        DecodeError::InvalidScalar { tag: "i8", .. }
    ));
}

// ---------------------------------------------------------------- booleans

#[test]
fn booleans() {
    assert_eq!(ok("<boolean>1</boolean>"), Value::Bool(true));
    assert_eq!(ok("<boolean>0</boolean>"), Value::Bool(false));
    assert_eq!(ok("<boolean> 1\n</boolean>"), Value::Bool(true));
    for bad in ["", "true", "false", "2", "01", "yes"] {
        assert!(
            matches!(
                err(&format!("<boolean>{bad}</boolean>")),
                DecodeError::InvalidScalar { tag: "boolean", .. }
            ),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- strings

#[test]
fn strings() {
    assert_eq!(ok("<string>hello</string>"), s("hello"));
    assert_eq!(ok("<string/>"), s(""));
    assert_eq!(ok("<string></string>"), s(""));
    assert_eq!(ok("<string>  padded  </string>"), s("  padded  "));
    assert_eq!(
        ok("<string>&lt;&gt;&amp;&apos;&quot;</string>"),
        s("<>&'\"")
    );
    assert_eq!(ok("<string>&#65;&#x42;&#x1F600;</string>"), s("AB😀"));
    assert_eq!(
        ok("<string>a<![CDATA[<b>&amp;]]>c</string>"),
        s("a<b>&amp;c")
    );
    assert_eq!(ok("<string>a<!-- note -->b</string>"), s("ab"));
    assert_eq!(ok("<string>a<?pi x?>b</string>"), s("ab"));
    assert_eq!(ok("<string>\"quotes' > ]</string>"), s("\"quotes' > ]"));
    assert_eq!(ok("<string>ünï©ødé 日本 😀</string>"), s("ünï©ødé 日本 😀"));
}

#[test]
fn line_ends_are_normalised_but_char_refs_are_not() {
    assert_eq!(ok("<string>a\r\nb\rc\nd</string>"), s("a\nb\nc\nd"));
    assert_eq!(ok("<string>a&#13;b&#xD;&#10;</string>"), s("a\rb\r\n"));
    assert_eq!(ok("<string>a<![CDATA[\r\n]]>b</string>"), s("a\nb"));
}

#[test]
fn untyped_values_are_strings() {
    assert_eq!(ok("plain"), s("plain"));
    assert_eq!(ok(""), s(""));
    assert_eq!(ok("  "), s("  "));
    assert_eq!(ok("a &amp; b"), s("a & b"));
    let v = response("<methodResponse><params><param><value/></param></params></methodResponse>");
    assert_eq!(v.ok(), Some(Ok(s(""))));
    // Whitespace around a typed element is layout, not content.
    assert_eq!(ok("\n  <int>3</int>\n  "), Value::Int(3));
}

#[test]
fn text_mixed_with_a_typed_value_is_refused() {
    assert!(matches!(
        err("x<int>3</int>"),
        DecodeError::UnexpectedText {
            element: "value",
            ..
        }
    ));
    assert!(matches!(
        err("<int>3</int>x"),
        DecodeError::UnexpectedText {
            element: "value",
            ..
        }
    ));
}

// ---------------------------------------------------------------- doubles

#[test]
fn doubles() {
    let d = |text: &str| match ok(&format!("<double>{text}</double>")) {
        Value::Double(d) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(d("1.5"), 1.5);
    assert_eq!(d(" -2e3 "), -2000.0);
    assert_eq!(d("1E+16"), 1e16);
    assert_eq!(d(".5"), 0.5);
    assert_eq!(d("5."), 5.0);
    assert_eq!(d("7"), 7.0);
    assert_eq!(d("1_000.000_1"), 1000.0001);
    assert_eq!(d("inf"), f64::INFINITY);
    assert_eq!(d("-Infinity"), f64::NEG_INFINITY);
    assert!(d("nan").is_nan());
    assert!(d("-0.0").is_sign_negative());
    assert_eq!(d("5e-324"), 5e-324);
    assert_eq!(
        ok("<float>2.25</float>"),
        Value::Double(2.25),
        "<float> is Python's alias"
    );
    for bad in ["", "abc", "1e", "1__0", "_1", "1_.5", "0x1p3", "1,5", "."] {
        assert!(
            matches!(
                err(&format!("<double>{bad}</double>")),
                DecodeError::InvalidScalar { tag: "double", .. }
            ),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- dateTime

#[test]
fn datetimes_keep_their_trimmed_text() {
    assert_eq!(
        ok("<dateTime.iso8601>20261122T01:02:03</dateTime.iso8601>"),
        Value::DateTime("20261122T01:02:03".into())
    );
    assert_eq!(
        ok("<dateTime.iso8601>\n 2026-11-22T01:02:03Z </dateTime.iso8601>"),
        Value::DateTime("2026-11-22T01:02:03Z".into())
    );
}

// ---------------------------------------------------------------- base64

#[test]
fn base64_values() {
    assert_eq!(ok("<base64></base64>"), Value::Base64(Vec::new()));
    assert_eq!(ok("<base64/>"), Value::Base64(Vec::new()));
    assert_eq!(
        ok("<base64>aGVsbG8=</base64>"),
        Value::Base64(b"hello".to_vec())
    );
    assert_eq!(
        ok("<base64>\naGVs\r\n bG8g\td29y\nbGQ=\n</base64>"),
        Value::Base64(b"hello world".to_vec())
    );
    // Python ignores stray low bits in the last character.
    assert_eq!(ok("<base64>QR==</base64>"), Value::Base64(b"A".to_vec()));
    for bad in ["QQ", "Q", "!!!!", "aGVsbG8=aGVs"] {
        assert!(
            matches!(
                err(&format!("<base64>{bad}</base64>")),
                DecodeError::InvalidScalar { tag: "base64", .. }
            ),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- nil

#[test]
fn nil() {
    assert_eq!(ok("<nil/>"), Value::Nil);
    assert_eq!(ok("<nil></nil>"), Value::Nil);
    assert_eq!(ok("<ex:nil/>"), Value::Nil);
    assert!(matches!(
        err("<nil>x</nil>"),
        DecodeError::UnexpectedText { element: "nil", .. }
    ));
}

// ---------------------------------------------------------------- containers

#[test]
fn arrays() {
    assert_eq!(ok("<array><data></data></array>"), Value::Array(Vec::new()));
    assert_eq!(ok("<array><data/></array>"), Value::Array(Vec::new()));
    assert_eq!(ok("<array/>"), Value::Array(Vec::new()));
    assert_eq!(ok("<array></array>"), Value::Array(Vec::new()));
    assert_eq!(
        ok(
            "<array>\n <data>\n  <value><int>1</int></value>\n  <value>x</value><value/>\n  <value><array><data><value><nil/></value></data></array></value>\n </data>\n</array>"
        ),
        Value::Array(vec![
            Value::Int(1),
            s("x"),
            s(""),
            Value::Array(vec![Value::Nil])
        ])
    );
    assert!(matches!(
        err("<array><data><int>1</int></data></array>"),
        DecodeError::UnexpectedElement {
            found: "int",
            expected: "<value> or </data>",
            ..
        }
    ));
    assert!(matches!(
        err("<array><value>1</value></array>"),
        DecodeError::UnexpectedElement { found: "value", .. }
    ));
}

#[test]
fn structs_keep_order_and_fold_repeated_names_like_a_dict() {
    assert_eq!(ok("<struct></struct>"), Value::Struct(Vec::new()));
    assert_eq!(ok("<struct/>"), Value::Struct(Vec::new()));
    let v = ok(
        "<struct>\n<member>\n<name>z</name>\n<value><int>1</int></value>\n</member>\n<member><name>a &amp; b</name><value>text</value></member><member><name/><value><nil/></value></member></struct>",
    );
    assert_eq!(
        v,
        Value::Struct(vec![
            ("z".into(), Value::Int(1)),
            ("a & b".into(), s("text")),
            (String::new(), Value::Nil),
        ])
    );
    let v = ok(
        "<struct><member><name>k</name><value>1</value></member><member><name>j</name><value>2</value></member><member><name>k</name><value>3</value></member></struct>",
    );
    assert_eq!(
        v,
        Value::Struct(vec![("k".into(), s("3")), ("j".into(), s("2"))])
    );
}

#[test]
fn large_struct_with_repeated_names_is_linear() {
    let mut doc = String::from("<struct>");
    for i in 0..40_000 {
        doc.push_str(&format!(
            "<member><name>k{}</name><value><int>{i}</int></value></member>",
            i % 20_000
        ));
    }
    doc.push_str("</struct>");
    let started = Instant::now();
    let v = ok(&doc);
    assert!(started.elapsed() < Duration::from_secs(2));
    let members = v.as_struct().map(<[_]>::len);
    assert_eq!(members, Some(20_000));
    assert_eq!(v.get("k0"), Some(&Value::Int(20_000)));
}

#[test]
fn bad_struct_members() {
    assert!(matches!(
        err("<struct><member><value>1</value><name>a</name></member></struct>"),
        DecodeError::UnexpectedElement {
            found: "value",
            expected: "<name>",
            ..
        }
    ));
    assert!(matches!(
        err("<struct><member><name>a</name></member></struct>"),
        DecodeError::UnexpectedEnd {
            expected: "<value>",
            ..
        }
    ));
    assert!(matches!(
        err("<struct><member><name>a</name><value>1</value><value>2</value></member></struct>"),
        DecodeError::UnexpectedElement { found: "value", .. }
    ));
    assert!(matches!(
        err("<struct><member><name><b/></name><value>1</value></member></struct>"),
        DecodeError::UnknownElement { .. }
    ));
    assert!(matches!(
        err("<struct><value>1</value></struct>"),
        DecodeError::UnexpectedElement {
            expected: "<member> or </struct>",
            ..
        }
    ));
}

#[test]
fn two_types_in_one_value_are_refused() {
    assert!(matches!(
        err("<int>1</int><int>2</int>"),
        DecodeError::UnexpectedElement { found: "int", .. }
    ));
    assert!(matches!(
        err("<string>a<int>1</int></string>"),
        DecodeError::UnexpectedElement { found: "int", .. }
    ));
}

// ---------------------------------------------------------------- calls

#[test]
fn calls() {
    let c = call(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n",
    );
    assert_eq!(
        c.ok(),
        Some(MethodCall {
            name: "supervisor.getState".into(),
            params: Vec::new()
        })
    );
    let c = call("<methodCall><methodName>a.b</methodName></methodCall>").ok();
    assert_eq!(c.map(|c| c.params.len()), Some(0));
    let c = call("<methodCall><methodName>a.b</methodName><params/></methodCall>").ok();
    assert_eq!(c.map(|c| c.params.len()), Some(0));
    let c = call(
        "  <methodCall>\r\n\t<methodName>x</methodName>\n<params><param><value><i4>1</i4></value></param>\n<param>\n<value>two</value>\n</param></params></methodCall>  \n",
    );
    assert_eq!(
        c.ok(),
        Some(MethodCall {
            name: "x".into(),
            params: vec![Value::Int(1), s("two")]
        })
    );
    // The name is any text; the dispatcher judges it.
    let c = call("<methodCall><methodName></methodName></methodCall>").ok();
    assert_eq!(c.map(|c| c.name), Some(String::new()));
    let c = call("<methodCall><methodName> a &lt;b </methodName></methodCall>").ok();
    assert_eq!(c.map(|c| c.name), Some(" a <b ".into()));
    let c = call("\u{feff}<methodCall><methodName>bom</methodName></methodCall>").ok();
    assert_eq!(c.map(|c| c.name), Some("bom".into()));
}

#[test]
fn calls_without_method_name_are_refused() {
    assert!(matches!(
        call("<methodCall></methodCall>"),
        Err(DecodeError::MissingMethodName)
    ));
    assert!(matches!(
        call("<methodCall><params/></methodCall>"),
        Err(DecodeError::MissingMethodName)
    ));
    assert!(matches!(
        call("<methodResponse><params/></methodResponse>"),
        Err(DecodeError::UnexpectedElement {
            found: "methodResponse",
            ..
        })
    ));
    assert!(matches!(
        call("<methodCall><methodName>a<b/></methodName></methodCall>"),
        Err(DecodeError::UnknownElement { .. })
    ));
}

#[test]
fn param_structure_errors() {
    assert!(matches!(
        call(
            "<methodCall><methodName>a</methodName><params><value>1</value></params></methodCall>"
        ),
        Err(DecodeError::UnexpectedElement {
            found: "value",
            expected: "<param> or </params>",
            ..
        })
    ));
    assert!(matches!(
        call("<methodCall><methodName>a</methodName><params><param></param></params></methodCall>"),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
    assert!(matches!(
        call(
            "<methodCall><methodName>a</methodName><params>junk<param><value/></param></params></methodCall>"
        ),
        Err(DecodeError::UnexpectedText {
            element: "params",
            ..
        })
    ));
}

// ---------------------------------------------------------------- responses

#[test]
fn faults() {
    let doc = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: x</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
    assert_eq!(
        response(doc).ok(),
        Some(Err(Fault {
            code: 10,
            string: "BAD_NAME: x".into()
        }))
    );
    let doc = "<methodResponse><fault><value><struct><member><name>faultString</name><value>untyped</value></member><member><name>extra</name><value/></member><member><name>faultCode</name><value><i4>-1</i4></value></member></struct></value></fault></methodResponse>";
    assert_eq!(
        response(doc).ok(),
        Some(Err(Fault {
            code: -1,
            string: "untyped".into()
        }))
    );
    for (doc, reason) in [
        (
            "<methodResponse><fault><value>x</value></fault></methodResponse>",
            "not a struct",
        ),
        (
            "<methodResponse><fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>",
            "no faultCode",
        ),
        (
            "<methodResponse><fault><value><struct><member><name>faultCode</name><value>1</value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>",
            "faultCode is not a 32-bit int",
        ),
        (
            "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member></struct></value></fault></methodResponse>",
            "no faultString",
        ),
        (
            "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><int>1</int></value></member></struct></value></fault></methodResponse>",
            "faultString is not a string",
        ),
    ] {
        match response(doc) {
            Err(DecodeError::InvalidFault { reason: r }) => assert_eq!(r, reason),
            other => panic!("{doc}: {other:?}"),
        }
    }
}

#[test]
fn responses_need_exactly_one_param() {
    assert!(matches!(
        response("<methodResponse><params/></methodResponse>"),
        Err(DecodeError::ResponseParams { count: 0 })
    ));
    assert!(matches!(
        response(
            "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>"
        ),
        Err(DecodeError::ResponseParams { count: 2 })
    ));
    assert!(matches!(
        response("<methodResponse></methodResponse>"),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
}

// ---------------------------------------------------------------- encodings

#[test]
fn declared_encodings() {
    let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>caf\xe9</methodName></methodCall>";
    assert_eq!(
        decode_call(latin1, &limits()).ok().map(|c| c.name),
        Some("café".into())
    );
    let utf8 = "<?xml version=\"1.0\" encoding=\"utf-8\"?><methodCall><methodName>café</methodName></methodCall>";
    assert_eq!(call(utf8).ok().map(|c| c.name), Some("café".into()));
    assert!(matches!(
        call(
            "<?xml version='1.0' encoding='utf-16'?><methodCall><methodName>x</methodName></methodCall>"
        ),
        Err(DecodeError::UnsupportedEncoding { .. })
    ));
    assert!(matches!(
        decode_call(
            b"<methodCall><methodName>caf\xe9</methodName></methodCall>",
            &limits()
        ),
        Err(DecodeError::InvalidUtf8 { position: 27 })
    ));
}

// ---------------------------------------------------------------- malformed XML

#[test]
fn malformed_xml() {
    for doc in [
        "",
        "   ",
        "<methodCall>",
        "<methodCall><methodName>x</methodName>",
        "<methodCall><methodName>x</methodCall>",
        "<methodCall><methodName>x</methodName></methodCall></methodCall>",
        "<methodCall><methodName>x</methodName></methodCall",
        "<methodCall><methodName>x & y</methodName></methodCall>",
        "<methodCall><!-- a -- b --><methodName>x</methodName></methodCall>",
        "<methodCall><methodName>x</methodName><![CDATA[</methodCall>",
        "<methodCall attr='x><methodName>x</methodName></methodCall>",
        "<methodCall><methodName>x</methodName></methodCall><!--",
        "not xml at all",
    ] {
        let result = call(doc);
        assert!(result.is_err(), "{doc:?} decoded: {result:?}");
    }
}

#[test]
fn content_after_the_root_is_refused() {
    assert!(matches!(
        call("<methodCall><methodName>x</methodName></methodCall><methodCall/>"),
        Err(DecodeError::TrailingContent { .. })
    ));
    assert!(matches!(
        call("<methodCall><methodName>x</methodName></methodCall>junk"),
        Err(DecodeError::UnexpectedText { .. })
    ));
    assert!(matches!(
        call("junk<methodCall><methodName>x</methodName></methodCall>"),
        Err(DecodeError::UnexpectedText { .. })
    ));
    // Comments and whitespace around the root are fine.
    assert!(
        call("<!-- hi --><methodCall><methodName>x</methodName></methodCall><!-- bye -->\n")
            .is_ok()
    );
}

#[test]
fn declaration_only_at_the_start() {
    assert!(matches!(
        call(" <?xml version='1.0'?><methodCall><methodName>x</methodName></methodCall>"),
        Err(DecodeError::MisplacedDeclaration)
    ));
    assert!(matches!(
        call("<methodCall><?xml version='1.0'?><methodName>x</methodName></methodCall>"),
        Err(DecodeError::MisplacedDeclaration)
    ));
}

#[test]
fn unknown_elements_are_refused_everywhere() {
    for (doc, name) in [
        ("<foo/>", "foo"),
        (
            "<methodCall><foo/><methodName>x</methodName></methodCall>",
            "foo",
        ),
        (
            "<methodCall><methodName>x</methodName><params><param><value><bigdecimal>1</bigdecimal></value></param></params></methodCall>",
            "bigdecimal",
        ),
        (
            "<methodCall><methodName>x</methodName><params><param><value><i16>1</i16></value></param></params></methodCall>",
            "i16",
        ),
    ] {
        match call(doc) {
            Err(DecodeError::UnknownElement { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{doc}: {other:?}"),
        }
    }
    // A known element in the wrong place is a different error.
    assert!(matches!(
        err("<member/>"),
        DecodeError::UnexpectedElement {
            found: "member",
            expected: "a value type",
            ..
        }
    ));
}

#[test]
fn only_predefined_entities_and_char_refs() {
    match err("<string>&foo;</string>") {
        DecodeError::UnknownEntity { name } => assert_eq!(name, "foo"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        err("<string>&nbsp;</string>"),
        DecodeError::UnknownEntity { .. }
    ));
    for bad in [
        "&#0;",
        "&#1;",
        "&#x1B;",
        "&#xFFFE;",
        "&#xD800;",
        "&#x110000;",
        "&#;",
        "&#x;",
        "&#12a;",
    ] {
        let e = err(&format!("<string>{bad}</string>"));
        assert!(
            matches!(
                e,
                DecodeError::InvalidCharRef { .. } | DecodeError::Syntax { .. }
            ),
            "{bad}: {e:?}"
        );
    }
}

#[test]
fn raw_characters_illegal_in_xml_are_refused() {
    for bad in ["\u{0}", "\u{1}", "\u{1b}", "\u{7}", "\u{fffe}", "\u{ffff}"] {
        match err(&format!("<string>a{bad}b</string>")) {
            DecodeError::IllegalChar { code, .. } => {
                assert_eq!(Some(code), bad.chars().next().map(u32::from));
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // Allowed edge characters.
    assert_eq!(
        ok("<string>\t\u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}\u{85}</string>"),
        s("\t\u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}\u{85}")
    );
}

// ---------------------------------------------------------------- hostile input and limits

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>&lol9;</methodName></methodCall>"#;

#[test]
fn billion_laughs_is_refused_fast() {
    let started = Instant::now();
    assert!(matches!(call(BILLION_LAUGHS), Err(DecodeError::Doctype)));
    // Even without the DOCTYPE, the entity is unknown.
    let body = BILLION_LAUGHS
        .rsplit_once("]>")
        .map(|(_, body)| body)
        .unwrap_or_default();
    assert!(matches!(call(body), Err(DecodeError::UnknownEntity { .. })));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn quadratic_blowup_is_refused_fast() {
    // One 100 kB entity referenced 100 000 times would expand to 10 GB.
    let entity = "A".repeat(100_000);
    let refs = "&a;".repeat(100_000);
    let doc = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE kaboom [<!ENTITY a \"{entity}\">]>\n<methodCall><methodName>{refs}</methodName></methodCall>"
    );
    let started = Instant::now();
    assert!(matches!(call(&doc), Err(DecodeError::Doctype)));
    let body = format!("<methodCall><methodName>{refs}</methodName></methodCall>");
    assert!(matches!(
        call(&body),
        Err(DecodeError::UnknownEntity { .. })
    ));
    // Many predefined references are linear, and bounded by the text limit.
    let amps = "&amp;".repeat(1_000_000);
    let doc = format!("<methodCall><methodName>{amps}</methodName></methodCall>");
    assert_eq!(call(&doc).ok().map(|c| c.name.len()), Some(1_000_000));
    let small = Limits {
        max_string_bytes: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode_call(doc.as_bytes(), &small),
        Err(DecodeError::StringTooLong { limit: 1000 })
    ));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn doctype_alone_is_refused() {
    assert!(matches!(
        call("<!DOCTYPE methodCall><methodCall><methodName>x</methodName></methodCall>"),
        Err(DecodeError::Doctype)
    ));
    assert!(matches!(
        call(
            "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><methodCall><methodName>x</methodName></methodCall>"
        ),
        Err(DecodeError::Doctype)
    ));
}

fn nested_arrays(depth: usize) -> String {
    let mut doc = String::from("<methodResponse><params><param><value>");
    for _ in 0..depth {
        doc.push_str("<array><data><value>");
    }
    doc.push_str("<int>1</int>");
    for _ in 0..depth {
        doc.push_str("</value></data></array>");
    }
    doc.push_str("</value></param></params></methodResponse>");
    doc
}

fn nested_structs(depth: usize) -> String {
    let mut doc = String::from("<methodResponse><params><param><value>");
    for _ in 0..depth {
        doc.push_str("<struct><member><name>k</name><value>");
    }
    doc.push_str("<nil/>");
    for _ in 0..depth {
        doc.push_str("</value></member></struct>");
    }
    doc.push_str("</value></param></params></methodResponse>");
    doc
}

#[test]
fn depth_limit() {
    assert!(response(&nested_arrays(32)).is_ok());
    assert!(response(&nested_structs(32)).is_ok());
    assert!(matches!(
        response(&nested_arrays(33)),
        Err(DecodeError::TooDeep { limit: 32 })
    ));
    assert!(matches!(
        response(&nested_structs(33)),
        Err(DecodeError::TooDeep { limit: 32 })
    ));
    // A million levels are refused without recursion or quadratic work.
    let started = Instant::now();
    assert!(matches!(
        response(&nested_arrays(1_000_000)),
        Err(DecodeError::TooDeep { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn deep_nesting_does_not_use_the_call_stack() {
    // With the depth limit lifted, the decoder itself must not overflow.
    let lifted = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let doc = nested_arrays(5_000);
    let mut v = match decode_response(doc.as_bytes(), &lifted) {
        Ok(Ok(v)) => v,
        other => panic!("{other:?}"),
    };
    let mut depth = 0;
    // Take the tree apart iteratively; dropping it whole would recurse.
    while let Value::Array(mut items) = v {
        depth += 1;
        v = items.pop().unwrap_or(Value::Nil);
    }
    assert_eq!(depth, 5_000);
    assert_eq!(v, Value::Int(1));
}

#[test]
fn element_limit() {
    let mut doc = String::from("<methodResponse><params><param><value><array><data>");
    for _ in 0..1000 {
        doc.push_str("<value><int>1</int></value>");
    }
    doc.push_str("</data></array></value></param></params></methodResponse>");
    let tight = Limits {
        max_elements: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode_response(doc.as_bytes(), &tight),
        Err(DecodeError::TooManyElements { limit: 1000 })
    ));
    let enough = Limits {
        max_elements: 2006,
        ..Limits::default()
    };
    assert!(decode_response(doc.as_bytes(), &enough).is_ok());
}

#[test]
fn string_and_input_limits() {
    let tight = Limits {
        max_string_bytes: 10,
        max_input_bytes: 200,
        ..Limits::default()
    };
    let doc = |text: &str| {
        format!(
            "<methodCall><methodName>m</methodName><params><param><value>{text}</value></param></params></methodCall>"
        )
    };
    assert!(decode_call(doc("0123456789").as_bytes(), &tight).is_ok());
    assert!(matches!(
        decode_call(doc("0123456789A").as_bytes(), &tight),
        Err(DecodeError::StringTooLong { limit: 10 })
    ));
    // Counted after references are resolved, across text pieces.
    let r = decode_call(
        doc("012345<!---->&amp;&#65;<![CDATA[xyz]]>").as_bytes(),
        &tight,
    );
    assert!(matches!(r, Err(DecodeError::StringTooLong { .. })), "{r:?}");
    // Whitespace between elements counts too.
    assert!(matches!(
        decode_call(
            format!(
                "<methodCall>{}<methodName>m</methodName></methodCall>",
                " ".repeat(11)
            )
            .as_bytes(),
            &tight
        ),
        Err(DecodeError::StringTooLong { .. })
    ));
    let long = format!("{}{}", doc(""), " ".repeat(200));
    assert!(matches!(
        decode_call(long.as_bytes(), &tight),
        Err(DecodeError::InputTooLarge { limit: 200, .. })
    ));
}

// ---------------------------------------------------------------- error messages

/// A marker that must never show up in an error message.
const MARK: &str = "QXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQXQX";

#[test]
fn errors_never_echo_the_document() {
    let m = MARK;
    let docs = [
        format!("<{m}/>"),
        format!(
            "<methodCall><methodName>x</methodName><params><param><value><{m}>1</{m}></value></param></params></methodCall>"
        ),
        format!("<methodCall><methodName>&{m};</methodName></methodCall>"),
        format!("<methodCall><methodName>&#{m};</methodName></methodCall>"),
        format!("<methodCall><methodName>x</methodName></{m}>"),
        format!(
            "<methodCall><methodName>x</methodName><params><param><value><int>{m}</int></value></param></params></methodCall>"
        ),
        format!(
            "<methodCall><methodName>x</methodName><params><param><value><base64>{m}!</base64></value></param></params></methodCall>"
        ),
        format!("<methodCall><methodName>x</methodName><params>{m}</params></methodCall>"),
        format!("<!DOCTYPE {m} [<!ENTITY {m} '{m}'>]><methodCall/>"),
        format!("<?xml version='1.0' encoding='{m}'?><methodCall/>"),
        format!("<?xml version='{m}'?><methodCall/>"),
        format!("<methodCall {m}='{m}'><methodName>{m}\u{1}</methodName></methodCall>"),
        format!("<methodCall><methodName>x</methodName></methodCall>{m}"),
        format!("<methodCall><methodName>x</methodName></methodCall><{m}/>"),
        format!("<methodCall><methodName>x</methodName><{m}"),
        format!("<methodCall><!-- {m}"),
        format!("<methodCall><methodName>x&{m}"),
    ];
    for doc in docs {
        let message = match call(&doc) {
            Ok(c) => panic!("{doc} decoded to {c:?}"),
            Err(e) => e.to_string(),
        };
        let longest_run = longest_common_run(&message, m);
        assert!(
            longest_run <= NAME_LIMIT,
            "message {message:?} repeats {longest_run} characters of the input"
        );
        assert!(message.len() < 160, "long message {message:?}");
    }
}

fn longest_common_run(message: &str, marker: &str) -> usize {
    (1..=marker.len())
        .rev()
        .find(|&n| {
            marker
                .as_bytes()
                .windows(n)
                .any(|w| message.as_bytes().windows(n).any(|x| x == w))
        })
        .unwrap_or(0)
}
