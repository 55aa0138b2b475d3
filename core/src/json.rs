//! Hand-written decoding from `serde_json::Value`, for the types the page
//! reads (trace events, message bodies, actions, sessions, meta commands).
//!
//! Why not `#[derive(Deserialize)]`: a derived impl is generic over the
//! deserializer, and internally tagged enums go through serde's buffered
//! `Content` as well, so every (type, deserializer) pair is a separate copy
//! of the code. That was over 400 KB of the page's wasm (issue 7). Here a
//! text is parsed once into a `Value` (one parser for everything) and the
//! fields are read by the small non-generic functions below. Errors name
//! the field and what was wrong, in serde's words where it had some
//! (`missing field `index``), so that one translation, `plain_words`,
//! turns them and a derived `Deserialize`'s alike into words for the page;
//! unknown fields are ignored.
//!
//! It sits at the crate's root, below both `types` and `trace`, so the
//! wire types read themselves without reaching up into the trace: the
//! dependency points one way, trace → types.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A JSON object.
pub(crate) type Obj = Map<String, Value>;

/// `v` as an object, or an error naming `what` it should have been.
pub(crate) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Obj, String> {
    v.as_object()
        .ok_or_else(|| format!("invalid type: {}, expected {what}", unexpected(v)))
}

/// Serde's description of an unexpected value, e.g. `string "x"`.
pub(crate) fn unexpected(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => format!("integer `{u}`"),
            (None, Some(i)) => format!("integer `{i}`"),
            _ => format!("floating point `{n}`"),
        },
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
    }
}

/// Serde's words for field `field` holding `v` where `expected` was due.
pub(crate) fn bad(field: &str, v: &Value, expected: &str) -> String {
    format!(
        "field `{field}`: invalid type: {}, expected {expected}",
        unexpected(v)
    )
}

fn missing(field: &str) -> String {
    format!("missing field `{field}`")
}

/// A present, non-null field.
fn present<'a>(o: &'a Obj, field: &str) -> Option<&'a Value> {
    o.get(field).filter(|v| !v.is_null())
}

/// A field that must be there (it may be null).
pub(crate) fn required<'a>(o: &'a Obj, field: &str) -> Result<&'a Value, String> {
    o.get(field).ok_or_else(|| missing(field))
}

fn as_u64(field: &str, v: &Value) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| bad(field, v, "u64"))
}

/// A required unsigned integer.
pub(crate) fn u64_of(o: &Obj, field: &str) -> Result<u64, String> {
    as_u64(field, required(o, field)?)
}

/// An unsigned integer that may be absent or null.
pub(crate) fn opt_u64(o: &Obj, field: &str) -> Result<Option<u64>, String> {
    present(o, field).map(|v| as_u64(field, v)).transpose()
}

/// A required unsigned integer that must fit `T` (e.g. a `u16` slot).
pub(crate) fn small_of<T: TryFrom<u64>>(o: &Obj, field: &str) -> Result<T, String> {
    let n = u64_of(o, field)?;
    T::try_from(n).map_err(|_| format!("field `{field}`: {n} is out of range"))
}

/// An unsigned integer that defaults to 0 when absent.
pub(crate) fn u64_or_zero(o: &Obj, field: &str) -> Result<u64, String> {
    match o.get(field) {
        None => Ok(0),
        Some(v) => as_u64(field, v),
    }
}

fn as_bool(field: &str, v: &Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| bad(field, v, "a boolean"))
}

/// A required boolean.
pub(crate) fn bool_of(o: &Obj, field: &str) -> Result<bool, String> {
    as_bool(field, required(o, field)?)
}

/// A boolean that defaults to false when absent.
pub(crate) fn bool_or_false(o: &Obj, field: &str) -> Result<bool, String> {
    match o.get(field) {
        None => Ok(false),
        Some(v) => as_bool(field, v),
    }
}

/// A boolean that may be absent or null.
pub(crate) fn opt_bool(o: &Obj, field: &str) -> Result<Option<bool>, String> {
    present(o, field).map(|v| as_bool(field, v)).transpose()
}

/// A float that may be absent or null (any JSON number reads as one).
pub(crate) fn opt_f64(o: &Obj, field: &str) -> Result<Option<f64>, String> {
    present(o, field)
        .map(|v| v.as_f64().ok_or_else(|| bad(field, v, "f64")))
        .transpose()
}

fn as_str<'a>(field: &str, v: &'a Value) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| bad(field, v, "a string"))
}

/// A required string.
pub(crate) fn str_of<'a>(o: &'a Obj, field: &str) -> Result<&'a str, String> {
    as_str(field, required(o, field)?)
}

/// A required string, owned.
pub(crate) fn string_of(o: &Obj, field: &str) -> Result<String, String> {
    str_of(o, field).map(str::to_string)
}

/// A string that may be absent or null.
pub(crate) fn opt_string(o: &Obj, field: &str) -> Result<Option<String>, String> {
    present(o, field)
        .map(|v| as_str(field, v).map(str::to_string))
        .transpose()
}

/// A string field, or null (`Some(None)`), or absent (`None`): the two
/// levels keep "absent" and `null` apart.
pub(crate) fn present_or_null(o: &Obj, field: &str) -> Result<Option<Option<String>>, String> {
    match o.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => as_str(field, v).map(|s| Some(Some(s.to_string()))),
    }
}

fn as_ids(field: &str, v: &Value) -> Result<Vec<u64>, String> {
    let Value::Array(items) = v else {
        return Err(bad(field, v, "a sequence"));
    };
    items.iter().map(|x| as_u64(field, x)).collect()
}

/// A required array of unsigned integers.
pub(crate) fn ids_of(o: &Obj, field: &str) -> Result<Vec<u64>, String> {
    as_ids(field, required(o, field)?)
}

/// A set of unsigned integers, empty when absent.
pub(crate) fn id_set_or_empty(o: &Obj, field: &str) -> Result<BTreeSet<u64>, String> {
    match o.get(field) {
        None => Ok(BTreeSet::new()),
        Some(v) => as_ids(field, v).map(|ids| ids.into_iter().collect()),
    }
}

/// A required array of arrays of unsigned integers (partition groups).
pub(crate) fn groups_of(o: &Obj, field: &str) -> Result<Vec<Vec<u64>>, String> {
    let v = required(o, field)?;
    let Value::Array(items) = v else {
        return Err(bad(field, v, "a sequence"));
    };
    items.iter().map(|g| as_ids(field, g)).collect()
}

/// A pair `[a, b]` of unsigned integers, if present and not null.
pub(crate) fn opt_pair(o: &Obj, field: &str) -> Result<Option<[u64; 2]>, String> {
    let Some(v) = present(o, field) else {
        return Ok(None);
    };
    match as_ids(field, v)?.as_slice() {
        [a, b] => Ok(Some([*a, *b])),
        other => Err(format!(
            "field `{field}`: invalid length {}, expected an array of length 2",
            other.len()
        )),
    }
}

/// Bytes written as text when UTF-8, else as an array of numbers (see
/// `types::bytes_text`).
pub(crate) fn bytes_of(o: &Obj, field: &str) -> Result<Vec<u8>, String> {
    match required(o, field)? {
        Value::String(s) => Ok(s.clone().into_bytes()),
        Value::Array(items) => items
            .iter()
            .map(|x| {
                x.as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| bad(field, x, "u8"))
            })
            .collect(),
        other => Err(bad(field, other, "a string or an array of bytes")),
    }
}

/// A required field holding one of the names in `table`; returns its value.
pub(crate) fn pick<T: Clone>(o: &Obj, field: &str, table: &[(&str, T)]) -> Result<T, String> {
    let s = str_of(o, field)?;
    pick_name(field, s, table)
}

/// The value named `s` in `table`, or serde's unknown-variant error.
pub(crate) fn pick_name<T: Clone>(field: &str, s: &str, table: &[(&str, T)]) -> Result<T, String> {
    match table.iter().find(|(n, _)| *n == s) {
        Some((_, t)) => Ok(t.clone()),
        None => Err(unknown_variant(field, s, table.iter().map(|(n, _)| *n))),
    }
}

/// Serde's words for a name that is none of `names`.
pub(crate) fn unknown_variant<'a>(
    field: &str,
    s: &str,
    names: impl Iterator<Item = &'a str>,
) -> String {
    let expected: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    format!(
        "field `{field}`: unknown variant `{s}`, expected one of {}",
        expected.join(", ")
    )
}

/// Reads a whole value as `T` through a `Value`: the body of a manual
/// `Deserialize` impl whose work is done by non-generic `decode`.
pub(crate) fn via_value<'de, D, T>(
    d: D,
    decode: fn(&Value) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let v = <Value as serde::Deserialize>::deserialize(d)?;
    decode(&v).map_err(serde::de::Error::custom)
}

/// Implements `Deserialize` for a type by reading a `Value` and handing it
/// to the type's non-generic decoder, so `serde_json::from_str::<T>` and
/// `from_value::<T>` keep working everywhere at the cost of one small shim.
macro_rules! deserialize_via_value {
    ($t:ty, $decode:expr) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::json::via_value(d, $decode)
            }
        }
    };
}
pub(crate) use deserialize_via_value;

// ----- errors in words -----

/// Where a text stops being JSON, in words and with its line when the
/// text has several (`lines`): a teacher who picked the wrong file reads
/// "line 3 is not valid JSON", not a parser's "expected value at line 3 column 1".
pub(crate) fn syntax_words(e: &serde_json::Error, lines: bool) -> String {
    let line = e.line().max(1);
    match (e.is_eof(), lines) {
        (true, true) => format!("it stops at line {line} before its JSON is complete"),
        (true, false) => "it stops before its JSON is complete".into(),
        (false, true) => format!("line {line} is not valid JSON"),
        (false, false) if e.column() <= 1 => "it does not start as JSON".into(),
        (false, false) => format!("it stops being JSON at character {}", e.column()),
    }
}

/// A decoding error (this module's or a derived `Deserialize`'s, which
/// share serde's phrases) in plain words: "field `node`: invalid type:
/// string "one", expected u64" becomes "in "node": the text "one" where a
/// whole number belongs". Phrases it does not know pass unchanged.
pub(crate) fn plain_words(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    // `field `x`: ` prefixes, outermost first.
    while let Some(after) = rest.strip_prefix("field `") {
        let Some((name, tail)) = after.split_once("`: ") else {
            break;
        };
        out.push_str(&format!("in \"{name}\": "));
        rest = tail;
    }
    if let Some(body) = rest.strip_prefix("invalid type: ") {
        let (found, wanted) = body.split_once(", expected ").unwrap_or((body, ""));
        out.push_str(&format!(
            "{} where {} belongs",
            found_words(found),
            wanted_words(wanted)
        ));
    } else if let Some(body) = rest.strip_prefix("invalid value: ") {
        let (found, wanted) = body.split_once(", expected ").unwrap_or((body, ""));
        out.push_str(&format!(
            "{} where {} belongs",
            found_words(found),
            wanted_words(wanted)
        ));
    } else if let Some(body) = rest.strip_prefix("invalid length ") {
        let (n, wanted) = body.split_once(", expected ").unwrap_or((body, ""));
        out.push_str(&format!("{n} items where {} belongs", wanted_words(wanted)));
    } else if let Some(name) = rest
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        out.push_str(&format!("\"{name}\" is missing"));
    } else if let Some(body) = rest.strip_prefix("unknown field `") {
        let (name, known) = body.split_once('`').unwrap_or((body, ""));
        out.push_str(&format!("\"{name}\" is not a field raftlab reads here"));
        let known = names(known);
        if !known.is_empty() {
            out.push_str(&format!(" (it reads {known})"));
        }
    } else if let Some(body) = rest.strip_prefix("unknown variant `") {
        let (name, known) = body.split_once('`').unwrap_or((body, ""));
        out.push_str(&format!("\"{name}\" is not one of {}", names(known)));
    } else {
        out.push_str(rest);
    }
    out
}

/// Serde's `expected one of `a`, `b`` as "a, b".
fn names(text: &str) -> String {
    text.split('`')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What serde found, in words.
fn found_words(found: &str) -> String {
    let tick = |s: &str| s.trim_matches('`').to_string();
    if let Some(s) = found.strip_prefix("string ") {
        format!("the text {s}")
    } else if let Some(n) = found
        .strip_prefix("integer ")
        .or_else(|| found.strip_prefix("floating point "))
    {
        format!("the number {}", tick(n))
    } else if let Some(b) = found.strip_prefix("boolean ") {
        tick(b)
    } else {
        match found {
            "sequence" => "a list".into(),
            "map" => "an object".into(),
            "unit value" | "null" => "null".into(),
            other => other.to_string(),
        }
    }
}

/// What serde expected, in words.
fn wanted_words(wanted: &str) -> String {
    let w = wanted.trim();
    match w {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" => {
            "a whole number".into()
        }
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" | "a borrowed string" => "text".into(),
        "" => "something else".into(),
        _ if w.starts_with("a sequence") || w.starts_with("an array") => "a list".into(),
        _ if w.starts_with("struct ") || w == "a map" || w.starts_with("a JSON object") => {
            "an object".into()
        }
        other => other.replace('`', ""),
    }
}

/// Any error of `serde_json::from_str` in words: where the text stops
/// being JSON, or what a field holds that cannot be used, with its line
/// when the text has several (`lines`) and the parser knows it.
pub(crate) fn error_words(e: &serde_json::Error, lines: bool) -> String {
    use serde_json::error::Category;
    if matches!(e.classify(), Category::Syntax | Category::Eof) {
        return syntax_words(e, lines);
    }
    let text = e.to_string();
    // serde_json appends " at line L column C" when it knows the place.
    let own = match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => &text[..at],
        _ => text.as_str(),
    };
    let words = plain_words(own);
    if lines && e.line() > 0 {
        format!("{words} (line {})", e.line())
    } else {
        words
    }
}

/// `plain_words` for a message that names where first ("lesson "x", step
/// 2, wait_for: invalid type: ..."): the place is kept, the phrase after
/// it put into words.
pub(crate) fn plain_tail(message: &str) -> String {
    const MARKERS: [&str; 7] = [
        "field `",
        "invalid type: ",
        "invalid value: ",
        "invalid length ",
        "missing field `",
        "unknown field `",
        "unknown variant `",
    ];
    match MARKERS.iter().filter_map(|m| message.find(m)).min() {
        Some(at) => format!("{}{}", &message[..at], plain_words(&message[at..])),
        None => message.to_string(),
    }
}
