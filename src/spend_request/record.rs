//! Path-aware decoding of JSON records, shared by `spend_request`, `auth` and `poll`.
//!
//! serde's derived `Deserialize` stops at the first problem and does not say where it was; the
//! core promises `VALIDATION_ERROR`s that list every broken field by path (`card.exp_month`,
//! `line_items[0].amount`). [`record!`] declares a struct once and derives both: a `Serialize`
//! that omits absent optional members and keeps unknown ones (`extra`), and a [`Decode`] that
//! reports every wrong member.

use crate::error::{Error, FieldErrors, Result};
use serde::{Serialize, Serializer};
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

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
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

/// Decodes a value found at `path`, pushing one field error per problem.
pub(crate) trait Decode: Sized {
    /// Decodes a present value; `None` after pushing at least one error.
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self>;

    /// Decodes an object member that may be missing: required unless overridden (`Option`).
    fn member(value: Option<&Value>, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value {
            Some(value) => Self::decode(value, path, errors),
            None => {
                errors.push(path, "is required");
                None
            }
        }
    }

    /// Whether `Serialize` should omit the member (only `None` is absent).
    fn is_absent(&self) -> bool {
        false
    }
}

/// Decodes a whole argument; `VALIDATION_ERROR` listing every broken field otherwise.
pub(crate) fn decode_root<T: Decode>(value: &Value, path: &str) -> Result<T> {
    let mut errors = FieldErrors::new();
    match T::decode(value, path, &mut errors) {
        Some(decoded) if errors.is_empty() => Ok(decoded),
        _ => {
            if errors.is_empty() {
                errors.push(path, "is invalid");
            }
            Err(Error::validation(errors.into_vec()))
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        if value.is_null() {
            Some(None)
        } else {
            T::decode(value, path, errors).map(Some)
        }
    }

    fn member(value: Option<&Value>, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value {
            Some(value) => Self::decode(value, path, errors),
            None => Some(None),
        }
    }

    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl Decode for String {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                errors.push(path, "expected a string");
                None
            }
        }
    }
}

impl Decode for Secret {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        String::decode(value, path, errors).map(Secret)
    }
}

impl Decode for bool {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_bool() {
            Some(b) => Some(b),
            None => {
                errors.push(path, "expected a boolean");
                None
            }
        }
    }
}

impl Decode for i64 {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_i64() {
            Some(n) => Some(n),
            None => {
                errors.push(path, "expected an integer");
                None
            }
        }
    }
}

impl Decode for u32 {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                errors.push(path, "expected a non-negative integer");
                None
            }
        }
    }
}

impl Decode for u64 {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_u64() {
            Some(n) => Some(n),
            None => {
                errors.push(path, "expected a non-negative integer");
                None
            }
        }
    }
}

impl Decode for f64 {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_f64() {
            Some(n) => Some(n),
            None => {
                errors.push(path, "expected a number");
                None
            }
        }
    }
}

impl Decode for Value {
    fn decode(value: &Value, _path: &str, _errors: &mut FieldErrors) -> Option<Self> {
        Some(value.clone())
    }
}

impl Decode for Map<String, Value> {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value.as_object() {
            Some(map) => Some(map.clone()),
            None => {
                errors.push(path, "expected an object");
                None
            }
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        let Some(items) = value.as_array() else {
            errors.push(path, "expected an array");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match T::decode(item, &format!("{path}[{i}]"), errors) {
                Some(decoded) => out.push(decoded),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// A point in time as the API sends it: unix seconds, or an ISO 8601 string.
///
/// The reference's types and its skill file disagree on `valid_until` (string vs unix), so every
/// timestamp member accepts both and serialises back the way it came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// Unix seconds.
    Unix(i64),
    /// A date string, kept verbatim.
    Text(String),
}

impl Decode for Timestamp {
    fn decode(value: &Value, path: &str, errors: &mut FieldErrors) -> Option<Self> {
        match value {
            Value::Number(n) if n.as_i64().is_some() => n.as_i64().map(Timestamp::Unix),
            Value::String(s) => Some(Timestamp::Text(s.clone())),
            _ => {
                errors.push(path, "expected a unix timestamp or a date string");
                None
            }
        }
    }
}

/// Declares a JSON record: the struct, its `Serialize` (absent optionals omitted, `extra`
/// flattened back), an inherent `decode_object` and `Deserialize` via [`Decode`].
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
        #[derive(Clone, PartialEq, serde::Serialize)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                $(#[serde(rename = $key)])?
                #[serde(skip_serializing_if = "crate::spend_request::record::Decode::is_absent")]
                pub $field: $ty,
            )*
            /// Members this version does not know, kept so that a round trip loses nothing.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// Decodes the members of `object`, pushing an error for each broken one.
            #[allow(dead_code)]
            pub(crate) fn decode_object(
                object: &serde_json::Map<String, serde_json::Value>,
                path: &str,
                errors: &mut crate::error::FieldErrors,
            ) -> Option<Self> {
                use crate::spend_request::record::{join, Decode};
                const KEYS: &[&str] = &[$(record!(@key $field $($key)?)),*];
                $(
                    let $field = <$ty as Decode>::member(
                        object.get(record!(@key $field $($key)?)),
                        &join(path, record!(@key $field $($key)?)),
                        errors,
                    );
                )*
                let extra = object
                    .iter()
                    .filter(|(k, _)| !KEYS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Some($name { $($field: $field?,)* extra })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = serde_json::Value::deserialize(d)?;
                crate::spend_request::record::decode_root::<$name>(&value, "")
                    .map_err(|e| <D::Error as serde::de::Error>::custom(e.message))
            }
        }
    };
}
pub(crate) use record;

/// Implements [`Decode`] for records that are plain JSON objects.
macro_rules! decode_as_object {
    ($($name:ident),* $(,)?) => {$(
        impl crate::spend_request::record::Decode for $name {
            fn decode(
                value: &serde_json::Value,
                path: &str,
                errors: &mut crate::error::FieldErrors,
            ) -> Option<Self> {
                match value.as_object() {
                    Some(object) => $name::decode_object(object, path, errors),
                    None => {
                        errors.push(path, "expected an object");
                        None
                    }
                }
            }
        }
    )*};
}
pub(crate) use decode_as_object;

/// `String(n)` of JavaScript for a JSON number, so form bodies and messages match the
/// reference client byte for byte (exact for integers and for magnitudes in 1e-7..1e21).
/// Rust's `{:.0}` for integers and `{}` otherwise, without core's float formatting.
pub(crate) fn js_number(n: f64) -> String {
    if n == 0.0 {
        "0".to_string()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        crate::decimal::integer(n)
    } else {
        crate::decimal::display(n)
    }
}

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
