//! Challenge parsing throughput, linkpay against the `mpp` crate 0.18.2 (native), on the
//! differential tests' generated corpus (`benches/support/corpus.rs`, fixed seed):
//!
//! - `single`: 256 header values with one challenge each;
//! - `three`: 256 values with three challenges each;
//! - `request_16k`: one challenge whose `request` is just under 16 KiB.
//!
//! Both sides parse every challenge of every value and validate its `request` (base64, UTF-8,
//! JSON object). mpp builds a `serde_json` map while validating and drops it; linkpay validates
//! with a scanner and keeps the text. `linkpay+json` also builds the map (`request_json`), as
//! the Rust `Value` API does (the npm package's `decodeChallenges` copies the text instead).
//!
//! Run: `cargo bench --bench mpp` (criterion prints the times; the ratios are in the report).

#[path = "support/corpus.rs"]
mod corpus;

use corpus::{Gen, Header, Item};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn headers(g: &mut Gen, challenges: usize, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let h = Header {
                items: (0..challenges).map(|_| Item::Payment(g.params())).collect(),
            };
            g.serialize(&h)
        })
        .collect()
}

fn ours(values: &[String]) -> usize {
    values
        .iter()
        .map(|v| {
            linkpay::mpp::parse_challenges(std::slice::from_ref(v))
                .into_iter()
                .filter(Result::is_ok)
                .count()
        })
        .sum()
}

fn ours_json(values: &[String]) -> usize {
    values
        .iter()
        .map(|v| {
            linkpay::mpp::parse_challenges(std::slice::from_ref(v))
                .into_iter()
                .filter_map(Result::ok)
                .filter(|c| c.request_json().is_ok())
                .count()
        })
        .sum()
}

fn theirs(values: &[String]) -> usize {
    values
        .iter()
        .map(|v| {
            mpp::protocol::core::parse_www_authenticate_all([v.as_str()])
                .into_iter()
                .filter(Result::is_ok)
                .count()
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let mut g = Gen::new(0x6C69_6E6B_7061_7921);
    let single = headers(&mut g, 1, 256);
    let three = headers(&mut g, 3, 256);
    let mut big = g.params();
    let request = g.large_request(16_000);
    assert!(request.len() <= 16 * 1024, "{}", request.len());
    big.set("request", &request);
    let large = vec![g.serialize(&Header {
        items: vec![Item::Payment(big)],
    })];

    for (name, values, n) in [
        ("single", &single, 256usize),
        ("three", &three, 768),
        ("request_16k", &large, 1),
    ] {
        assert_eq!(
            ours(values),
            n,
            "{name}: linkpay rejects part of the corpus"
        );
        assert_eq!(theirs(values), n, "{name}: mpp rejects part of the corpus");
        let bytes: usize = values.iter().map(String::len).sum();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function("linkpay", |b| b.iter(|| ours(black_box(values))));
        group.bench_function("linkpay+json", |b| b.iter(|| ours_json(black_box(values))));
        group.bench_function("mpp-0.18.2", |b| b.iter(|| theirs(black_box(values))));
        group.finish();
    }

    // `decodeStripeChallenge` on the npm bench's "stripe decode, single" header: a `Bearer`
    // challenge then one stripe charge, decoded to the JSON text the npm package parses.
    let stripe = vec![format!(
        r#"Bearer realm="x", Payment id="s1", realm="api.example.com", method="stripe", intent="charge", request="{STRIPE_REQUEST}""#
    )];
    let mut group = c.benchmark_group("stripe_single");
    group.bench_function("linkpay", |b| {
        b.iter(|| {
            linkpay::codec::decode_stripe_challenge_text(
                black_box(&stripe),
                1_700_000_000_000,
                None,
            )
            .map(|t| t.len())
        })
    });
    group.finish();
}

/// `{"amount":"1000","currency":"usd","methodDetails":{"networkId":"net_123",
/// "paymentMethodTypes":["card"]}}`, base64url.
const STRIPE_REQUEST: &str = "eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0";

criterion_group!(benches, bench);
criterion_main!(benches);
