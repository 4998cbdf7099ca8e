//! A deterministic generator of `WWW-Authenticate` values for the differential tests
//! (`tests/mpp_differential.rs`) and the benchmarks (`benches/mpp.rs`), which include this
//! file with `#[path]`. No dependencies: a SplitMix64 generator and hand-built JSON.
//!
//! [`Gen::header`] builds *valid* values (both parsers must accept every challenge and agree
//! on every field). [`Gen::mutate`] then breaks one challenge in one named way; the tests
//! declare, per [`Mutation`], whether the parsers must agree or how they intentionally differ.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len() / 3 * 4 + 4);
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64url(text: &str) -> String {
    base64(text.as_bytes(), URL, false)
}

/// One challenge's parameters before serialization.
#[derive(Clone, Debug)]
pub struct Params {
    pub list: Vec<(String, String)>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn set(&mut self, name: &str, value: &str) {
        match self
            .list
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value.to_string(),
            None => self.list.push((name.to_string(), value.to_string())),
        }
    }
    pub fn remove(&mut self, name: &str) {
        self.list.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// How a valid header is broken (one challenge of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutation {
    UppercaseMethod,
    MissingRequired,
    DuplicateParam,
    EmptyId,
    RequestNotBase64,
    RequestArray,
    RequestNotJson,
    RequestTooLarge,
    RequestTrailingBits,
    RequestLength1Mod4,
    RequestBadPadding,
    RequestInvalidUtf8,
    RequestDeepJson,
    UnterminatedQuote,
    LoneSurrogate,
    OpaqueNotBase64,
    ExpiresSpaceSeparator,
    ExpiresLowercase,
    ExpiresLeapSecond,
    ExpiresInvalidDate,
    DigestNoPrefix,
    DigestOddChars,
    EmptyParamName,
    HeaderAuthorization,
    HeaderOther,
    StrayQuotesBeforeParams,
    IntentInvalid,
}

impl Mutation {
    pub const ALL: [Mutation; 27] = [
        Mutation::UppercaseMethod,
        Mutation::MissingRequired,
        Mutation::DuplicateParam,
        Mutation::EmptyId,
        Mutation::RequestNotBase64,
        Mutation::RequestArray,
        Mutation::RequestNotJson,
        Mutation::RequestTooLarge,
        Mutation::RequestTrailingBits,
        Mutation::RequestLength1Mod4,
        Mutation::RequestBadPadding,
        Mutation::RequestInvalidUtf8,
        Mutation::RequestDeepJson,
        Mutation::UnterminatedQuote,
        Mutation::LoneSurrogate,
        Mutation::OpaqueNotBase64,
        Mutation::ExpiresSpaceSeparator,
        Mutation::ExpiresLowercase,
        Mutation::ExpiresLeapSecond,
        Mutation::ExpiresInvalidDate,
        Mutation::DigestNoPrefix,
        Mutation::DigestOddChars,
        Mutation::EmptyParamName,
        Mutation::HeaderAuthorization,
        Mutation::HeaderOther,
        Mutation::StrayQuotesBeforeParams,
        Mutation::IntentInvalid,
    ];
}

/// A generated header value: the challenges it holds, in order, and other schemes between.
#[derive(Clone, Debug)]
pub struct Header {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub enum Item {
    Payment(Params),
    /// Another scheme, already serialized.
    Other(String),
}

/// A parameter name that makes the serializer emit the value verbatim.
const RAW: &str = "\u{0}raw";

pub struct Gen {
    pub rng: Rng,
}

const WORDS: &[&str] = &[
    "coffee",
    "Premium",
    "API",
    "access",
    "Payment",
    "for",
    "order",
    "tier",
    "plan",
    "monthly",
    "☕",
    "—",
    "×",
    "café",
    "naïve",
    "🎟️",
    "€",
    "日本",
    "Ω",
    "a,b",
    "x=y",
    "\"quoted\"",
    "back\\slash",
    "tab\there",
];

impl Gen {
    pub fn new(seed: u64) -> Self {
        Gen {
            rng: Rng::new(seed),
        }
    }

    fn ident(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
        (0..len.max(1))
            .map(|_| *self.rng.pick(CHARS) as char)
            .collect()
    }

    fn text(&mut self, words: usize) -> String {
        (0..words.max(1))
            .map(|_| *self.rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn json_string(&mut self, s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                c if self.rng.chance(5) && !c.is_ascii() && (c as u32) < 0x10000 => {
                    write!(out, "\\u{:04x}", c as u32).unwrap()
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn json_value(&mut self, depth: usize) -> String {
        match self.rng.below(if depth > 3 { 4 } else { 7 }) {
            0 => {
                let t = self.text(2);
                self.json_string(&t)
            }
            1 => self.rng.below(100_000).to_string(),
            2 => (*self
                .rng
                .pick(&["true", "false", "null", "-1.5", "1e3", "0.25"]))
            .to_string(),
            3 => {
                let s = self.ident(6);
                self.json_string(&s)
            }
            4 | 5 => self.json_object(depth + 1, 3),
            _ => {
                let n = self.rng.below(4);
                let items: Vec<String> = (0..n).map(|_| self.json_value(depth + 1)).collect();
                format!("[{}]", items.join(","))
            }
        }
    }

    fn json_object(&mut self, depth: usize, max: usize) -> String {
        let n = self.rng.below(max + 1);
        let mut fields = Vec::new();
        for i in 0..n {
            let key = format!("{}{i}", self.ident(4));
            let value = self.json_value(depth);
            fields.push(format!("{}:{value}", self.json_string(&key)));
        }
        format!("{{{}}}", fields.join(","))
    }

    /// A request object: a stripe- or tempo-like one, or random.
    pub fn request_json(&mut self) -> String {
        match self.rng.below(3) {
            0 => format!(
                "{{\"amount\":\"{}\",\"currency\":\"{}\",\"methodDetails\":{{\"networkId\":\"profile_{}\",\"paymentMethodTypes\":[\"card\",\"link\"]}}{}}}",
                self.rng.below(1_000_000),
                self.rng.pick(&["usd", "USD", "eur"]),
                self.ident(20),
                if self.rng.chance(50) {
                    format!(",\"externalId\":\"order_{}\"", self.ident(8))
                } else {
                    String::new()
                }
            ),
            1 => format!(
                "{{\"amount\":\"{}\",\"currency\":\"0x20c0{}\",\"methodDetails\":{{\"chainId\":4217}},\"recipient\":\"0x{}\"}}",
                self.rng.below(10_000_000),
                self.ident(36),
                self.ident(40)
            ),
            _ => self.json_object(1, 6),
        }
    }

    /// Encodes JSON text as a request value: either alphabet, padding or not.
    pub fn encode(&mut self, json: &str) -> String {
        let alphabet = if self.rng.chance(30) { STD } else { URL };
        base64(json.as_bytes(), alphabet, self.rng.chance(25))
    }

    /// A request of about `target` encoded bytes (for the 16 KiB benchmark).
    pub fn large_request(&mut self, target: usize) -> String {
        let mut items = Vec::new();
        let mut len = 0;
        while len * 4 / 3 + 200 < target {
            let name = self.text(3);
            let name = self.json_string(&name);
            let v = format!(
                "{{\"sku\":\"{}\",\"name\":{},\"qty\":{},\"price\":\"{}\"}}",
                self.ident(10),
                name,
                self.rng.below(10),
                self.rng.below(100_000)
            );
            len += v.len() + 1;
            items.push(v);
        }
        let json = format!(
            "{{\"amount\":\"1000\",\"currency\":\"usd\",\"methodDetails\":{{\"networkId\":\"net_1\",\"paymentMethodTypes\":[\"card\"]}},\"lineItems\":[{}]}}",
            items.join(",")
        );
        b64url(&json)
    }

    fn expires(&mut self) -> String {
        let (y, mo, d) = (
            2020 + self.rng.below(40),
            1 + self.rng.below(12),
            1 + self.rng.below(28),
        );
        let (h, mi, s) = (self.rng.below(24), self.rng.below(60), self.rng.below(60));
        let frac = match self.rng.below(3) {
            0 => String::new(),
            1 => format!(".{:03}", self.rng.below(1000)),
            _ => format!(".{}", self.rng.below(1_000_000_000)),
        };
        let zone = if self.rng.chance(70) {
            "Z".to_string()
        } else {
            format!(
                "{}{:02}:{:02}",
                self.rng.pick(&["+", "-"]),
                self.rng.below(24),
                self.rng.below(60)
            )
        };
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
    }

    /// Valid parameters of one challenge.
    pub fn params(&mut self) -> Params {
        let request_json = self.request_json();
        let id_len = 8 + self.rng.below(40);
        let mut list = vec![
            ("id".to_string(), self.ident(id_len)),
            (
                "realm".to_string(),
                if self.rng.chance(80) {
                    format!("api.{}.example", self.ident(6).to_lowercase())
                } else {
                    self.text(2)
                },
            ),
            (
                "method".to_string(),
                self.rng
                    .pick(&["stripe", "tempo", "evm:base", "x402_v2", "card-1"])
                    .to_string(),
            ),
            (
                "intent".to_string(),
                self.rng
                    .pick(&[
                        "charge",
                        "session",
                        "authorize",
                        "stream",
                        "sub_1",
                        "Charge-2",
                    ])
                    .to_string(),
            ),
            ("request".to_string(), self.encode(&request_json)),
        ];
        if self.rng.chance(50) {
            let words = 1 + self.rng.below(6);
            list.push(("description".into(), self.text(words)));
        }
        if self.rng.chance(40) {
            list.push(("expires".into(), self.expires()));
        }
        if self.rng.chance(25) {
            let hash = base64(&self.next_bytes(32), STD, true);
            let v = if self.rng.chance(50) {
                format!("sha-256={hash}")
            } else {
                format!("sha-256=:{hash}:")
            };
            list.push(("digest".into(), v));
        }
        if self.rng.chance(25) {
            let meta = format!("{{\"pi\":\"pi_{}\"}}", self.ident(10));
            list.push(("opaque".into(), b64url(&meta)));
        }
        if self.rng.chance(15) {
            list.push((
                "header".into(),
                self.rng
                    .pick(&["Payment-Authorization", "payment-authorization"])
                    .to_string(),
            ));
        }
        for _ in 0..self.rng.below(3) {
            let name = format!("x{}", self.ident(5).to_lowercase());
            let value = self.text(2);
            list.push((name, value));
        }
        // Shuffle.
        for i in (1..list.len()).rev() {
            let j = self.rng.below(i + 1);
            list.swap(i, j);
        }
        Params { list }
    }

    fn next_bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.rng.next() as u8).collect()
    }

    fn other_scheme(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!("Bearer realm=\"{}\"", self.text(2).replace(['"', '\\'], "")),
            1 => format!("Basic {}", base64(self.ident(9).as_bytes(), STD, true)),
            2 => format!(
                "Bearer error_description=\"retry with Payment {}\"",
                self.ident(3)
            ),
            _ => "Negotiate".to_string(),
        }
    }

    /// A valid header with 1–3 challenges and maybe other schemes.
    pub fn header(&mut self) -> Header {
        let mut items = Vec::new();
        let n = 1 + self.rng.below(3);
        for _ in 0..n {
            if self.rng.chance(15) {
                items.push(Item::Other(self.other_scheme()));
            }
            items.push(Item::Payment(self.params()));
        }
        if self.rng.chance(10) {
            items.push(Item::Other(self.other_scheme()));
        }
        Header { items }
    }

    /// Escapes a value as a quoted-string the way peers do, with random optional escapes.
    fn quote(&mut self, value: &str) -> String {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c if (c as u32) > 0xFF => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        if self.rng.chance(50) {
                            write!(out, "\\u{u:04x}").unwrap();
                        } else {
                            write!(out, "\\u{u:04X}").unwrap();
                        }
                    }
                }
                // (`\\u` followed by four hex digits would be a \\u escape.)
                c if c.is_ascii_alphanumeric() && c != 'u' && self.rng.chance(2) => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn token_ok(value: &str) -> bool {
        !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:=+/".contains(&b))
    }

    fn name_case(&mut self, name: &str) -> String {
        match self.rng.below(10) {
            0 => name.to_ascii_uppercase(),
            1 => name
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect(),
            _ => name.to_string(),
        }
    }

    pub fn serialize_params(&mut self, p: &Params) -> String {
        let mut out = String::new();
        for (i, (name, value)) in p.list.iter().enumerate() {
            if i > 0 {
                out.push_str(self.rng.pick_str(&[", ", ",", " , ", ",\t", ",  "]));
            }
            if name == RAW {
                out.push_str(value);
                continue;
            }
            out.push_str(&self.name_case(name));
            out.push_str(self.rng.pick_str(&["=", "=", "=", " = ", "= ", "\t="]));
            if Self::token_ok(value) && self.rng.chance(20) {
                out.push_str(value);
            } else {
                let q = self.quote(value);
                out.push_str(&q);
            }
        }
        out
    }

    pub fn serialize(&mut self, h: &Header) -> String {
        let mut parts = Vec::new();
        for item in &h.items {
            match item {
                Item::Other(s) => parts.push(s.clone()),
                Item::Payment(p) => {
                    let scheme = self
                        .rng
                        .pick(&["Payment", "Payment", "payment", "PAYMENT"])
                        .to_string();
                    let sep = self.rng.pick(&[" ", " ", "  ", "\t"]).to_string();
                    let params = self.serialize_params(p);
                    parts.push(format!("{scheme}{sep}{params}"));
                }
            }
        }
        let joiner = self.rng.pick(&[", ", ",", " ,  "]).to_string();
        parts.join(&joiner)
    }

    /// Header lines instead of one joined value: one per item.
    pub fn serialize_lines(&mut self, h: &Header) -> Vec<String> {
        h.items
            .iter()
            .map(|item| {
                self.serialize(&Header {
                    items: vec![item.clone()],
                })
            })
            .collect()
    }

    /// Breaks challenge `which` of `h` with `m`; returns the serialized header.
    pub fn mutate(&mut self, h: &Header, which: usize, m: Mutation) -> String {
        let mut h = h.clone();
        let payments: Vec<usize> = h
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Item::Payment(_)))
            .map(|(i, _)| i)
            .collect();
        let at = payments[which % payments.len()];
        let Item::Payment(p) = &mut h.items[at] else {
            unreachable!()
        };
        // Mutations that need raw text add a parameter serialized verbatim.
        let mut raw: Option<String> = None;
        match m {
            Mutation::UppercaseMethod => p.set("method", "Stripe"),
            Mutation::MissingRequired => {
                let name = *self
                    .rng
                    .pick(&["id", "realm", "method", "intent", "request"]);
                p.remove(name);
            }
            Mutation::DuplicateParam => {
                let (name, value) = p.list[self.rng.below(p.list.len())].clone();
                p.list.push((name.to_ascii_uppercase(), value));
            }
            Mutation::EmptyId => p.set("id", ""),
            Mutation::RequestNotBase64 => p.set("request", "not-valid!!!"),
            Mutation::RequestArray => p.set("request", &b64url("[1,2]")),
            Mutation::RequestNotJson => p.set("request", &b64url("not json")),
            Mutation::RequestTooLarge => p.set("request", &"a".repeat(16 * 1024 + 4)),
            Mutation::RequestTrailingBits => p.set("request", "e31"),
            Mutation::RequestLength1Mod4 => p.set("request", "e30ab"),
            Mutation::RequestBadPadding => p.set("request", "e3=0"),
            Mutation::RequestInvalidUtf8 => {
                p.set("request", &base64(b"{\"a\":\"\xff\"}", URL, false))
            }
            Mutation::RequestDeepJson => {
                let depth = 33 + self.rng.below(60);
                p.set(
                    "request",
                    &b64url(&format!(
                        "{{\"a\":{}{}}}",
                        "[".repeat(depth),
                        "]".repeat(depth)
                    )),
                );
            }
            Mutation::UnterminatedQuote => raw = Some("description=\"never closed".into()),
            Mutation::LoneSurrogate => {
                raw = Some(format!(
                    "description=\"x\\u{:04x}y\"",
                    0xD800 + self.rng.below(0x800)
                ))
            }
            Mutation::OpaqueNotBase64 => p.set("opaque", "trace-123"),
            Mutation::ExpiresSpaceSeparator => p.set("expires", "2030-01-06 12:00:00Z"),
            Mutation::ExpiresLowercase => p.set("expires", "2030-01-06t12:00:00z"),
            Mutation::ExpiresLeapSecond => p.set("expires", "2016-12-31T23:59:60Z"),
            Mutation::ExpiresInvalidDate => p.set("expires", "2030-02-30T12:00:00Z"),
            Mutation::DigestNoPrefix => p.set("digest", "md5=abc"),
            Mutation::DigestOddChars => p.set("digest", "sha-256=not base64!"),
            Mutation::EmptyParamName => raw = Some("=\"value\"".into()),
            Mutation::HeaderAuthorization => p.set("header", "Authorization"),
            Mutation::HeaderOther => p.set("header", "X-Payment"),
            Mutation::StrayQuotesBeforeParams => {
                p.remove("description");
                p.remove("expires");
                raw =
                    Some("description=\"say \"hi\" now\", expires=\"2031-01-01T00:00:00Z\"".into());
            }
            Mutation::IntentInvalid => p.set("intent", "char ge"),
        }
        if let Some(text) = raw {
            if text.starts_with("description") {
                p.remove("description");
            }
            // Unterminated quotes must come last; the others go anywhere.
            // `Payment ="value"` after a comma would be a parameter named Payment (BWS), so the
            // empty name never comes first.
            let at = match m {
                Mutation::UnterminatedQuote => p.list.len(),
                Mutation::EmptyParamName => 1 + self.rng.below(p.list.len()),
                _ => self.rng.below(p.list.len() + 1),
            };
            p.list.insert(at, (RAW.to_string(), text));
        }
        if m == Mutation::UnterminatedQuote {
            // Nothing may follow an unterminated quote in this header.
            h.items.truncate(at + 1);
        }
        self.serialize(&h)
    }
}
