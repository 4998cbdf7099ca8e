//! Path-aware decoding of JSON records, shared by `spend_request`, `auth`, `poll`, `validate`
//! and `error`'s JSON form: the ground floor of the crate (it uses only [`crate::error`]).
//!
//! serde's derived `Deserialize` stops at the first problem and does not say where it was; the
//! core promises `VALIDATION_ERROR`s that list every broken field by path (`card.exp_month`,
//! `line_items[0].amount`). [`record!`] declares a struct once and derives both: a `Serialize`
//! that omits absent optional members and keeps unknown ones (`extra`), and a [`Decode`] that
//! reports every wrong member.

use crate::error::{Error, FieldError, FieldErrors, Result};
use serde_json::{Map, Value};
use std::fmt;

/// A secret string (card number, CVC, token): serialised as is, never shown by `Debug`.
///
/// Keeping secrets in this type makes `{:?}` in logs, panics and test failures safe by
/// construction; reading the value needs an explicit [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first 20 characters and `...`: what `auth status` shows of an access token.
    pub fn preview(&self) -> String {
        let head: String = self.0.chars().take(20).collect();
        format!("{head}...")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A member path: `base.key`, or `key` at the root.
pub(crate) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Where a value sits, spelled out only when an error names it.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root(path) => path.to_string(),
            Path::Key(base, key) => join(&base.render(), key),
            Path::Index(base, i) => format!("{}[{i}]", base.render()),
        }
    }
}

/// What a value must be. One interpreter ([`check`]) reads these tables for every record, so
/// each record costs a table and a builder instead of its own decoder.
pub(crate) enum Kind {
    /// A string (also [`Secret`]).
    Str,
    Bool,
    /// An `i64`.
    Int,
    /// A non-negative integer that fits a `u32`.
    U32,
    /// A non-negative integer that fits a `u64`.
    U64,
    /// Any JSON number.
    Number,
    /// Any JSON value.
    Any,
    /// Any JSON object.
    Object,
    /// A [`Timestamp`]: an `i64` or a string.
    Timestamp,
    /// A string that a parser accepts (a spend-request status: `Status::parse`); the messages
    /// of its field errors are reported at the member's path.
    Name(fn(&str) -> Result<()>),
    /// A record: an object whose members each follow their own kind.
    Record(&'static [Member]),
    /// A record, or a string standing for `{id}` (the shared payment token).
    RecordOrId(&'static [Member]),
    /// An array whose elements all follow one kind.
    List(&'static Kind),
}

/// One member of a record: its key, its kind, and whether it may be missing or `null`.
pub(crate) struct Member {
    pub(crate) key: &'static str,
    pub(crate) kind: Kind,
    pub(crate) optional: bool,
}

/// Checks a value that may be missing, pushing one field error per problem; `true` when the
/// value is usable.
fn check_member(
    value: Option<&Value>,
    kind: &Kind,
    optional: bool,
    path: &Path<'_>,
    errors: &mut FieldErrors,
) -> bool {
    match value {
        None if optional => true,
        None => {
            errors.push(path.render(), "is required");
            false
        }
        Some(Value::Null) if optional => true,
        Some(value) => check(value, kind, path, errors),
    }
}

/// Checks a present value against `kind`, pushing one field error per problem (depth first,
/// members in declaration order); `true` when it is usable.
fn check(value: &Value, kind: &Kind, path: &Path<'_>, errors: &mut FieldErrors) -> bool {
    let expected = match kind {
        Kind::Str if value.is_string() => return true,
        Kind::Str => "expected a string",
        Kind::Bool if value.is_boolean() => return true,
        Kind::Bool => "expected a boolean",
        Kind::Int if value.is_i64() => return true,
        Kind::Int => "expected an integer",
        Kind::U32 if value.as_u64().is_some_and(|n| u32::try_from(n).is_ok()) => return true,
        Kind::U64 if value.is_u64() => return true,
        Kind::U32 | Kind::U64 => "expected a non-negative integer",
        Kind::Number if value.is_number() => return true,
        Kind::Number => "expected a number",
        Kind::Any => return true,
        Kind::Object if value.is_object() => return true,
        Kind::Timestamp if value.is_i64() || value.is_string() => return true,
        Kind::Timestamp => "expected a unix timestamp or a date string",
        Kind::Name(parse) => match value.as_str() {
            Some(s) => match parse(s) {
                Ok(_) => return true,
                Err(e) => {
                    for f in e.field_errors {
                        errors.push(path.render(), f.message);
                    }
                    return false;
                }
            },
            None => "expected a string",
        },
        Kind::Record(members) | Kind::RecordOrId(members) => match value {
            Value::Object(object) => {
                let mut ok = true;
                for m in members.iter() {
                    let at = Path::Key(path, m.key);
                    ok &= check_member(object.get(m.key), &m.kind, m.optional, &at, errors);
                }
                return ok;
            }
            Value::String(_) if matches!(kind, Kind::RecordOrId(_)) => return true,
            _ if matches!(kind, Kind::RecordOrId(_)) => "expected an object or a string",
            _ => "expected an object",
        },
        Kind::Object => "expected an object",
        Kind::List(item) => match value.as_array() {
            Some(items) => {
                let mut ok = true;
                for (i, value) in items.iter().enumerate() {
                    ok &= check(value, item, &Path::Index(path, i), errors);
                }
                return ok;
            }
            None => "expected an array",
        },
    };
    errors.push(path.render(), expected);
    false
}

/// A type read from JSON: its [`Kind`] is checked first (every problem reported by path), then
/// [`Decode::take`] builds the value, which can no longer fail.
pub(crate) trait Decode: Sized {
    /// What the JSON value must be.
    const KIND: Kind;
    /// Whether the member may be missing or `null` (only `Option`).
    const OPTIONAL: bool = false;

    /// Builds the value from JSON that passed the [`Decode::KIND`] check (anything else gives
    /// a default, never a panic).
    fn take(value: Option<&Value>) -> Self;

    /// Decodes an object member that may be missing: required unless `Option`.
    fn member(value: Option<&Value>, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        check_member(
            value,
            &Self::KIND,
            Self::OPTIONAL,
            &Path::Root(path),
            errors,
        )
        .then(|| Self::take(value))
    }

    /// Whether `Serialize` should omit the member (only `None` is absent).
    fn is_absent(&self) -> bool {
        false
    }
}

/// Checks a whole argument; `VALIDATION_ERROR` listing every broken field otherwise.
pub(crate) fn check_root<T: Decode>(value: &Value, path: &str) -> Result<()> {
    check_kind(value, &T::KIND, path)
}

fn check_kind(value: &Value, kind: &Kind, path: &str) -> Result<()> {
    let mut errors = FieldErrors::new();
    if check(value, kind, &Path::Root(path), &mut errors) && errors.is_empty() {
        return Ok(());
    }
    if errors.is_empty() {
        errors.push(path, "is invalid");
    }
    Err(Error::validation(errors.into_vec()))
}

/// Decodes a whole argument; `VALIDATION_ERROR` listing every broken field otherwise.
pub(crate) fn decode_root<T: Decode>(value: &Value, path: &str) -> Result<T> {
    check_root::<T>(value, path).map(|()| T::take(Some(value)))
}

impl<T: Decode> Decode for Option<T> {
    const KIND: Kind = T::KIND;
    const OPTIONAL: bool = true;

    fn take(value: Option<&Value>) -> Self {
        match value {
            None | Some(Value::Null) => None,
            value => Some(T::take(value)),
        }
    }

    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl Decode for String {
    const KIND: Kind = Kind::Str;
    fn take(value: Option<&Value>) -> Self {
        text(value)
    }
}

impl Decode for Secret {
    const KIND: Kind = Kind::Str;
    fn take(value: Option<&Value>) -> Self {
        Secret(text(value))
    }
}

impl Decode for bool {
    const KIND: Kind = Kind::Bool;
    fn take(value: Option<&Value>) -> Self {
        value.and_then(Value::as_bool).unwrap_or_default()
    }
}

impl Decode for i64 {
    const KIND: Kind = Kind::Int;
    fn take(value: Option<&Value>) -> Self {
        value.and_then(Value::as_i64).unwrap_or_default()
    }
}

impl Decode for u32 {
    const KIND: Kind = Kind::U32;
    fn take(value: Option<&Value>) -> Self {
        value
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_default()
    }
}

impl Decode for u64 {
    const KIND: Kind = Kind::U64;
    fn take(value: Option<&Value>) -> Self {
        value.and_then(Value::as_u64).unwrap_or_default()
    }
}

impl Decode for f64 {
    const KIND: Kind = Kind::Number;
    fn take(value: Option<&Value>) -> Self {
        value.and_then(Value::as_f64).unwrap_or_default()
    }
}

impl Decode for Value {
    const KIND: Kind = Kind::Any;
    fn take(value: Option<&Value>) -> Self {
        value.cloned().unwrap_or_default()
    }
}

impl Decode for Map<String, Value> {
    const KIND: Kind = Kind::Object;
    fn take(value: Option<&Value>) -> Self {
        value
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

impl<T: Decode> Decode for Vec<T> {
    const KIND: Kind = Kind::List(&T::KIND);
    fn take(value: Option<&Value>) -> Self {
        value
            .and_then(Value::as_array)
            .map(|items| items.iter().map(|item| T::take(Some(item))).collect())
            .unwrap_or_default()
    }
}

/// A value written out as JSON, member by member. The crate's `Serialize` impls delegate to it
/// ([`serialize_as_json!`]) and the codec calls it directly: derived `Serialize` impls run
/// through `serde_json::to_value` cost the wasm artifacts ~15 KB of serializer plumbing.
pub(crate) trait ToJson {
    fn to_json(&self) -> Value;
}

/// Implements `Serialize` through [`ToJson`], so the two can never disagree.
macro_rules! serialize_as_json {
    ($($name:ty),* $(,)?) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> core::result::Result<S::Ok, S::Error> {
                serde::Serialize::serialize(
                    &crate::record::ToJson::to_json(self),
                    s,
                )
            }
        }
    )*};
}
pub(crate) use serialize_as_json;

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for Secret {
    fn to_json(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToJson for i64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl ToJson for u32 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl ToJson for u64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl ToJson for Map<String, Value> {
    fn to_json(&self) -> Value {
        Value::Object(self.clone())
    }
}

impl ToJson for FieldError {
    fn to_json(&self) -> Value {
        FieldError::to_json(self)
    }
}

impl ToJson for Error {
    fn to_json(&self) -> Value {
        Error::to_json(self)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

/// A point in time as the API sends it: unix seconds, or an ISO 8601 string.
///
/// The reference's types and its skill file disagree on `valid_until` (string vs unix), so every
/// timestamp member accepts both and serialises back the way it came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timestamp {
    /// Unix seconds.
    Unix(i64),
    /// A date string, kept verbatim.
    Text(String),
}

impl ToJson for Timestamp {
    fn to_json(&self) -> Value {
        match self {
            Timestamp::Unix(n) => Value::from(*n),
            Timestamp::Text(s) => Value::String(s.clone()),
        }
    }
}

serialize_as_json!(Timestamp);

impl Decode for Timestamp {
    const KIND: Kind = Kind::Timestamp;
    fn take(value: Option<&Value>) -> Self {
        match value {
            Some(Value::String(s)) => Timestamp::Text(s.clone()),
            value => Timestamp::Unix(value.and_then(Value::as_i64).unwrap_or_default()),
        }
    }
}

/// The members of `object` that are not in `members`, in their order (a record's `extra`).
pub(crate) fn extra(object: &Map<String, Value>, members: &[Member]) -> Map<String, Value> {
    object
        .iter()
        .filter(|(k, _)| !members.iter().any(|m| m.key == k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Declares a JSON record: the struct, its [`ToJson`] and `Serialize` (absent optionals
/// omitted, `extra` members appended), its member table and builder (see [`Decode`]) and
/// `Deserialize` via [`Decode`].
///
/// A member may name its JSON key in brackets when it differs: `pub kind ["type"]: String`.
macro_rules! record {
    (@key $field:ident $key:literal) => { $key };
    (@key $field:ident) => { stringify!($field) };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident $([$key:literal])? : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
            /// Members this version does not know, kept so that a round trip loses nothing.
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl crate::record::ToJson for $name {
            fn to_json(&self) -> serde_json::Value {
                use crate::record::{Decode, ToJson};
                let mut map = serde_json::Map::new();
                $(
                    if !Decode::is_absent(&self.$field) {
                        map.insert(
                            record!(@key $field $($key)?).into(),
                            ToJson::to_json(&self.$field),
                        );
                    }
                )*
                for (k, v) in &self.extra {
                    map.insert(k.clone(), v.clone());
                }
                serde_json::Value::Object(map)
            }
        }

        crate::record::serialize_as_json!($name);

        impl $name {
            /// The members, in declaration order (the order errors are reported in).
            pub(crate) const MEMBERS: &'static [crate::record::Member] = &[$(
                crate::record::Member {
                    key: record!(@key $field $($key)?),
                    kind: <$ty as crate::record::Decode>::KIND,
                    optional: <$ty as crate::record::Decode>::OPTIONAL,
                },
            )*];

            /// Builds the record from an object that passed the [`Self::MEMBERS`] check.
            pub(crate) fn build(object: &serde_json::Map<String, serde_json::Value>) -> Self {
                $name {
                    $($field: <$ty as crate::record::Decode>::take(
                        object.get(record!(@key $field $($key)?)),
                    ),)*
                    extra: crate::record::extra(object, Self::MEMBERS),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = serde_json::Value::deserialize(d)?;
                crate::record::decode_root::<$name>(&value, "")
                    .map_err(|e| <D::Error as serde::de::Error>::custom(e.message))
            }
        }
    };
}
pub(crate) use record;

/// Implements [`Decode`] for records that are plain JSON objects.
macro_rules! decode_as_object {
    ($($name:ident),* $(,)?) => {$(
        impl crate::record::Decode for $name {
            const KIND: crate::record::Kind =
                crate::record::Kind::Record($name::MEMBERS);

            fn take(value: Option<&serde_json::Value>) -> Self {
                match value.and_then(serde_json::Value::as_object) {
                    Some(object) => $name::build(object),
                    None => $name::build(&serde_json::Map::new()),
                }
            }
        }
    )*};
}
pub(crate) use decode_as_object;

/// JavaScript's `String(n)`, for form bodies and messages (see [`crate::json::js_number`]).
pub(crate) use crate::json::js_number;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted_and_serialize_is_not() {
        let s = Secret::new("4242424242424242");
        assert_eq!(format!("{s:?}"), "\"[redacted]\"");
        assert_eq!(
            serde_json::to_string(&s).unwrap_or_default(),
            "\"4242424242424242\""
        );
        assert_eq!(
            Secret::new("at_mock_abcdefghijklmnop").preview(),
            "at_mock_abcdefghijkl..."
        );
    }

    #[test]
    fn js_number_matches_javascript() {
        assert_eq!(js_number(600.0), "600");
        assert_eq!(js_number(0.5), "0.5");
        assert_eq!(js_number(-0.0), "0");
        assert_eq!(js_number(1.25), "1.25");
        assert_eq!(js_number(-3.0), "-3");
    }
}
