//! A validating JSON scanner: RFC 8259 syntax, bounded depth, no allocation.
//!
//! Challenges are parsed far more often than their `request` is read (a client picks one of
//! several; the bench parses thousands), so parsing only *validates* the decoded request and
//! keeps its text; [`crate::mpp::challenge::Challenge::request_json`] builds the
//! `serde_json` value on demand. The scanner accepts exactly what `serde_json` accepts, with
//! these additions:
//!
//! - nesting is bounded by [`MAX_DEPTH`] (serde_json's own limit is 128);
//! - the top level must be an object when [`validate_object`] is used.
//!
//! Like serde_json it rejects lone UTF-16 surrogate escapes, raw control characters in strings,
//! leading zeros, and numbers that overflow an `f64`. (One known gap: serde_json's default float
//! parser may round a literal within one ulp of `f64::MAX` up to infinity where Rust's rounds it
//! down; such a request then validates but fails in `request_json`, never panics.)

/// The deepest nesting accepted in a `request` (objects and arrays count alike; `{}` is 1).
pub const MAX_DEPTH: u32 = 32;

/// Why the text is not an acceptable JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// A syntax error at this byte offset.
    Syntax(usize, &'static str),
    /// Nesting deeper than allowed, at this offset.
    Depth(usize),
    /// Valid JSON, but not an object.
    NotObject,
}

impl JsonError {
    pub(crate) fn describe(self) -> String {
        match self {
            JsonError::Syntax(at, what) => format!("invalid JSON at offset {at}: {what}"),
            JsonError::Depth(at) => {
                format!("JSON nested deeper than {MAX_DEPTH} levels at offset {at}")
            }
            JsonError::NotObject => "expected a JSON object".to_string(),
        }
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &'static str) -> Result<T, JsonError> {
        Err(JsonError::Syntax(self.i, what))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), JsonError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let mut v: u16 = 0;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return self.err("invalid \\u escape"),
            };
            v = (v << 4) | u16::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    /// A string; `self.i` is at the opening quote.
    fn string(&mut self) -> Result<(), JsonError> {
        self.i += 1;
        loop {
            let rest = self.b.get(self.i..).unwrap_or_default();
            let Some(n) = crate::json::find_special_controls(rest) else {
                self.i = self.b.len();
                return self.err("unterminated string");
            };
            self.i += n;
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            let unit = self.hex4()?;
                            if (0xDC00..=0xDFFF).contains(&unit) {
                                return self.err("lone surrogate in \\u escape");
                            }
                            if (0xD800..=0xDBFF).contains(&unit) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return self.err("lone surrogate in \\u escape");
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..=0xDFFF).contains(&low) {
                                    return self.err("lone surrogate in \\u escape");
                                }
                            }
                        }
                        _ => return self.err("invalid escape"),
                    }
                }
                _ => return self.err("control character in string"),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let n = self
            .b
            .get(self.i..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        self.i += n;
        n
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        // A number serde_json reads as a float must be finite (integers that fit `u64`/`i64`
        // never become floats, and all of those are finite): core's exact parse decides.
        let text = self.b.get(start..self.i).unwrap_or_default();
        let infinite = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .is_some_and(f64::is_infinite);
        if infinite {
            self.i = start;
            return self.err("number out of range");
        }
        Ok(())
    }

    /// An object key and its colon; `self.i` is at the key's quote (after whitespace).
    fn key(&mut self) -> Result<(), JsonError> {
        if self.peek() != Some(b'"') {
            return self.err("expected string key");
        }
        self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return self.err("expected ':'");
        }
        self.i += 1;
        Ok(())
    }

    /// One complete value (and trailing whitespace to the end).
    fn document(&mut self, max_depth: u32) -> Result<(), JsonError> {
        // Bit `n` of `kinds` tells whether the container at depth n+1 is an object.
        let mut kinds: u64 = 0;
        let mut depth: u32 = 0;
        let max_depth = max_depth.min(63);
        'value: loop {
            self.ws();
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if depth >= max_depth {
                        return Err(JsonError::Depth(self.i));
                    }
                    self.i += 1;
                    depth += 1;
                    kinds = (kinds << 1) | u64::from(open == b'{');
                    self.ws();
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                        depth -= 1;
                        kinds >>= 1;
                    } else {
                        if open == b'{' {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                Some(b'"') => self.string()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                None => return self.err("unexpected end"),
                Some(_) => return self.err("expected value"),
            }
            // After a value: close containers, or go on after a comma.
            loop {
                self.ws();
                if depth == 0 {
                    return if self.i == self.b.len() {
                        Ok(())
                    } else {
                        self.err("trailing characters")
                    };
                }
                let in_object = kinds & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if in_object {
                            self.ws();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return self.err("expected ',' or end of container"),
                }
                self.i += 1;
                depth -= 1;
                kinds >>= 1;
            }
        }
    }
}

/// Validates that `text` is one JSON value nested at most `max_depth` deep.
pub(crate) fn validate(text: &str, max_depth: u32) -> Result<(), JsonError> {
    Scanner {
        b: text.as_bytes(),
        i: 0,
    }
    .document(max_depth)
}

/// Validates that `text` is a JSON object nested at most [`MAX_DEPTH`] deep.
pub(crate) fn validate_object(text: &str) -> Result<(), JsonError> {
    validate(text, MAX_DEPTH)?;
    if text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        Ok(())
    } else {
        Err(JsonError::NotObject)
    }
}

/// Parses text that [`validate_object`] accepted into a map. (Through `Value`, not `Map`
/// directly, which would pull serde's "invalid type" formatting into the wasm for an error
/// that cannot happen here.)
pub(crate) fn parse_object(
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, &'static str> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err("expected a JSON object"),
        Err(_) => Err("invalid JSON"),
    }
}

/// A value inside JSON text that [`validate`] accepted, read in place: the stripe method reads
/// a handful of fields of a request and builds no tree for the rest. On text that did not
/// validate the answers are unspecified (but it never panics).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Raw<'a>(&'a str);

/// The kind of a [`Raw`] value, named as JavaScript's `typeof` would (arrays apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index after the string opening at `open`.
fn string_end(b: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while let Some(n) = b.get(i..).and_then(crate::json::find_special_quotes) {
        i += n;
        if b.get(i) == Some(&b'"') {
            return i + 1;
        }
        i += 2;
    }
    b.len()
}

/// The index after the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let (mut i, mut depth) = (i, 0usize);
            loop {
                match b.get(i) {
                    None => return i,
                    Some(b'"') => {
                        i = string_end(b, i);
                        continue;
                    }
                    Some(b'{' | b'[') => depth += 1,
                    Some(b'}' | b']') => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    Some(_) => {}
                }
                i += 1;
            }
        }
        _ => b
            .get(i..)
            .and_then(|rest| {
                rest.iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            })
            .map_or(b.len(), |n| i + n),
    }
}

/// Whether the quoted key `quoted` (as [`Raw::each`] gives it) is `key`, without unescaping it
/// unless it has escapes. An escape is longer than the text it stands for, so a key with one is
/// longer than its value, and one of `key`'s length has none.
fn key_is(quoted: &str, key: &str) -> bool {
    let inner = quoted
        .as_bytes()
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    match inner.len().cmp(&key.len()) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => inner == key.as_bytes() && !inner.contains(&b'\\'),
        std::cmp::Ordering::Greater => {
            inner.contains(&b'\\') && Raw(quoted).str().as_deref() == Some(key)
        }
    }
}

impl<'a> Raw<'a> {
    /// The document `text` (an object once [`validate_object`] accepted it).
    pub(crate) fn new(text: &'a str) -> Raw<'a> {
        let b = text.as_bytes();
        let start = skip_ws(b, 0);
        let end = b
            .iter()
            .rposition(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
            .map_or(start, |i| i + 1);
        Raw(text.get(start..end).unwrap_or_default())
    }

    pub(crate) fn kind(self) -> Kind {
        match self.0.as_bytes().first() {
            Some(b'n') => Kind::Null,
            Some(b't' | b'f') => Kind::Boolean,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            _ => Kind::Number,
        }
    }

    /// The elements of an array, or of an object's members `(key, value)` with the key still
    /// quoted; `f` returns `false` to stop.
    fn each(self, f: &mut dyn FnMut(Option<&'a str>, Raw<'a>) -> bool) {
        let (s, b) = (self.0, self.0.as_bytes());
        let object = match b.first() {
            Some(b'{') => true,
            Some(b'[') => false,
            _ => return,
        };
        let mut i = 1;
        loop {
            i = skip_ws(b, i);
            if matches!(b.get(i), None | Some(b'}' | b']')) {
                return;
            }
            let mut key = None;
            if object {
                let end = string_end(b, i);
                key = s.get(i..end);
                i = skip_ws(b, end) + 1; // the ':'
                i = skip_ws(b, i);
            }
            let end = value_end(b, i);
            if !f(key, Raw(s.get(i..end).unwrap_or_default())) {
                return;
            }
            i = skip_ws(b, end);
            if b.get(i) != Some(&b',') {
                return;
            }
            i += 1;
        }
    }

    /// The member `key` of an object — the last one when it is repeated, as serde_json's map
    /// and `JSON.parse` keep it; `None` for anything else.
    pub(crate) fn get(self, key: &str) -> Option<Raw<'a>> {
        let mut found = [None];
        self.get_all(&[key], &mut found);
        let [found] = found;
        found
    }

    /// [`Raw::get`] for several keys in one pass over the members: `found[i]` is `keys[i]`'s
    /// value (the stripe method reads six members of a request; a pass each was most of its
    /// time).
    pub(crate) fn get_all(self, keys: &[&str], found: &mut [Option<Raw<'a>>]) {
        self.each(&mut |k, v| {
            if let Some(k) = k {
                for (key, slot) in keys.iter().zip(found.iter_mut()) {
                    if key_is(k, key) {
                        *slot = Some(v);
                    }
                }
            }
            true
        });
    }

    /// The items of an array (empty for anything else).
    pub(crate) fn items(self) -> Vec<Raw<'a>> {
        let mut out = Vec::new();
        self.each(&mut |_, v| {
            out.push(v);
            true
        });
        out
    }

    /// A string's value, unescaped; `None` for anything else.
    pub(crate) fn str(self) -> Option<std::borrow::Cow<'a, str>> {
        let b = self.0.as_bytes();
        if b.len() < 2 || b.first() != Some(&b'"') || b.last() != Some(&b'"') {
            return None;
        }
        let inner = self.0.get(1..b.len() - 1)?;
        if !inner.as_bytes().contains(&b'\\') {
            return Some(std::borrow::Cow::Borrowed(inner));
        }
        match serde_json::from_str(self.0) {
            Ok(serde_json::Value::String(s)) => Some(std::borrow::Cow::Owned(s)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// `Raw` read the way serde_json's map reads `v` (kinds, strings, members, items).
    fn raw_agrees(raw: Raw<'_>, v: &Value) {
        let kind = match v {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        };
        assert_eq!(raw.kind(), kind, "{raw:?}");
        assert_eq!(raw.str().as_deref(), v.as_str(), "{raw:?}");
        match v {
            Value::Array(items) => {
                let got = raw.items();
                assert_eq!(got.len(), items.len(), "{raw:?}");
                for (r, item) in got.into_iter().zip(items) {
                    raw_agrees(r, item);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    raw_agrees(raw.get(k).unwrap(), item);
                }
                assert!(raw.get("\u{0}not a key").is_none());
            }
            _ => assert!(raw.items().is_empty() && raw.get("a").is_none()),
        }
    }

    #[test]
    fn raw_reads_like_serde_json() {
        for text in [
            r#"{}"#,
            r#" { "a" : 1 , "b":[ 1, "x" , {"c":null} ,[]], "a": "last wins" } "#,
            r#"{"k\u0065y":"v\"\\\u00e9","n":-1.5e-3,"t":true,"f":false,"e":"","s":"} ] , \""}"#,
            "{\n\t\"nested\": {\"deep\": [[[{\"x\": [1,2,{\"y\":\"z\"}]}]]]}\r\n}",
        ] {
            validate_object(text).unwrap();
            let v: Value = serde_json::from_str(text).unwrap();
            raw_agrees(Raw::new(text), &v);
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z\"\\\\{}\\[\\],: é\u{1}]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-c\"]{0,2}", inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn raw_reads_like_serde_json_on_any_object(
            v in proptest::collection::vec(("[a-c]{0,2}", arb_json()), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            pretty in any::<bool>(),
        ) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            validate_object(&text).unwrap();
            raw_agrees(Raw::new(&text), &v);
        }
    }

    fn agrees(text: &str) {
        let ours = validate(text, 128).is_ok();
        let serde = serde_json::from_str::<serde_json::Value>(text).is_ok();
        assert_eq!(ours, serde, "{text:?}");
    }

    #[test]
    fn agrees_with_serde_json() {
        for t in [
            "{}",
            "[]",
            "1",
            "-0",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+5",
            "1E-5",
            "-",
            "\"a\"",
            "\"\\u00e9\"",
            "\"\\ud83c\\udf9f\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\x\"",
            "\"a\tb\"",
            "{\"a\":1,}",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "true",
            "tru",
            "nul",
            " {} ",
            "{} x",
            "1e400",
            "-1e400",
            "1e-400",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "{\"a\":[{\"b\":null}]}",
            "",
            " ",
            "[",
            "]",
        ] {
            agrees(t);
        }
        agrees(&"9".repeat(400));
        for t in [
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.797693134862315807937289714053e308",
            "1.797693134862315807937289714052e308",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
            "0.00017976931348623158e312",
            "0.0e99999999999999999999",
            "-0.0000e400",
            "1e308",
            "10e308",
            "0.1e309",
            "0.18e310",
            "1e-99999999999999999999",
            "-179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792.5",
            "00",
        ] {
            let rust_finite = t.parse::<f64>().is_ok_and(f64::is_finite);
            let ours = validate(t, 8).is_ok();
            if !t.starts_with("00") {
                assert_eq!(ours, rust_finite, "{t}");
            }
            agrees(t);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, ..Default::default() })]
        /// The scanner accepts exactly what serde_json accepts (below our depth limit).
        #[test]
        fn agrees_with_serde_json_on_noise(
            text in "([{}\\[\\],:\" ]|true|fals|null|-|0|1|9|\\.|e|E|\\+|\\\\|u|d8|dc|00|x|\u{1}|\t|\u{e9}){0,40}"
        ) {
            agrees(&text);
        }

        #[test]
        fn agrees_with_serde_json_on_values(v in proptest::arbitrary::any::<String>()) {
            let encoded = serde_json::to_string(&v).unwrap_or_default();
            agrees(&encoded);
            agrees(&format!("{{{encoded}:[{encoded},1.5e3,-0,null]}}"));
        }
    }

    #[test]
    fn depth_and_object() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(validate(&deep(32), 32).is_ok());
        assert_eq!(validate(&deep(33), 32), Err(JsonError::Depth(32)));
        assert_eq!(validate_object("[]"), Err(JsonError::NotObject));
        assert_eq!(validate_object(" {\"a\":\"b\"} "), Ok(()));
        assert!(validate_object("not json").is_err());
        assert!(validate(&"[".repeat(100_000), 1_000_000).is_err());
    }
}
