//! Compact JSON text of a `Value`, byte for byte what `serde_json::to_string` writes, without
//! serde's serializer: the crate only ever writes `Value`s as text (results, request bodies,
//! stored records, MPP tokens), and the generic serializer stack cost the wasm ~2 KB for that.

use serde_json::Value;
use std::fmt::Write as _;

/// `map.insert(key.to_string(), value)`, out of line: inlined, each of the many object members
/// built in code would carry its own key allocation and the drop of the replaced value.
#[inline(never)]
pub(crate) fn insert(map: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_string(), value);
}

/// `items.join(sep)`: std's `join` is a generic, per-separator-length unrolled copy loop that
/// costs the wasm 1 KB; this is a plain loop.
pub(crate) fn join(items: &[&str], sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    out
}

/// `format!("{s:?}")`: `s` in double quotes, escaped as Rust's `Debug` for `str` does (which
/// is `char::escape_debug` but for `'`, left as is). Written per char so that `str`'s `Debug`
/// impl, and the slicing-panic formatting it links, stay out of the wasm (~3 KB).
pub(crate) fn debug_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '\'' {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    out.push('"');
    out
}

/// Sorts object entries by `less`, for orders with distinct keys (JavaScript's integer-like
/// keys first, JCS's UTF-16 order), where an unstable sort gives the one order. A heapsort:
/// a few hundred bytes of wasm where `sort_by` or `sort_unstable_by` link 3-4 KB.
pub(crate) fn sort_by<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let sift_down = |items: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&items[child], &items[child + 1]) {
            child += 1;
        }
        if !less(&items[root], &items[child]) {
            return;
        }
        items.swap(root, child);
        root = child;
    };
    for root in (0..items.len() / 2).rev() {
        sift_down(items, root, items.len());
    }
    for end in (1..items.len()).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

/// `serde_json::to_string(value)`.
pub(crate) fn text(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json's Display of a number is its serializer's digits (itoa, zmij).
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// The index of the first `"` or `\\` in `b` — or of the first control character (< 0x20) too
/// when `controls` — eight bytes at a time (SWAR). The MPP decoder spends most of its time in
/// such scans (quoted-strings, the decoded request's JSON strings, escaping output), and a
/// byte loop at opt-level z is several times slower.
/// [`find_special`] for `"`, `\\` and control characters (JSON string content).
pub(crate) fn find_special_controls(b: &[u8]) -> Option<usize> {
    find_special(b, true)
}

/// [`find_special`] for `"` and `\\` (quoted-strings).
pub(crate) fn find_special_quotes(b: &[u8]) -> Option<usize> {
    find_special(b, false)
}

#[inline(never)]
fn find_special(b: &[u8], controls: bool) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte below `n` (exact for the lowest such byte, which is all that is
    // read: borrows only ever mark bytes above a real match).
    let below = |v: u64, n: u64| v.wrapping_sub(LO * n) & !v & HI;
    let chunks = b.chunks_exact(8);
    let tail = chunks.remainder();
    let mut at = 0;
    for chunk in chunks {
        // An 8-byte load (`copy_from_slice` would be an out-of-line `memory.copy` at opt-z).
        let v = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        let mut hit = below(v ^ (LO * u64::from(b'"')), 1) | below(v ^ (LO * u64::from(b'\\')), 1);
        if controls {
            hit |= below(v, 0x20);
        }
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\' || (controls && c < 0x20))
        .map(|n| at + n)
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and
/// `\u00xx` (lower-case hex) for the other control characters; everything else as is. These are
/// also JCS's (RFC 8785) string escapes, so the MPP serializer uses it too.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Copy runs of bytes that need no escape in one go (a per-char push was most of the time
    // `decodeChallenges` spent on a 16 KiB request). Every byte that needs an escape is ASCII,
    // so the run boundaries are char boundaries.
    let bytes = s.as_bytes();
    let mut run = 0;
    while let Some(n) = bytes.get(run..).and_then(find_special_controls) {
        let i = run + n;
        let b = bytes.get(i).copied().unwrap_or_default();
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            _ => "",
        };
        out.push_str(s.get(run..i).unwrap_or_default());
        run = i + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn debug_quoted_is_str_debug() {
        for s in [
            "",
            "plain",
            "it's \"quoted\" \\ back",
            "tab\tnl\ncr\r nul\0 bell\u{7} del\u{7f}",
            "\u{301}combining at start, inside e\u{301} too",
            "zero\u{200b}width \u{202e}bidi \u{feff}bom \u{85}nel \u{a0}nbsp",
            "emoji 😀 cjk 漢字 private \u{e000} unassigned \u{378}",
        ] {
            assert_eq!(debug_quoted(s), format!("{s:?}"));
        }
    }

    proptest! {
        #[test]
        fn debug_quoted_matches_debug(s in any::<String>()) {
            prop_assert_eq!(debug_quoted(&s), format!("{s:?}"));
        }

        #[test]
        fn join_matches_std(items in proptest::collection::vec(".{0,4}", 0..5), sep in ".{0,3}") {
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            prop_assert_eq!(join(&items, &sep), items.join(sep.as_str()));
        }
    }

    fn same(value: &Value) {
        assert_eq!(
            text(value),
            serde_json::to_string(value).unwrap(),
            "{value:?}"
        );
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
                    assert_eq!(find_special(s, true), find_naive(s, true), "{s:?}");
                    assert_eq!(find_special(s, false), find_naive(s, false), "{s:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn find_special_matches_a_byte_loop(
            b in proptest::collection::vec(prop_oneof![8 => Just(b'a'), 1 => any::<u8>()], 0..80)
        ) {
            prop_assert_eq!(find_special(&b, true), find_naive(&b, true));
            prop_assert_eq!(find_special(&b, false), find_naive(&b, false));
        }
    }

    #[test]
    fn sort_by_sorts() {
        let mut x: u32 = 7;
        for len in 0..40 {
            let mut items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 8, i)
                })
                .collect();
            let mut want = items.clone();
            want.sort_by_key(|(k, _)| *k);
            sort_by(&mut items, |a, b| a.0 < b.0);
            assert_eq!(items, want);
        }
    }

    #[test]
    fn matches_serde_json() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for v in [
            json!(null),
            json!(true),
            json!([]),
            json!({}),
            json!({"a": [1, -2, 1.5, 1e300, 5e-324, -0.0, u64::MAX, i64::MIN, 0.1, 1e21, 1e-7]}),
            json!({"s": all_controls, "q": "\"\\/\u{7f}é€😀", "": {"nested": [null, false, "x"]}}),
            json!({"b": 1, "a": 2}),
        ] {
            same(&v);
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn matches_serde_json_on_any_value(value in arb_json()) {
            same(&value);
        }
    }
}
