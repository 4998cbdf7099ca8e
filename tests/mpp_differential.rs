#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Differential tests: linkpay's challenge parser against the `mpp` crate 0.18.2 on a
//! generated corpus (deterministic seed; `benches/support/corpus.rs`).
//!
//! - On **valid** headers (1–3 challenges, other schemes around them, both base64 alphabets,
//!   padding, escapes, `\uXXXX`, BWS, token values, name case, unknown parameters, joined or as
//!   separate lines, strings or Latin-1 bytes) the two must agree on every challenge and every
//!   field.
//! - On headers with one challenge broken by a [`Mutation`], they must agree — except for the
//!   mutations listed in [`intended`], where the disagreement is deliberate and the reason is
//!   given. Every disagreement must be of the declared shape.

#[path = "../benches/support/corpus.rs"]
mod corpus;

use corpus::{Gen, Header, Item, Mutation};
use linkpay::mpp::{Challenge, parse_challenges, parse_challenges_bytes};
use std::collections::BTreeMap;

const SEED: u64 = 0x6C69_6E6B_7061_7921; // "linkpay!"
const VALID_HEADERS: usize = 5_000;
const MUTATIONS_EACH: usize = 150;

/// The fields both parsers expose, as wire strings.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fields {
    id: String,
    realm: String,
    method: String,
    intent: String,
    request: String,
    description: Option<String>,
    digest: Option<String>,
    expires: Option<String>,
    opaque: Option<String>,
    header: Option<String>,
}

type Outcome = Result<Fields, String>;

fn ours(c: linkpay::Result<Challenge>) -> Outcome {
    let own = |v: Option<&str>| v.map(str::to_string);
    c.map(|c| Fields {
        id: c.id().to_string(),
        realm: c.realm().to_string(),
        method: c.method().to_string(),
        intent: c.intent().to_string(),
        request: c.request().to_string(),
        description: own(c.description()),
        digest: own(c.digest()),
        expires: own(c.expires()),
        opaque: own(c.opaque()),
        header: own(c.header()),
    })
    .map_err(|e| e.message)
}

fn theirs(c: mpp::error::Result<mpp::protocol::core::PaymentChallenge>) -> Outcome {
    c.map(|c| Fields {
        id: c.id,
        realm: c.realm,
        method: c.method.as_str().to_string(),
        intent: c.intent.as_str().to_string(),
        request: c.request.raw().to_string(),
        description: c.description,
        digest: c.digest,
        expires: c.expires,
        opaque: c.opaque.map(|o| o.raw().to_string()),
        header: c.header,
    })
    .map_err(|e| e.to_string())
}

fn parse_ours(values: &[String]) -> Vec<Outcome> {
    parse_challenges(values).into_iter().map(ours).collect()
}

fn parse_theirs(values: &[String]) -> Vec<Outcome> {
    mpp::protocol::core::parse_www_authenticate_all(values.iter().map(String::as_str))
        .into_iter()
        .map(theirs)
        .collect()
}

fn payment_count(h: &Header) -> usize {
    h.items
        .iter()
        .filter(|i| matches!(i, Item::Payment(_)))
        .count()
}

#[test]
fn valid_corpus_agrees() {
    let mut g = Gen::new(SEED);
    let (mut challenges, mut lines_checked, mut bytes_checked) = (0, 0, 0);
    for n in 0..VALID_HEADERS {
        let h = g.header();
        let value = g.serialize(&h);
        let a = parse_ours(std::slice::from_ref(&value));
        let b = parse_theirs(std::slice::from_ref(&value));
        assert_eq!(a.len(), payment_count(&h), "#{n}: {value}");
        assert!(a.iter().all(Result::is_ok), "#{n}: {value}\n{a:?}");
        assert_eq!(a, b, "#{n}: {value}");
        challenges += a.len();

        if n % 4 == 0 {
            let lines = g.serialize_lines(&h);
            let a2 = parse_ours(&lines);
            assert_eq!(a2, a, "#{n} as lines: {lines:?}");
            assert_eq!(parse_theirs(&lines), a2, "#{n} as lines: {lines:?}");
            lines_checked += 1;
        }
        if value.chars().all(|c| u32::from(c) <= 0xFF) {
            let bytes: Vec<u8> = value.chars().map(|c| c as u8).collect();
            let a3: Vec<Outcome> = parse_challenges_bytes(&[&bytes])
                .into_iter()
                .map(ours)
                .collect();
            let b3: Vec<Outcome> =
                mpp::protocol::core::parse_www_authenticate_all_bytes([bytes.as_slice()])
                    .into_iter()
                    .map(theirs)
                    .collect();
            assert_eq!(a3, a, "#{n} as bytes");
            assert_eq!(b3, a3, "#{n} as bytes");
            bytes_checked += 1;
        }
    }
    eprintln!(
        "valid corpus: {VALID_HEADERS} headers, {challenges} challenges, all agree \
         ({lines_checked} also as separate lines, {bytes_checked} also as Latin-1 bytes)"
    );
    assert!(challenges >= 10_000, "{challenges}");
}

/// How a mutation's challenge must come out: (ours, theirs) of the mutated challenge.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Both reject it.
    BothErr,
    /// A deliberate difference; the string is the reason.
    Intended(Shape, &'static str),
}

#[derive(Clone, Copy, Debug)]
enum Shape {
    /// We reject, mpp accepts.
    OursErrTheirsOk,
    /// We reject; mpp may accept.
    OursErr,
    /// We accept, mpp rejects.
    OursOkTheirsErr,
    /// Both accept; only `header` differs (mpp drops `Authorization`).
    HeaderDiffers,
    /// We accept with the parameters after the stray quotes recovered; mpp stops at them.
    StrayQuotes,
}

fn intended(m: Mutation) -> Expect {
    use Expect::*;
    use Shape::*;
    match m {
        Mutation::OpaqueNotBase64 => Intended(
            OursOkTheirsErr,
            "opaque is echoed, never decoded: mppx accepts any string (opaque=\"trace-123\"); \
             mpp 0.18.2 requires base64url",
        ),
        Mutation::DigestOddChars => Intended(
            OursOkTheirsErr,
            "digest is opaque after the sha-256= prefix, as mppx checks it; mpp 0.18.2 also \
             checks the base64 alphabet",
        ),
        Mutation::HeaderOther => Intended(
            OursOkTheirsErr,
            "an unknown header value makes the challenge unsupported, not malformed: it parses \
             (the stripe decoder warns) and credential building refuses it with \
             MPP_UNSUPPORTED_CHALLENGE; mpp 0.18.2 rejects it while parsing",
        ),
        Mutation::HeaderAuthorization => Intended(
            HeaderDiffers,
            "draft-02: any header value other than Payment-Authorization is unsupported; we keep \
             header=\"Authorization\" (and refuse to pay), mpp 0.18.2 normalizes it to absent",
        ),
        Mutation::ExpiresSpaceSeparator | Mutation::ExpiresLowercase => Intended(
            OursErrTheirsOk,
            "expires follows mppx's regex (upper-case T and Z, no space); the time crate's \
             RFC 3339 parser that mpp 0.18.2 uses is more lenient",
        ),
        Mutation::ExpiresLeapSecond => Intended(
            OursErrTheirsOk,
            "seconds are 00–59 (no leap second); the time crate accepts 23:59:60 at a month's end",
        ),
        Mutation::EmptyParamName => Intended(
            OursErrTheirsOk,
            "an empty auth-param name (=\"value\") is malformed, as in mppx (\"Malformed \
             auth-param.\"); mpp 0.18.2 ignores it",
        ),
        Mutation::LoneSurrogate => Intended(
            OursErrTheirsOk,
            "a lone UTF-16 surrogate in a \\u escape is rejected; mpp 0.18.2 replaces it with \
             U+FFFD, which would put a value into the echo that the server never sent",
        ),
        Mutation::RequestBadPadding => Intended(
            OursErrTheirsOk,
            "padding is only accepted as the canonical trailing = or ==; mpp 0.18.2 deletes every \
             '=' anywhere before decoding (e3=0 decodes to {})",
        ),
        Mutation::RequestDeepJson => Intended(
            OursErr,
            "request JSON is limited to 32 levels; mpp 0.18.2 relies on serde_json's limit of 128",
        ),
        Mutation::StrayQuotesBeforeParams => Intended(
            StrayQuotes,
            "text after a quoted value is skipped quote-aware to the next comma, so \
             description=\"say \"hi\" now\" does not hide a following expires (mpp-go #155); \
             mpp 0.18.2 ends the challenge at the stray text and loses what follows",
        ),
        Mutation::UppercaseMethod
        | Mutation::MissingRequired
        | Mutation::DuplicateParam
        | Mutation::EmptyId
        | Mutation::RequestNotBase64
        | Mutation::RequestArray
        | Mutation::RequestNotJson
        | Mutation::RequestTooLarge
        | Mutation::RequestTrailingBits
        | Mutation::RequestLength1Mod4
        | Mutation::RequestInvalidUtf8
        | Mutation::UnterminatedQuote
        | Mutation::ExpiresInvalidDate
        | Mutation::DigestNoPrefix
        | Mutation::IntentInvalid => BothErr,
    }
}

fn check_mutated(m: Mutation, a: &Outcome, b: &Outcome) -> Result<bool, String> {
    let fail = || Err(format!("{m:?}: ours {a:?}\n theirs {b:?}"));
    let agreed = match intended(m) {
        Expect::BothErr => {
            if a.is_ok() || b.is_ok() {
                return fail();
            }
            true
        }
        Expect::Intended(shape, _) => {
            let fits = match shape {
                Shape::OursErrTheirsOk => a.is_err() && b.is_ok(),
                Shape::OursErr => a.is_err(),
                Shape::OursOkTheirsErr => a.is_ok() && b.is_err(),
                Shape::HeaderDiffers => match (a, b) {
                    (Ok(x), Ok(y)) => {
                        x.header.as_deref() == Some("Authorization")
                            && y.header.is_none()
                            && Fields {
                                header: None,
                                ..x.clone()
                            } == *y
                    }
                    _ => false,
                },
                Shape::StrayQuotes => {
                    a.as_ref().is_ok_and(|x| {
                        x.description.as_deref() == Some("say ")
                            && x.expires.as_deref() == Some("2031-01-01T00:00:00Z")
                    }) && b.as_ref().map_or(true, |y| y.expires.is_none())
                }
            };
            if !fits {
                return fail();
            }
            false
        }
    };
    Ok(agreed)
}

#[test]
fn mutated_corpus_disagrees_only_as_intended() {
    let mut g = Gen::new(SEED ^ 0xDEAD_BEEF);
    let mut stats: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut challenges = 0;
    for m in Mutation::ALL {
        for n in 0..MUTATIONS_EACH {
            let h = g.header();
            let which = g.rng.below(payment_count(&h));
            let value = g.mutate(&h, which, m);
            let a = parse_ours(std::slice::from_ref(&value));
            let b = parse_theirs(std::slice::from_ref(&value));
            challenges += a.len();
            assert_eq!(
                a.len(),
                b.len(),
                "{m:?} #{n}: {value}\nours {a:?}\ntheirs {b:?}"
            );
            let entry = stats.entry(format!("{m:?}")).or_default();
            for (k, (x, y)) in a.iter().zip(&b).enumerate() {
                if k == which {
                    match check_mutated(m, x, y) {
                        Ok(true) => entry.0 += 1,
                        Ok(false) => entry.1 += 1,
                        Err(why) => panic!("#{n}: {value}\n{why}"),
                    }
                } else {
                    // The other challenges are untouched: both accept them identically.
                    assert!(x.is_ok(), "{m:?} #{n} challenge {k}: {value}\n{x:?}");
                    assert_eq!(x, y, "{m:?} #{n} challenge {k}: {value}");
                }
            }
        }
    }
    for (m, (agree, differ)) in &stats {
        eprintln!("{m:>26}: {agree:>4} agree, {differ:>4} intended disagreements");
    }
    eprintln!("mutated corpus: {challenges} challenges");
    for m in Mutation::ALL {
        if let Expect::Intended(shape, reason) = intended(m) {
            eprintln!("intended {m:?} ({shape:?}): {reason}");
        }
    }
}
