//! JSON text: serde_json's writer, plus the byte scanners the MPP decoder's hot loops use.
//!
//! - [`text`] (`crate::json_text`) is `serde_json::to_string`; [`write_string`] appends one
//!   string through serde_json's own escaping (which is also JCS's, RFC 8785 §3.2.2.2).
//! - [`find_special_controls`] / [`find_special_quotes`]: the next `"`/`\\` (and control
//!   character), where the MPP decoder's JSON and quoted-string scans stop: a byte loop and
//!   memchr's `memchr2`.
//! - [`js_number`]: JavaScript's `String(n)` (ryu-js, the ECMAScript number formatter).

use serde_json::Value;

/// `map.insert(key.to_string(), value)`, out of line: inlined, each of the many object members
/// built in code would carry its own key allocation and the drop of the replaced value.
#[inline(never)]
pub(crate) fn insert(map: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_string(), value);
}

/// `serde_json::to_string(value)` (which cannot fail for a `Value`: its keys are strings).
pub(crate) fn text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// JavaScript's `String(n)` for a number (`Number.prototype.toString`: the shortest digits that
/// round-trip, plain between 1e-7 and 1e21, `1e+21` / `1.5e-7` outside, `0` for -0), as
/// ryu-js writes it; `NaN`, `Infinity`, `-Infinity` for the rest. Form bodies and messages
/// match the reference client byte for byte with it, and JCS writes its numbers with it.
pub(crate) fn js_number(n: f64) -> String {
    ryu_js::Buffer::new().format(n).to_string()
}

/// The first `"`, `\\` or control character (< 0x20): where a JSON string's plain run ends.
/// A byte loop: an eight-bytes-at-a-time (SWAR) scan was at most 10% faster end to end (the
/// 16 KiB cases of `npm/bench/mpp-decode.mjs`; no difference on the others), under the 20% that
/// would keep it, and no crate offers this search (memchr finds up to three given bytes).
pub(crate) fn find_special_controls(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)
}

/// The first `"` or `\\` (quoted-strings): memchr's `memchr2`.
pub(crate) fn find_special_quotes(b: &[u8]) -> Option<usize> {
    memchr::memchr2(b'"', b'\\', b)
}

/// Appends `s` as a JSON string, escaped by serde_json's writer: `\"`, `\\`, `\b`, `\f`, `\n`,
/// `\r`, `\t`, and `\u00xx` (lower-case hex) for the other control characters; everything else
/// as is. These are also JCS's (RFC 8785) string escapes, so the MPP serializer uses it too.
pub(crate) fn write_string(s: &str, out: &mut String) {
    /// serde_json writes a string in fragments cut before ASCII escapes, so each is UTF-8.
    struct Sink<'a>(&'a mut String);
    impl std::io::Write for Sink<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let text = std::str::from_utf8(buf).map_err(|_| std::io::ErrorKind::InvalidData)?;
            self.0.push_str(text);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    out.reserve(s.len() + 2);
    let _ = serde_json::to_writer(Sink(out), s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(s: &str) -> String {
        let mut out = String::from("prefix:");
        write_string(s, &mut out);
        out
    }

    #[test]
    fn write_string_is_serde_json_string() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for s in [
            "",
            "plain",
            &all_controls,
            "\"\\/\u{7f}é€😀",
            "tab\tnl\ncr\r nul\0 bell\u{7}",
        ] {
            assert_eq!(
                written(s),
                format!("prefix:{}", serde_json::to_string(s).unwrap())
            );
        }
        assert_eq!(written("a\u{1}\"b"), "prefix:\"a\\u0001\\\"b\"");
    }

    proptest! {
        #[test]
        fn write_string_matches_serde_json(s in any::<String>()) {
            prop_assert_eq!(written(&s), format!("prefix:{}", serde_json::to_string(&s).unwrap()));
        }
    }

    #[test]
    fn js_number_is_javascript_string() {
        for (n, want) in [
            (0.0, "0"),
            (-0.0, "0"),
            (600.0, "600"),
            (-3.0, "-3"),
            (0.5, "0.5"),
            (1.25, "1.25"),
            (0.1, "0.1"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (-1.5e-7, "-1.5e-7"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (2f64.powi(60), "1152921504606847000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (333_333_333.333_333_3, "333333333.3333333"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(js_number(n), want, "{n:e}");
        }
    }

    fn find_naive(b: &[u8], controls: bool) -> Option<usize> {
        b.iter()
            .position(|&c| c == b'"' || c == b'\\' || (controls && c < 0x20))
    }

    #[test]
    fn find_special_finds_the_first() {
        let base: Vec<u8> = (0..40).map(|i| b'a' + (i % 26) as u8).collect();
        for at in 0..base.len() {
            for special in [
                b'"', b'\\', 0, 0x1f, b'\n', 0x20, 0x7f, 0x80, 0xff, b'!', b'#', b']',
            ] {
                let mut b = base.clone();
                b[at] = special;
                // A second match after the first must not move the answer.
                b.push(b'"');
                for len in [at + 1, b.len()] {
                    let s = &b[..len];
                    assert_eq!(find_special_controls(s), find_naive(s, true), "{s:?}");
                    assert_eq!(find_special_quotes(s), find_naive(s, false), "{s:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn find_special_matches_a_byte_loop(
            b in proptest::collection::vec(prop_oneof![8 => Just(b'a'), 1 => any::<u8>()], 0..80)
        ) {
            prop_assert_eq!(find_special_controls(&b), find_naive(&b, true));
            prop_assert_eq!(find_special_quotes(&b), find_naive(&b, false));
        }
    }
}
