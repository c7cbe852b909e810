//! Round trips against `dxr`, an independent Rust XML-RPC implementation
//! (on quick-xml's serde layer), used only as a test oracle.
//!
//! Both directions are checked for the subset dxr supports (structs are
//! sorted maps there, and dateTimes must be valid dates):
//! * dxr reads our output as the value we encoded;
//! * we read dxr's output as dxr itself reads it, and as the value it was
//!   given.
//!
//! "The same value" allows for what the encoder and any XML parser change
//! (forbidden characters → U+FFFD, raw `\r` → `\n`) and for member order.

mod common;

use common::{read_back, same, sanitise_text, sanitised};
use proptest::prelude::*;
use sv_xmlrpc::{
    Fault, Limits, MethodCall, Value, decode_call, decode_response, encode_call, encode_response,
};

fn to_dxr(v: &Value) -> dxr::Value {
    match v {
        Value::Int(n) => dxr::Value::Integer(*n),
        Value::I8(n) => dxr::Value::Long(*n),
        Value::Bool(b) => dxr::Value::Boolean(*b),
        Value::String(s) => dxr::Value::String(s.clone()),
        Value::Double(d) => dxr::Value::Double(*d),
        Value::DateTime(s) => dxr::Value::DateTime(s.parse().expect("valid dateTime")),
        Value::Base64(bytes) => dxr::Value::Base64(bytes.clone()),
        Value::Struct(members) => dxr::Value::Struct(
            members
                .iter()
                .map(|(k, v)| (k.clone(), to_dxr(v)))
                .collect(),
        ),
        Value::Array(items) => dxr::Value::Array(items.iter().map(to_dxr).collect()),
        Value::Nil => dxr::Value::Nil,
    }
}

fn from_dxr(v: &dxr::Value) -> Value {
    match v {
        dxr::Value::Integer(n) => Value::Int(*n),
        dxr::Value::Long(n) => Value::I8(*n),
        dxr::Value::Boolean(b) => Value::Bool(*b),
        dxr::Value::String(s) => Value::String(s.clone()),
        dxr::Value::Double(d) => Value::Double(*d),
        dxr::Value::DateTime(dt) => Value::DateTime(dt.to_string()),
        dxr::Value::Base64(bytes) => Value::Base64(bytes.clone()),
        // A BTreeMap: already sorted by name.
        dxr::Value::Struct(members) => Value::Struct(
            members
                .iter()
                .map(|(k, v)| (k.clone(), from_dxr(v)))
                .collect(),
        ),
        dxr::Value::Array(items) => Value::Array(items.iter().map(from_dxr).collect()),
        dxr::Value::Nil => Value::Nil,
        other => panic!("dxr value without a counterpart: {other:?}"),
    }
}

/// Struct members sorted by name, as dxr keeps them.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Struct(members) => {
            let mut members: Vec<(String, Value)> = members
                .iter()
                .map(|(k, v)| (k.clone(), sorted(v)))
                .collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Struct(members)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Replaces dateTime text by a valid date derived from it (dxr parses
/// dateTimes; Python and this crate keep the text).
fn valid_dates(v: Value) -> Value {
    match v {
        Value::DateTime(s) => {
            let h = s
                .bytes()
                .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            Value::DateTime(format!(
                "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
                1970 + h % 130,
                1 + h % 12,
                1 + h % 28,
                h % 24,
                (h / 24) % 60,
                (h / 7) % 60
            ))
        }
        Value::Struct(members) => Value::Struct(
            members
                .into_iter()
                .map(|(k, v)| (k, valid_dates(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(valid_dates).collect()),
        other => other,
    }
}

/// dxr cannot read a struct member name or method name that is empty or
/// only whitespace once line ends are normalised.
fn dxr_can_name(name: &str) -> bool {
    !common::normalise_text(&sanitise_text(name))
        .chars()
        .all(|c| matches!(c, ' ' | '\t' | '\n'))
}

/// Renames members dxr cannot read, keeping names distinct.
fn dxr_names(v: Value) -> Value {
    match v {
        Value::Struct(members) => {
            let mut seen = std::collections::HashSet::new();
            Value::Struct(
                members
                    .into_iter()
                    .map(|(k, v)| {
                        let k = if dxr_can_name(&k) { k } else { format!("k{k}") };
                        (k, dxr_names(v))
                    })
                    .filter(|(k, _)| seen.insert(common::normalise_text(&sanitise_text(k))))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(dxr_names).collect()),
        other => other,
    }
}

fn dxr_value() -> impl Strategy<Value = Value> {
    common::value().prop_map(|v| dxr_names(valid_dates(v)))
}

fn ours_decode_response(xml: &str) -> Value {
    match decode_response(xml.as_bytes(), &Limits::default()) {
        Ok(Ok(v)) => v,
        other => panic!("cannot decode {xml:?}: {other:?}"),
    }
}

fn check_value(v: &Value) -> Result<(), TestCaseError> {
    let expected = sorted(&read_back(v));

    // Ours → dxr.
    let ours = String::from_utf8(encode_response(&Ok(v.clone()))).expect("UTF-8");
    let theirs = dxr::MethodResponse::from_xml(&ours)
        .map_err(|e| TestCaseError::fail(format!("dxr cannot read our output: {e}")))?;
    let read = from_dxr(&theirs.value);
    prop_assert!(
        same(&read, &expected, false),
        "dxr reads {:?}, expected {:?}",
        read,
        expected
    );

    // dxr → ours. dxr writes forbidden characters raw (so would we refuse
    // them), hence it gets the sanitised value.
    let xml = dxr::MethodResponse {
        value: to_dxr(&sanitised(v)),
    }
    .to_xml()
    .map_err(|e| TestCaseError::fail(format!("dxr cannot write: {e}")))?;
    let decoded = sorted(&ours_decode_response(&xml));
    let dxr_reads = dxr::MethodResponse::from_xml(&xml)
        .map_err(|e| TestCaseError::fail(format!("dxr cannot read itself: {e}")))?;
    let dxr_reads = from_dxr(&dxr_reads.value);
    prop_assert!(
        same(&decoded, &dxr_reads, false),
        "we read dxr's output as {:?}, dxr reads {:?}",
        decoded,
        dxr_reads
    );
    // dxr writes `\r` as `&#13;`, so only the sanitising applies here.
    let given = sorted(&sanitised(v));
    prop_assert!(
        same(&decoded, &given, false),
        "we read dxr's output as {:?}, expected {:?}",
        decoded,
        given
    );
    Ok(())
}

fn check_call(name: &str, params: &[Value]) -> Result<(), TestCaseError> {
    let expected: Vec<Value> = params.iter().map(|p| sorted(&read_back(p))).collect();
    let expected_name = common::normalise_text(&sanitise_text(name));

    let ours = String::from_utf8(encode_call(&MethodCall {
        name: name.to_owned(),
        params: params.to_vec(),
    }))
    .expect("UTF-8");
    let theirs = dxr::MethodCall::from_xml(&ours)
        .map_err(|e| TestCaseError::fail(format!("dxr cannot read our call: {e}")))?;
    prop_assert_eq!(theirs.name.as_ref(), expected_name.as_str());
    let read: Vec<Value> = theirs.params.iter().map(from_dxr).collect();
    prop_assert!(same(
        &Value::Array(read),
        &Value::Array(expected.clone()),
        false
    ));

    let xml = dxr::MethodCall {
        name: sanitise_text(name).into(),
        params: params.iter().map(|p| to_dxr(&sanitised(p))).collect(),
    }
    .to_xml()
    .map_err(|e| TestCaseError::fail(format!("dxr cannot write: {e}")))?;
    let decoded = decode_call(xml.as_bytes(), &Limits::default())
        .map_err(|e| TestCaseError::fail(format!("cannot decode dxr's call: {e}")))?;
    // dxr writes `\r` as `&#13;`, so only the sanitising applies here.
    prop_assert_eq!(&decoded.name, &sanitise_text(name));
    let decoded: Vec<Value> = decoded.params.iter().map(sorted).collect();
    let given: Vec<Value> = params.iter().map(|p| sorted(&sanitised(p))).collect();
    prop_assert!(same(&Value::Array(decoded), &Value::Array(given), false));
    Ok(())
}

fn check_fault(fault: &Fault) -> Result<(), TestCaseError> {
    let expected = Fault {
        code: fault.code,
        string: common::normalise_text(&sanitise_text(&fault.string)),
    };
    let ours = String::from_utf8(encode_response(&Err(fault.clone()))).expect("UTF-8");
    let theirs = dxr::FaultResponse::from_xml(&ours)
        .map_err(|e| TestCaseError::fail(format!("dxr cannot read our fault: {e}")))?;
    prop_assert_eq!(theirs.fault.code(), expected.code);
    prop_assert_eq!(theirs.fault.string(), expected.string.as_str());

    let xml = dxr::FaultResponse {
        fault: dxr::Fault::new(fault.code, sanitise_text(&fault.string)),
    }
    .to_xml()
    .map_err(|e| TestCaseError::fail(format!("dxr cannot write: {e}")))?;
    let given = Fault {
        code: fault.code,
        string: sanitise_text(&fault.string),
    };
    match decode_response(xml.as_bytes(), &Limits::default()) {
        Ok(Err(decoded)) => prop_assert_eq!(decoded, given),
        other => prop_assert!(false, "expected a fault from {:?}, got {:?}", xml, other),
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn values_round_trip_through_dxr(v in dxr_value()) {
        check_value(&v)?;
    }

    #[test]
    fn calls_round_trip_through_dxr(
        name in common::tricky_string().prop_filter("dxr needs a name", |n| dxr_can_name(n)),
        params in proptest::collection::vec(dxr_value(), 0..4),
    ) {
        check_call(&name, &params)?;
    }

    #[test]
    fn faults_round_trip_through_dxr(code in any::<i32>(), string in common::tricky_string()) {
        check_fault(&Fault { code, string })?;
    }
}
