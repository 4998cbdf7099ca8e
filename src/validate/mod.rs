//! Every input rule, client-side, so that bad input never costs an HTTP request. Each validator
//! reports every broken rule at once as one `VALIDATION_ERROR` with field paths
//! (`amount`, `line_items[0].quantity`, `metadata.order_id`, …).
//!
//! - [`spend_request`]: spend-request create (input and wire body) and update.
//! - [`flag`]: the `key:value,key:value` syntax of `--line-item`, `--total`, `--metadata`.
//! - [`options`]: retrieve/poll options and login options.
//!
//! The scalar checks shared by all of them live here. They return `Result<T, String>` with a
//! bare message ("must be at least 1") so each caller decides the path and any prefix
//! ("Line item quantity: …", the reference client's wording).

pub mod flag;
pub mod mpp;
pub mod options;
pub mod report;
pub mod spend_request;

use crate::error::{Error, FieldErrors, Result};
use serde_json::{Map, Value};

/// The `key:value,key:value` syntax (see [`flag`]): splits it into an object of string values, in the order given (a repeated
/// key keeps its first position and its last value, like a JS object). A pair without `:` is
/// reported at `whole_path` with the reference client's message.
pub(crate) fn split_pairs(s: &str, whole_path: &str, errs: &mut FieldErrors) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in s.split(',') {
        match pair.split_once(':') {
            Some((key, value)) => {
                out.insert(
                    key.trim().to_string(),
                    Value::String(value.trim().to_string()),
                );
            }
            None => errs.push(
                whole_path,
                format!("Invalid field (missing ':'): {}", pair.trim()),
            ),
        }
    }
    out
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`: every integer we accept survives the trip through a
/// JS number (the npm package) unchanged.
pub(crate) const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// `Ok` when a value was built and no rule broke; otherwise one `VALIDATION_ERROR`. A missing
/// value with no recorded error cannot happen, but it still reports a field error at
/// `fallback_path` rather than an error without one.
pub(crate) fn finish<T>(value: Option<T>, mut errs: FieldErrors, fallback_path: &str) -> Result<T> {
    match value {
        Some(v) if errs.is_empty() => Ok(v),
        _ => {
            if errs.is_empty() {
                errs.push(fallback_path, "is invalid");
            }
            Err(Error::validation(errs.into_vec()))
        }
    }
}

/// Path of `key` inside `parent` (`""` is the root). Empty keys are spelled `[""]` so that a
/// path is never empty.
pub(crate) fn key_path(parent: &str, key: &str) -> String {
    match (parent.is_empty(), key.is_empty()) {
        (_, true) => format!("{parent}[\"\"]"),
        (true, false) => key.to_string(),
        (false, false) => format!("{parent}.{key}"),
    }
}

/// Path of element `i` of the array at `parent`.
pub(crate) fn index_path(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A field's value, with JSON `null` read as "not given" (JS callers send `undefined` and
/// `null` interchangeably for optional fields).
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// The reference client's unknown-key message, optionally prefixed (`Line item: `).
pub(crate) fn unknown_key_message(prefix: &str, key: &str, allowed: &[&str]) -> String {
    if allowed.is_empty() {
        return format!("{prefix}unrecognized key \"{key}\": this takes no input");
    }
    format!(
        "{prefix}unrecognized key \"{key}\". Allowed keys: {}",
        allowed.join(", ")
    )
}

/// An integer from a JSON number or a string of decimal digits (CLI flags and `key:value` values
/// arrive as strings). Integral floats are integers: JavaScript has one number type, so `1000`
/// and `1000.0` are the same value on the npm side and must be the same here. Values beyond
/// `i64` saturate, so that range checks, not type checks, reject them. `None`: not an integer.
pub(crate) fn coerce_int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Some(i128::from(u))
            } else {
                let f = n.as_f64()?;
                // `as` saturates for out-of-range floats; the range check does the rest.
                (f.is_finite() && f.fract() == 0.0).then_some(f as i128)
            }
        }
        Value::String(s) => parse_decimal_int(s),
        _ => None,
    }
}

/// `-?[0-9]+`, saturating far beyond `i64`.
fn parse_decimal_int(s: &str) -> Option<i128> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // All digits, so the only error left is overflow: saturate.
    let n = digits.parse::<u64>().map_or(i128::MAX, i128::from);
    Some(if negative { -n } else { n })
}

/// An integer in `min..=max` (both within the safe-integer range), with the message for why not.
pub(crate) fn int_in(v: &Value, min: i64, max: i64) -> Result<i64, String> {
    let n = coerce_int(v).ok_or_else(|| "must be an integer".to_string())?;
    if n < i128::from(min) {
        return Err(format!("must be at least {min}"));
    }
    if n > i128::from(max) {
        return Err(format!("must be at most {max}"));
    }
    i64::try_from(n).map_err(|_| format!("must be at most {max}"))
}

/// Any safe integer (`|n| <= 2^53 - 1`).
pub(crate) fn int_any(v: &Value) -> Result<i64, String> {
    int_in(v, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
}

/// A number (seconds and the like) from a JSON number or a decimal string (`2`, `0.5`, `-1`).
pub(crate) fn coerce_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
            let ok = !int.is_empty()
                && !frac.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit());
            if ok {
                s.parse::<f64>().ok().filter(|f| f.is_finite())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A string, as given.
pub(crate) fn string(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| "must be a string".to_string())
}

/// A string that is not blank, as given (not trimmed).
pub(crate) fn non_blank(v: &Value) -> Result<&str, String> {
    let s = string(v)?;
    if s.trim().is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(s)
    }
}

/// A string that is not blank, trimmed (identifiers: `payment_method_id`, `network_id`, …).
/// A spend-request id can go into a URL path as is: 1 to 255 of `[A-Za-z0-9_-]`.
pub fn is_spend_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn trimmed_id(v: &Value) -> Result<String, String> {
    non_blank(v).map(|s| s.trim().to_string())
}

/// An absolute `http(s)` URL.
pub(crate) fn http_url(v: &Value) -> Result<String, String> {
    let s = string(v)?;
    if is_http_url(s) {
        Ok(s.to_string())
    } else {
        Err("must be an absolute http(s) URL".to_string())
    }
}

/// The reference's message for a date that is not `YYYY-MM-DD`.
pub const DATE_MESSAGE: &str = "Date must be in YYYY-MM-DD format.";

/// A `YYYY-MM-DD` date: four digits, `-`, two digits, `-`, two digits, as the reference's
/// `^\d{4}-\d{2}-\d{2}$` (the server judges whether the day exists).
pub(crate) fn date(v: &Value) -> Result<&str, String> {
    let s = string(v).map_err(|_| DATE_MESSAGE.to_string())?;
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if shaped {
        Ok(s)
    } else {
        Err(DATE_MESSAGE.to_string())
    }
}

/// A boolean.
pub(crate) fn boolean(v: &Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| "must be a boolean".to_string())
}

/// One of `allowed`, returned as the allowed spelling.
pub(crate) fn one_of(v: &Value, allowed: &[&'static str]) -> Result<&'static str, String> {
    let wrong = || format!("must be one of: {}", allowed.join(", "));
    let s = v.as_str().ok_or_else(wrong)?;
    allowed.iter().copied().find(|a| *a == s).ok_or_else(wrong)
}

/// An absolute `http`/`https` URL taken apart: what validation checks and what both hosts send
/// (the npm build hands the whole URL to `fetch`; the component gives wasi:http its parts), so
/// they can never disagree about a URL (`HTTPS://Shop.Example` included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpUrl<'a> {
    /// `true` for `https` (the scheme is matched in any case).
    pub https: bool,
    /// `user:password` before the last `@` of the authority, if any.
    pub userinfo: Option<&'a str>,
    /// `host[:port]`: the authority without its userinfo (what wasi:http `set-authority` takes).
    pub authority: &'a str,
    /// The host as written (an IPv6 literal keeps its brackets).
    pub host: &'a str,
    /// The explicit port, if any (`https://h:/` has none).
    pub port: Option<u16>,
    /// Path and query, never empty (`http://h?q` is `/?q`); the fragment is dropped.
    pub path_and_query: &'a str,
}

impl HttpUrl<'_> {
    /// `path_and_query` with the leading `/` a bare `?query` lacks.
    pub fn request_target(&self) -> String {
        if self.path_and_query.starts_with('/') {
            self.path_and_query.to_string()
        } else {
            ["/", self.path_and_query].concat()
        }
    }
}

/// Parses an absolute URL: scheme `http` or `https` (any case), then `://`, a non-empty host
/// (optionally `userinfo@`, an `[IPv6]` literal, a numeric port up to 65535), and no whitespace
/// or control characters anywhere. Hand-written: the `url` crate's IDNA tables would triple the
/// browser module for the one check done here.
pub fn parse_http_url(s: &str) -> Option<HttpUrl<'_>> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = s.split_once("://")?;
    let https = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return None;
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (full_authority, path_and_query) = rest.split_at(end);
    // Userinfo ends at the last `@` of the authority.
    let (userinfo, authority) = match full_authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, full_authority),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        let literal_ok = !inside.is_empty()
            && inside
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !literal_ok {
            return None;
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&authority[..inside.len() + 2], port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        // WHATWG's forbidden host code points that survive the checks above (a second `:`
        // means the "port" was not one).
        if host.is_empty()
            || host.chars().any(|c| {
                matches!(
                    c,
                    '<' | '>' | '"' | '\\' | '^' | '`' | '{' | '|' | '}' | '[' | ']' | '%' | ':'
                )
            })
        {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some(HttpUrl {
        https,
        userinfo,
        authority,
        host,
        port,
        path_and_query,
    })
}

/// `LINK_HTTP_PROXY`: the URL of an HTTP proxy (`http://proxy.example:3128`, `https://…`,
/// optionally `user:password@`), nothing after the host but `/`. Otherwise one
/// `VALIDATION_ERROR` at path `LINK_HTTP_PROXY`, whose message does not repeat the value (it
/// may hold a password).
pub fn validate_proxy_url(s: &str) -> Result<String> {
    let s = s.trim();
    match parse_http_url(s) {
        Some(url) if url.path_and_query.is_empty() || url.path_and_query == "/" => {
            Ok(s.to_string())
        }
        _ => Err(Error::validation(vec![crate::error::FieldError::new(
            "LINK_HTTP_PROXY",
            "must be the http(s) URL of an HTTP proxy, such as http://proxy.example:3128",
        )])),
    }
}

/// Whether `s` is an absolute http(s) URL ([`parse_http_url`]).
pub(crate) fn is_http_url(s: &str) -> bool {
    parse_http_url(s).is_some()
}

/// A URL linkpay will request (`mpp pay`'s): an http(s) URL without credentials in it (they
/// would reach logs and error messages) and with an ASCII host (punycode, `xn--…`), so the npm
/// build and the component, whose runtimes differ on IDN, send the same request.
pub(crate) fn request_url(v: &Value) -> Result<String, String> {
    let s = http_url(v)?;
    let parsed = parse_http_url(&s).ok_or("must be an absolute http(s) URL")?;
    if parsed.userinfo.is_some() {
        return Err("must not contain credentials (user:password@); send them in a header".into());
    }
    if !parsed.host.is_ascii() {
        return Err("host must be ASCII: write an international domain in punycode (xn--…)".into());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_proxy_url_is_an_http_url_with_nothing_after_the_host() {
        for ok in [
            "http://proxy.example:3128",
            "https://proxy.example/",
            "http://u:p%40ss@10.0.0.1:8080",
            " http://[::1]:3128 ",
        ] {
            assert_eq!(validate_proxy_url(ok).unwrap(), ok.trim(), "{ok}");
        }
        for bad in [
            "",
            "proxy.example:3128",
            "socks5://proxy.example",
            "http://",
            "http://p.example/path",
            "http://p.example?x=1",
            "http://u:secret@p.example/x",
        ] {
            let e = validate_proxy_url(bad).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::ValidationError, "{bad}");
            assert_eq!(e.field_errors[0].path, "LINK_HTTP_PROXY");
            assert!(
                !format!("{e:?}").contains("secret"),
                "the value is not echoed"
            );
        }
    }

    #[test]
    fn dates_are_yyyy_mm_dd() {
        for ok in ["2026-06-08", "0000-00-00", "2026-13-45"] {
            assert_eq!(date(&json!(ok)), Ok(ok), "{ok}");
        }
        for bad in [
            json!("2026-6-08"),
            json!("2026/06/08"),
            json!("2026-06-08T00:00:00Z"),
            json!(" 2026-06-08"),
            json!("２０２６-06-08"),
            json!(""),
            json!(20260608),
        ] {
            assert_eq!(date(&bad), Err(DATE_MESSAGE.to_string()), "{bad}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://shop.example",
            "http://shop.example/",
            "HTTPS://Shop.Example/path?q=1#frag",
            "https://shop.example:8443/x",
            "https://shop.example:/x",
            "https://user:pw@shop.example/",
            "https://[::1]:8080/",
            "https://[2001:db8::1]",
            "https://127.0.0.1",
            "https://bücher.example/straße",
            "https://shop.example?x",
            "https://shop.example#x",
        ] {
            assert!(is_http_url(ok), "{ok} should pass");
        }
        for bad in [
            "",
            "shop.example",
            "//shop.example",
            "ftp://shop.example",
            "javascript://alert(1)",
            "https:/shop.example",
            "https:shop.example",
            "https://",
            "https:///path",
            "https://?q",
            "https://user@",
            "https://shop .example",
            "https://shop.example/a b",
            " https://shop.example",
            "https://shop.example\n",
            "https://shop\u{7}.example",
            "https://shop.example:99999",
            "https://shop.example:80a",
            "https://a:b:c",
            "https://[::1",
            "https://[]/",
            "https://[::1]x",
            "https://sh<op.example",
            "https://shop\\evil.example",
            "httpx://shop.example",
        ] {
            assert!(!is_http_url(bad), "{bad:?} should fail");
        }
    }

    #[test]
    fn integers_coerce_from_numbers_and_digit_strings() {
        assert_eq!(coerce_int(&json!(1000)), Some(1000));
        assert_eq!(coerce_int(&json!(1000.0)), Some(1000));
        assert_eq!(coerce_int(&json!("1000")), Some(1000));
        assert_eq!(coerce_int(&json!("007")), Some(7));
        assert_eq!(coerce_int(&json!("-5")), Some(-5));
        assert_eq!(coerce_int(&json!(u64::MAX)), Some(i128::from(u64::MAX)));
        assert_eq!(
            coerce_int(&json!("99999999999999999999999999999999999999999999")),
            Some(i128::MAX)
        );
        for bad in [
            json!(10.5),
            json!("10.5"),
            json!("1e3"),
            json!(" 5"),
            json!("+5"),
            json!(""),
            json!("-"),
            json!("five"),
            json!(true),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(coerce_int(&bad), None, "{bad}");
        }
    }

    #[test]
    fn integer_ranges() {
        assert_eq!(int_in(&json!(1), 1, 50_000), Ok(1));
        assert_eq!(int_in(&json!("50000"), 1, 50_000), Ok(50_000));
        assert_eq!(
            int_in(&json!(0), 1, 50_000),
            Err("must be at least 1".into())
        );
        assert_eq!(
            int_in(&json!(50_001), 1, 50_000),
            Err("must be at most 50000".into())
        );
        assert_eq!(
            int_in(&json!(u64::MAX), 1, 50_000),
            Err("must be at most 50000".into())
        );
        assert_eq!(int_any(&json!(-3)), Ok(-3));
        assert!(int_any(&json!(MAX_SAFE_INTEGER + 1)).is_err());
        assert_eq!(int_in(&json!(1.5), 1, 5), Err("must be an integer".into()));
    }

    #[test]
    fn numbers() {
        assert_eq!(coerce_number(&json!(0.5)), Some(0.5));
        assert_eq!(coerce_number(&json!("2")), Some(2.0));
        assert_eq!(coerce_number(&json!("0.25")), Some(0.25));
        assert_eq!(coerce_number(&json!("-1")), Some(-1.0));
        for bad in ["", ".5", "5.", "1e3", "inf", "NaN", "1.2.3", " 1"] {
            assert_eq!(coerce_number(&json!(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(key_path("", "amount"), "amount");
        assert_eq!(key_path("metadata", "order_id"), "metadata.order_id");
        assert_eq!(key_path("metadata", ""), "metadata[\"\"]");
        assert_eq!(key_path("", ""), "[\"\"]");
        assert_eq!(index_path("line_items", 0), "line_items[0]");
    }
}
