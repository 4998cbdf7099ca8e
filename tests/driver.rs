#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The one driver (`linkpay::client::Client`) run natively against a scripted host: device
//! login, token refresh, retries, idempotency keys, polling limits and the MPP flow, asserted on
//! the requests sent (routes, order, headers, bodies) and on when they were sent by the manual
//! clock. Nothing waits for real: a ten-minute poll takes microseconds.

#[path = "common/host.rs"]
mod host;

use base64::Engine;
use host::{Reply, ScriptedHost, T0, client};
use linkpay::ErrorCode;
use linkpay::client::{AUTH_KEY, Client, LoginStart, PENDING_KEY};
use linkpay::poll::Policy;
use linkpay::validate::options::Include;
use serde_json::{Value, json};

const DEVICE_CODE: &str = "POST /device/code";
const DEVICE_TOKEN: &str = "POST /device/token";

fn device_code_reply(interval: u64) -> Reply {
    Reply::json(
        200,
        json!({
            "device_code": "dc_1",
            "user_code": "apple-banana-cherry",
            "verification_uri": "https://app.link.com/device",
            "verification_uri_complete": "https://app.link.com/device?code=apple-banana-cherry",
            "expires_in": 300,
            "interval": interval,
        }),
    )
}

fn oauth_error(code: &str) -> Reply {
    Reply::json(400, json!({ "error": code }))
}

fn tokens_reply(n: u32) -> Reply {
    Reply::json(
        200,
        json!({
            "access_token": format!("at_{n}_abcdefghijklmnopqrstuvwxyz"),
            "refresh_token": format!("rt_{n}"),
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "userinfo:read,payment_methods.agentic",
        }),
    )
}

/// A stored session whose access token expires `expires_in_ms` from now.
fn logged_in(expires_in_ms: i64) -> Client<ScriptedHost> {
    let c = client();
    c.host().store(
        AUTH_KEY,
        &json!({
            "access_token": "at_1_abcdefghijklmnopqrstuvwxyz",
            "refresh_token": "rt_1",
            "token_type": "Bearer",
            "expires_in": 3600,
            "expires_at": T0 + expires_in_ms,
        }),
    );
    c
}

fn bearer(n: u32) -> String {
    format!("Bearer at_{n}_abcdefghijklmnopqrstuvwxyz")
}

fn spend_request(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "status": status,
        "amount": 1299,
        "currency": "usd",
        "credential_type": "card",
        "merchant_name": "Sandbox Outdoor",
        "merchant_url": "https://outdoor.example/cart",
        "approval_url": format!("https://app.link.com/approve/{id}"),
    })
}

fn context() -> String {
    "Buying trail shoes for the person, who picked them in this conversation; the total matches the cart at checkout."
        .to_string()
}

fn card_input() -> Value {
    json!({
        "payment_method_id": "csmrpd_1",
        "amount": 1299,
        "merchant_name": "Sandbox Outdoor",
        "merchant_url": "https://outdoor.example/cart",
        "context": context(),
        "line_items": ["name:Trail shoes,quantity:1,unit_amount:1299"],
    })
}

fn login_policy(interval: f64) -> Policy {
    Policy {
        interval,
        max_attempts: 0,
        timeout: 300.0,
    }
}

fn times(sent: &[host::Sent]) -> Vec<i64> {
    sent.iter().map(|s| s.at).collect()
}

// ------------------------------------------------------------------------------ device login

#[test]
fn login_pending_then_slow_down_then_approved() {
    let c = client();
    c.host().on(DEVICE_CODE, [device_code_reply(5)]).on(
        DEVICE_TOKEN,
        [
            oauth_error("authorization_pending"),
            oauth_error("slow_down"),
            tokens_reply(1),
        ],
    );
    let started = host::run(c.login_start(&json!({"client_name": "Test Agent"}))).unwrap();
    let LoginStart::Pending(pending) = &started else {
        panic!("expected a pending login, got {started:?}");
    };
    assert_eq!(pending.phrase, "apple-banana-cherry");
    assert_eq!(c.host().stored(PENDING_KEY).unwrap()["device_code"], "dc_1");

    let mut progress = Vec::new();
    let status =
        host::run(c.login_wait(&login_policy(1.0), &mut |v| progress.push(v.clone()))).unwrap();
    assert_eq!(status["authenticated"], true);
    assert_eq!(status["access_token"], "at_1_abcdefghijklmno...");

    let polls = c.host().sent_to(DEVICE_TOKEN);
    assert_eq!(
        c.host().routes(),
        [DEVICE_CODE, DEVICE_TOKEN, DEVICE_TOKEN, DEVICE_TOKEN]
    );
    for poll in &polls {
        assert_eq!(
            poll.form("grant_type").as_deref(),
            Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
        );
        assert_eq!(poll.form("device_code").as_deref(), Some("dc_1"));
    }
    // The server's 5 s interval outlasts `--interval 1`; slow_down adds 5 s (RFC 8628 §3.5).
    assert_eq!(times(&polls), [0, 5_000, 15_000]);
    assert_eq!(
        c.host().stored(PENDING_KEY),
        None,
        "the pending record goes"
    );
    assert_eq!(c.host().stored(AUTH_KEY).unwrap()["refresh_token"], "rt_1");
    assert_eq!(
        c.host().stored(AUTH_KEY).unwrap()["expires_at"],
        T0 + 15_000 + 3_600_000
    );
    // Progress shows the pending status once (it did not change), without the poll time.
    assert_eq!(progress.len(), 1, "{progress:?}");
    assert_eq!(progress[0]["pending"], true);
    assert!(progress[0].get("next_poll_at_ms").is_none());
}

#[test]
fn login_denied_clears_the_pending_record() {
    let c = client();
    c.host().on(DEVICE_CODE, [device_code_reply(2)]).on(
        DEVICE_TOKEN,
        [
            oauth_error("authorization_pending"),
            oauth_error("access_denied"),
        ],
    );
    host::run(c.login_start(&json!({}))).unwrap();
    let err = host::run(c.login_wait(&login_policy(2.0), &mut |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthorizationDenied);
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [0, 2_000]);
    assert_eq!(c.host().stored(PENDING_KEY), None);
    assert_eq!(c.host().stored(AUTH_KEY), None);
}

#[test]
fn login_wait_gives_up_after_max_attempts_with_polls_bounded() {
    let c = client();
    c.host()
        .on(DEVICE_CODE, [device_code_reply(2)])
        .on(DEVICE_TOKEN, [oauth_error("authorization_pending")]);
    host::run(c.login_start(&json!({}))).unwrap();
    let policy = Policy {
        interval: 3.0,
        max_attempts: 3,
        timeout: 300.0,
    };
    let err = host::run(c.login_wait(&policy, &mut |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::PollingTimeout);
    assert!(
        err.message.contains("device authorization"),
        "{}",
        err.message
    );
    // The caller's 3 s outlasts the server's 2 s.
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [0, 3_000, 6_000]);
    assert!(
        c.host().stored(PENDING_KEY).is_some(),
        "still pending: resumable"
    );
}

#[test]
fn a_timeout_never_shortens_the_servers_interval() {
    // The poll's deadline (3 s) comes before the server allows the next poll (5 s): the last
    // poll waits for the server, then the poll times out.
    let c = client();
    c.host()
        .on(DEVICE_CODE, [device_code_reply(5)])
        .on(DEVICE_TOKEN, [oauth_error("authorization_pending")]);
    host::run(c.login_start(&json!({}))).unwrap();
    let policy = Policy {
        interval: 1.0,
        max_attempts: 0,
        timeout: 3.0,
    };
    let err = host::run(c.login_wait(&policy, &mut |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::PollingTimeout);
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [0, 5_000]);
}

/// Issue 13, bug 1: `auth login --interval N` / `auth status --interval N` ran `auth_status`
/// (one poll) and then `login_wait`, whose first poll came at once: two `/device/token` polls
/// back to back, which the server answers with `slow_down`.
#[test]
fn login_wait_after_a_status_poll_waits_one_interval() {
    let c = client();
    c.host().on(DEVICE_CODE, [device_code_reply(5)]).on(
        DEVICE_TOKEN,
        [
            oauth_error("authorization_pending"),
            oauth_error("authorization_pending"),
            tokens_reply(1),
        ],
    );
    host::run(c.login_start(&json!({}))).unwrap();
    let status = host::run(c.auth_status()).unwrap();
    assert_eq!(status["pending"], true);
    assert_eq!(status["next_poll_at_ms"], T0 + 5_000);
    let status = host::run(c.login_wait(&login_policy(2.0), &mut |_| {})).unwrap();
    assert_eq!(status["authenticated"], true);
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [0, 5_000, 10_000]);
}

#[test]
fn the_callers_interval_counts_from_the_previous_poll_too() {
    let c = client();
    c.host().on(DEVICE_CODE, [device_code_reply(1)]).on(
        DEVICE_TOKEN,
        [oauth_error("authorization_pending"), tokens_reply(1)],
    );
    host::run(c.login_start(&json!({}))).unwrap();
    host::run(c.auth_status()).unwrap();
    host::run(c.login_wait(&login_policy(4.0), &mut |_| {})).unwrap();
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [0, 4_000]);
}

#[test]
fn status_too_early_answers_from_storage_without_polling() {
    let c = client();
    c.host()
        .on(DEVICE_CODE, [device_code_reply(5)])
        .on(DEVICE_TOKEN, [oauth_error("authorization_pending")]);
    host::run(c.login_start(&json!({}))).unwrap();
    let first = host::run(c.auth_status()).unwrap();
    c.host().advance(1_000);
    let second = host::run(c.auth_status()).unwrap();
    assert_eq!(c.host().sent_to(DEVICE_TOKEN).len(), 1);
    assert_eq!(first, second, "same keys, same values");
    assert_eq!(
        second,
        json!({
            "authenticated": false,
            "pending": true,
            "verification_url": "https://app.link.com/device?code=apple-banana-cherry",
            "phrase": "apple-banana-cherry",
            "next_poll_at_ms": T0 + 5_000,
            "credentials_path": null,
        })
    );
    c.host().advance(4_000);
    host::run(c.auth_status()).unwrap();
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [0, 5_000]);
}

#[test]
fn a_pending_record_without_the_poll_time_is_polled_at_once() {
    // As the reference client (or an older linkpay) writes it.
    let c = client();
    c.host()
        .on(DEVICE_TOKEN, [oauth_error("authorization_pending")]);
    c.host().store(
        PENDING_KEY,
        &json!({
            "device_code": "dc_old",
            "interval": 5,
            "expires_at": T0 + 300_000,
            "verification_url": "https://app.link.com/device?code=a-b-c",
            "phrase": "a-b-c",
        }),
    );
    let status = host::run(c.auth_status()).unwrap();
    assert_eq!(status["pending"], true);
    let polls = c.host().sent_to(DEVICE_TOKEN);
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].form("device_code").as_deref(), Some("dc_old"));
    // What is stored again keeps every member it had.
    let stored = c.host().stored(PENDING_KEY).unwrap();
    assert_eq!(stored["device_code"], "dc_old");
    assert_eq!(stored["phrase"], "a-b-c");
}

#[test]
fn a_poll_time_from_a_clock_that_went_back_waits_one_interval_at_most() {
    let c = client();
    c.host().on(
        DEVICE_TOKEN,
        [oauth_error("authorization_pending"), tokens_reply(1)],
    );
    c.host().store(
        PENDING_KEY,
        &json!({
            "device_code": "dc_1",
            "interval": 5,
            "expires_at": T0 + 300_000,
            "verification_url": "https://app.link.com/device?code=a-b-c",
            "phrase": "a-b-c",
            "polled_at_ms": T0 + 3_600_000,
        }),
    );
    host::run(c.login_wait(&login_policy(1.0), &mut |_| {})).unwrap();
    assert_eq!(times(&c.host().sent_to(DEVICE_TOKEN)), [5_000, 10_000]);
}

// ------------------------------------------------------------------------------ tokens

#[test]
fn a_token_near_expiry_is_refreshed_before_the_call() {
    let c = logged_in(30_000); // inside the 60 s margin
    c.host().on(DEVICE_TOKEN, [tokens_reply(2)]).on(
        "GET /payment-details",
        [Reply::json(
            200,
            json!({"payment_details": [{"id": "csmrpd_1"}]}),
        )],
    );
    let methods = host::run(c.list_payment_methods()).unwrap();
    assert_eq!(methods, json!([{"id": "csmrpd_1"}]));
    let sent = c.host().sent();
    assert_eq!(c.host().routes(), [DEVICE_TOKEN, "GET /payment-details"]);
    assert_eq!(sent[0].form("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(sent[0].form("refresh_token").as_deref(), Some("rt_1"));
    assert_eq!(sent[1].header("authorization"), Some(bearer(2).as_str()));
    let stored = c.host().stored(AUTH_KEY).unwrap();
    assert_eq!(stored["refresh_token"], "rt_2", "rotated token stored");

    // A token far from expiry is used as it is.
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /payment-details",
        [Reply::json(200, json!({"payment_details": []}))],
    );
    host::run(c.list_payment_methods()).unwrap();
    assert_eq!(c.host().routes(), ["GET /payment-details"]);
    assert_eq!(
        c.host().sent()[0].header("authorization"),
        Some(bearer(1).as_str())
    );
}

#[test]
fn a_401_refreshes_once_and_retries_once() {
    let c = logged_in(3_600_000);
    c.host().on(DEVICE_TOKEN, [tokens_reply(2)]).on(
        "GET /payment-details",
        [
            Reply::json(401, json!({"error": {"message": "token revoked"}})),
            Reply::json(200, json!({"payment_details": [{"id": "csmrpd_1"}]})),
        ],
    );
    host::run(c.list_payment_methods()).unwrap();
    let sent = c.host().sent();
    assert_eq!(
        c.host().routes(),
        ["GET /payment-details", DEVICE_TOKEN, "GET /payment-details"]
    );
    assert_eq!(sent[0].header("authorization"), Some(bearer(1).as_str()));
    assert_eq!(sent[2].header("authorization"), Some(bearer(2).as_str()));
}

#[test]
fn a_retried_call_that_401s_again_is_an_error_not_a_loop() {
    let c = logged_in(3_600_000);
    c.host()
        .on(DEVICE_TOKEN, [tokens_reply(2), tokens_reply(3)])
        .on(
            "GET /spend_requests/lsrq_1",
            [Reply::json(401, json!({"error": {"message": "nope"}}))],
        );
    let err = host::run(c.retrieve_spend_request("lsrq_1", &[])).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotAuthenticated, "{err:?}");
    assert!(err.message.contains("(401): nope"), "{}", err.message);
    assert_eq!(
        c.host().routes(),
        [
            "GET /spend_requests/lsrq_1",
            DEVICE_TOKEN,
            "GET /spend_requests/lsrq_1"
        ]
    );
    assert_eq!(
        c.host().sleeps(),
        [linkpay::auth::LEASE_SETTLE_MS],
        "a 401 is not retried with backoff (the one sleep is the refresh lease settling)"
    );
}

// ------------------------------------------------------------------ one refresh, many callers

fn refresh_already_used() -> Reply {
    Reply::json(
        400,
        json!({
            "error": "invalid_grant",
            "error_description": "Refresh token already used (tokens rotate on every refresh)",
        }),
    )
}

fn expired_session() -> Value {
    json!({
        "access_token": "at_1_abcdefghijklmnopqrstuvwxyz",
        "refresh_token": "rt_1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": T0 - 1,
    })
}

fn rotated_session(n: u32) -> Value {
    json!({
        "access_token": format!("at_{n}_abcdefghijklmnopqrstuvwxyz"),
        "refresh_token": format!("rt_{n}"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": T0 + 3_600_000,
    })
}

fn payment_details() -> Reply {
    Reply::json(200, json!({"payment_details": [{"id": "csmrpd_1"}]}))
}

/// Runs the calls together (see `host::run_all`).
fn together<'a, F>(calls: impl Iterator<Item = F>) -> Vec<linkpay::Result<Value>>
where
    F: Future<Output = linkpay::Result<Value>> + 'a,
{
    host::run_all(
        calls
            .map(|f| Box::pin(f) as std::pin::Pin<Box<dyn Future<Output = _> + 'a>>)
            .collect(),
    )
}

/// The tokens are rotated once: a second refresh with `rt_1` is refused as the server does.
fn rotating_server(h: &ScriptedHost) {
    h.on(DEVICE_TOKEN, [tokens_reply(2), refresh_already_used()])
        .on("GET /payment-details", [payment_details()]);
}

#[test]
fn concurrent_calls_of_one_client_share_one_refresh() {
    let c = client();
    c.host().yielding().store(AUTH_KEY, &expired_session());
    rotating_server(c.host());
    let calls = (0..20).map(|_| c.list_payment_methods());
    let results = together(calls);
    for r in &results {
        assert_eq!(
            r.as_ref().map_err(|e| &e.message),
            Ok(&json!([{"id": "csmrpd_1"}]))
        );
    }
    assert_eq!(
        c.host().sent_to(DEVICE_TOKEN).len(),
        1,
        "{:?}",
        c.host().routes()
    );
    let calls = c.host().sent_to("GET /payment-details");
    assert_eq!(calls.len(), 20);
    assert!(
        calls
            .iter()
            .all(|s| s.header("authorization") == Some(bearer(2).as_str()))
    );
    assert_eq!(c.host().stored(AUTH_KEY).unwrap()["refresh_token"], "rt_2");
    assert_eq!(
        c.host().stored(linkpay::client::LEASE_KEY),
        None,
        "lease released"
    );
}

#[test]
fn concurrent_401s_of_one_client_share_one_refresh() {
    let c = logged_in(3_600_000);
    c.host().yielding();
    c.host()
        .on(DEVICE_TOKEN, [tokens_reply(2), refresh_already_used()])
        .on(
            "GET /payment-details",
            (0..6)
                .map(|_| Reply::json(401, json!({"error": {"message": "token revoked"}})))
                .chain([payment_details()]),
        );
    let calls = (0..6).map(|_| c.list_payment_methods());
    for r in together(calls) {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(c.host().sent_to(DEVICE_TOKEN).len(), 1);
}

#[test]
fn processes_sharing_storage_share_one_refresh() {
    let shared = host::Shared(std::rc::Rc::new(ScriptedHost::default()));
    shared.0.yielding().store(AUTH_KEY, &expired_session());
    rotating_server(&shared.0);
    // Six processes: six clients (each with its own in-process turn) on one storage.
    let clients: Vec<_> = (0..6)
        .map(|_| Client::new(shared.clone(), host::config()))
        .collect();
    let calls = clients.iter().map(|c| c.list_payment_methods());
    for r in together(calls) {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(
        shared.0.sent_to(DEVICE_TOKEN).len(),
        1,
        "{:?}",
        shared.0.routes()
    );
    assert!(
        shared
            .0
            .sent_to("GET /payment-details")
            .iter()
            .all(|s| s.header("authorization") == Some(bearer(2).as_str()))
    );
    assert_eq!(shared.0.stored(linkpay::client::LEASE_KEY), None);
}

#[test]
fn a_refresh_refused_as_used_takes_the_tokens_another_process_stores() {
    let c = client();
    c.host()
        .store(AUTH_KEY, &expired_session())
        // The other process, whose refresh won, stores its tokens a second later.
        .schedule_store(1_000, AUTH_KEY, Some(&rotated_session(2)))
        .on(DEVICE_TOKEN, [refresh_already_used()])
        .on("GET /payment-details", [payment_details()]);
    host::run(c.list_payment_methods()).unwrap();
    assert_eq!(c.host().routes(), [DEVICE_TOKEN, "GET /payment-details"]);
    assert_eq!(
        c.host().sent()[1].header("authorization"),
        Some(bearer(2).as_str())
    );
    assert_eq!(c.host().stored(AUTH_KEY).unwrap()["refresh_token"], "rt_2");
}

#[test]
fn a_refused_refresh_with_no_rotation_is_reported_within_the_bound() {
    let c = client();
    c.host()
        .store(AUTH_KEY, &expired_session())
        .on(DEVICE_TOKEN, [refresh_already_used()]);
    let err = host::run(c.list_payment_methods()).unwrap_err();
    assert_eq!(err.code, ErrorCode::ApiError);
    assert_eq!(
        err.message,
        "Token refresh failed (400): Refresh token already used (tokens rotate on every refresh)"
    );
    assert_eq!(
        c.host().routes(),
        [DEVICE_TOKEN],
        "refused once, not retried"
    );
    let waited = c.host().elapsed();
    assert!(
        (linkpay::auth::ROTATION_WAIT_MS..linkpay::auth::ROTATION_WAIT_MS + 500).contains(&waited),
        "{waited}"
    );
    // Any other refusal is reported at once.
    let c = client();
    c.host().store(AUTH_KEY, &expired_session()).on(
        DEVICE_TOKEN,
        [Reply::json(400, json!({"error": "invalid_client"}))],
    );
    host::run(c.list_payment_methods()).unwrap_err();
    assert!(c.host().elapsed() < 500, "{}", c.host().elapsed());
}

#[test]
fn a_live_lease_of_another_process_is_waited_for_not_refreshed_past() {
    let c = client();
    c.host().store(AUTH_KEY, &expired_session()).store(
        linkpay::client::LEASE_KEY,
        &json!({"owner": "other", "expires_at": T0 + 10_000}),
    );
    c.host()
        .schedule_store(700, AUTH_KEY, Some(&rotated_session(2)))
        .schedule_store(700, linkpay::client::LEASE_KEY, None)
        .on("GET /payment-details", [payment_details()]);
    host::run(c.list_payment_methods()).unwrap();
    assert_eq!(
        c.host().routes(),
        ["GET /payment-details"],
        "no refresh of ours"
    );
    assert_eq!(
        c.host().sent()[0].header("authorization"),
        Some(bearer(2).as_str())
    );

    // A lease left by a killed process expires: the refresh goes ahead then.
    let c = client();
    c.host().store(AUTH_KEY, &expired_session()).store(
        linkpay::client::LEASE_KEY,
        &json!({"owner": "dead", "expires_at": T0 + 2_000}),
    );
    rotating_server(c.host());
    host::run(c.list_payment_methods()).unwrap();
    assert_eq!(c.host().routes(), [DEVICE_TOKEN, "GET /payment-details"]);
    assert!(c.host().elapsed() >= 2_000);
    // And one from a clock far ahead holds no longer than a lease's lifetime.
    let c = client();
    c.host().store(AUTH_KEY, &expired_session()).store(
        linkpay::client::LEASE_KEY,
        &json!({"owner": "future", "expires_at": T0 + 86_400_000}),
    );
    rotating_server(c.host());
    host::run(c.list_payment_methods()).unwrap();
    assert_eq!(c.host().routes(), [DEVICE_TOKEN, "GET /payment-details"]);
}

#[test]
fn env_token_without_refresh_token_fails_on_401_without_refreshing() {
    let mut config = host::config();
    config.access_token = Some(linkpay::spend_request::Secret::new("tok_env_1234567890"));
    let c = Client::new(ScriptedHost::default(), config);
    c.host().on(
        "GET /payment-details",
        [Reply::json(401, json!({"error": "expired"}))],
    );
    let err = host::run(c.list_payment_methods()).unwrap_err();
    assert_eq!(err.code, ErrorCode::TokenExpired);
    assert_eq!(c.host().routes(), ["GET /payment-details"]);
    assert_eq!(
        c.host().stored(AUTH_KEY),
        None,
        "nothing stored in env mode"
    );
}

// ------------------------------------------------------------------------------ retries

#[test]
fn reads_retry_5xx_and_transport_errors_with_backoff() {
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests/lsrq_1",
        [
            Reply::json(503, json!({"error": "unavailable"})),
            Reply::Transport,
            Reply::json(200, spend_request("lsrq_1", "pending_approval")),
        ],
    );
    let got = host::run(c.retrieve_spend_request("lsrq_1", &[Include::Card])).unwrap();
    assert_eq!(got["status"], "pending_approval");
    let sent = c.host().sent();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|s| s.url.ends_with("/spend_requests/lsrq_1?include=card"))
    );
    assert_eq!(times(&sent), [0, 250, 750], "250 ms, then doubled");
    assert_eq!(c.host().sleeps(), [250, 500]);
}

#[test]
fn reads_give_up_after_the_retry_policy_attempts() {
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests",
        [Reply::json(502, json!({"error": "bad gateway"}))],
    );
    let err = host::run(c.list_spend_requests(false)).unwrap_err();
    assert_eq!(err.code, ErrorCode::ApiError, "{err:?}");
    assert_eq!(times(&c.host().sent()), [0, 250, 750, 1_750]);
}

#[test]
fn a_4xx_is_not_retried() {
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests/lsrq_404",
        [Reply::json(
            404,
            json!({"error": {"message": "No such spend request"}}),
        )],
    );
    let err = host::run(c.retrieve_spend_request("lsrq_404", &[])).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(c.host().sent().len(), 1);
}

#[test]
fn unsafe_posts_are_never_resent() {
    assert!(!linkpay::api::Operation::RequestApproval.is_retry_safe());
    assert!(!linkpay::api::Operation::CancelSpendRequest.is_retry_safe());
    assert!(!linkpay::api::Operation::UpdateSpendRequest.is_retry_safe());

    let c = logged_in(3_600_000);
    c.host()
        .on(
            "POST /spend_requests/lsrq_1/request_approval",
            [Reply::json(503, json!({"error": "unavailable"}))],
        )
        .on("POST /spend_requests/lsrq_1/cancel", [Reply::Transport])
        .on(
            "POST /spend_requests/lsrq_1",
            [Reply::json(500, json!({"error": "boom"}))],
        );
    let err = host::run(c.request_approval("lsrq_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::ApiError, "{err:?}");
    let err = host::run(c.cancel_spend_request("lsrq_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::TransportError);
    let err = host::run(c.update_spend_request("lsrq_1", &json!({"amount": 1500}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::ApiError, "{err:?}");
    assert_eq!(
        c.host().routes(),
        [
            "POST /spend_requests/lsrq_1/request_approval",
            "POST /spend_requests/lsrq_1/cancel",
            "POST /spend_requests/lsrq_1"
        ]
    );
    assert!(c.host().sleeps().is_empty());
}

// ------------------------------------------------------------------------------ idempotency

fn is_idempotency_key(key: &str) -> bool {
    key.strip_prefix("linkpay_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[test]
fn create_sends_one_idempotency_key_per_call_on_every_retry() {
    let c = logged_in(3_600_000);
    c.host().on(
        "POST /spend_requests",
        [
            Reply::Transport,
            Reply::json(500, json!({"error": "boom"})),
            Reply::json(200, spend_request("lsrq_1", "pending_approval")),
            Reply::json(200, spend_request("lsrq_2", "pending_approval")),
        ],
    );
    let first = host::run(c.create_spend_request(&card_input())).unwrap();
    assert_eq!(first["id"], "lsrq_1");
    let second = host::run(c.create_spend_request(&card_input())).unwrap();
    assert_eq!(second["id"], "lsrq_2");

    let sent = c.host().sent_to("POST /spend_requests");
    assert_eq!(
        sent.len(),
        4,
        "three attempts for the first call, one for the second"
    );
    let keys: Vec<&str> = sent
        .iter()
        .map(|s| s.header("Idempotency-Key").unwrap())
        .collect();
    assert!(keys.iter().all(|k| is_idempotency_key(k)), "{keys:?}");
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[1], keys[2]);
    assert_ne!(keys[2], keys[3], "a new call, a new key");
    // The body is the wire form, the same on every attempt.
    assert_eq!(sent[0].body, sent[2].body);
    let body = sent[0].json();
    assert_eq!(body["payment_details"], "csmrpd_1");
    assert_eq!(body["amount"], 1299);
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
}

#[test]
fn invalid_create_input_sends_nothing() {
    let c = logged_in(3_600_000);
    let err = host::run(c.create_spend_request(&json!({"amount": 60_000, "context": "short"})))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationError);
    assert!(c.host().sent().is_empty());
}

// ------------------------------------------------------------------------------ polling

#[test]
fn wait_for_times_out_with_requests_bounded_by_the_policy() {
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests/lsrq_1",
        [Reply::json(
            200,
            spend_request("lsrq_1", "pending_approval"),
        )],
    );
    let mut progress = 0;
    let err = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 2, "timeout": 10}),
        &mut |_| progress += 1,
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::PollingTimeout);
    assert!(err.message.contains("lsrq_1"), "{}", err.message);
    // One fetch at the start and one per interval until the timeout: 1 + 10 / 2.
    assert_eq!(
        times(&c.host().sent()),
        [0, 2_000, 4_000, 6_000, 8_000, 10_000]
    );
    assert_eq!(progress, 1, "the unchanged snapshot is shown once");

    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests/lsrq_1",
        [Reply::json(
            200,
            spend_request("lsrq_1", "pending_approval"),
        )],
    );
    let err = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 1, "max_attempts": 3}),
        &mut |_| {},
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::PollingTimeout);
    assert_eq!(times(&c.host().sent()), [0, 1_000, 2_000]);
}

#[test]
fn wait_for_stops_at_a_terminal_status() {
    let c = logged_in(3_600_000);
    let mut approved = spend_request("lsrq_1", "approved");
    approved["card"] = json!({"id": "card_1", "brand": "visa", "last4": "4242",
        "number": "4242424242424242", "cvc": "123", "exp_month": 12, "exp_year": 2030});
    c.host().on(
        "GET /spend_requests/lsrq_1",
        [
            Reply::json(200, spend_request("lsrq_1", "created")),
            Reply::json(200, spend_request("lsrq_1", "pending_approval")),
            Reply::json(200, approved),
        ],
    );
    let mut seen = Vec::new();
    let done = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 2, "include": ["card"]}),
        &mut |v| seen.push(v["status"].as_str().unwrap().to_string()),
    ))
    .unwrap();
    assert_eq!(done["status"], "approved");
    assert_eq!(seen, ["created", "pending_approval"]);
    assert_eq!(times(&c.host().sent()), [0, 2_000, 4_000]);
    // The card number never reaches the log.
    assert!(
        c.host()
            .logs()
            .iter()
            .all(|l| !l.contains("4242424242424242"))
    );
}

// ------------------------------------------------------------------------------ MPP

/// tests/vectors/mpp-stripe.json, first case: 1000 usd on net_123.
const CHALLENGE: &str = "Payment id=\"ch_1\", realm=\"merchant.example\", method=\"stripe\", intent=\"charge\", request=\"eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0\"";
/// tests/vectors/mpp-receipt.json, "V11 stripe charge spec".
const RECEIPT: &str = "eyJtZXRob2QiOiJzdHJpcGUiLCJyZWZlcmVuY2UiOiJwaV8xTjRadjMyZVp2S1lsbzJDUGhWUGtKbFciLCJzdGF0dXMiOiJzdWNjZXNzIiwidGltZXN0YW1wIjoiMjAyNS0wMS0xNVQxMjowNDozMloifQ";

fn spt_request(status: &str, spt: Option<&str>) -> Value {
    let mut sr = json!({
        "id": "lsrq_spt",
        "status": status,
        "amount": 1000,
        "currency": "usd",
        "credential_type": "shared_payment_token",
        "network_id": "net_123",
        "approval_url": "https://app.link.com/approve/lsrq_spt",
    });
    if let Some(spt) = spt {
        sr["shared_payment_token"] = json!(spt);
    }
    sr
}

#[test]
fn mpp_pay_402_spt_approval_paid_receipt() {
    let c = logged_in(3_600_000);
    c.host()
        .on(
            "GET /premium",
            [
                Reply::with_headers(
                    402,
                    &[
                        ("WWW-Authenticate", CHALLENGE),
                        ("Content-Type", "text/plain"),
                    ],
                    "Payment required",
                ),
                Reply::with_headers(
                    200,
                    &[("Payment-Receipt", RECEIPT), ("Content-Type", "text/plain")],
                    "the premium content",
                ),
            ],
        )
        .on(
            "GET /payment-details",
            [Reply::json(
                200,
                json!({"payment_details": [{"id": "csmrpd_1", "type": "card"}]}),
            )],
        )
        .on(
            "POST /spend_requests",
            [Reply::json(200, spt_request("pending_approval", None))],
        )
        .on(
            "GET /spend_requests/lsrq_spt",
            [
                Reply::json(200, spt_request("pending_approval", None)),
                Reply::json(200, spt_request("approved", Some("spt_123"))),
            ],
        );
    let mut progress = Vec::new();
    let result = host::run(c.mpp_pay(
        &json!({"url": "https://merchant.example/premium", "context": context(), "interval": 2}),
        &mut |v| progress.push(v["status"].clone()),
    ))
    .unwrap();

    assert_eq!(
        c.host().routes(),
        [
            "GET /premium",
            "GET /payment-details",
            "POST /spend_requests",
            "GET /spend_requests/lsrq_spt",
            "GET /spend_requests/lsrq_spt",
            "GET /premium",
        ]
    );
    let sent = c.host().sent();
    assert_eq!(times(&sent), [0, 0, 0, 0, 2_000, 2_000]);
    // The probe carries no credential, and the Link bearer never reaches the merchant.
    assert_eq!(sent[0].header("authorization"), None);
    // The SPT spend request is for the challenge's amount and network.
    let body = sent[2].json();
    assert_eq!(body["credential_type"], "shared_payment_token");
    assert_eq!(body["network_id"], "net_123");
    assert_eq!(body["amount"], 1000);
    assert_eq!(body["currency"], "usd");
    assert_eq!(body["payment_details"], "csmrpd_1");
    assert!(is_idempotency_key(
        sent[2].header("Idempotency-Key").unwrap()
    ));
    assert!(sent[3].url.ends_with("?include=shared_payment_token"));
    // The paid retry: `Authorization: Payment <base64url(JSON)>` echoing the challenge.
    let credential = sent[5].header("authorization").unwrap();
    let encoded = credential.strip_prefix("Payment ").unwrap();
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .unwrap();
    let credential: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(credential["challenge"]["id"], "ch_1");
    assert_eq!(credential["challenge"]["realm"], "merchant.example");
    assert_eq!(
        credential["challenge"]["request"],
        CHALLENGE
            .split("request=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches('"'),
        "the request is echoed as received"
    );
    assert_eq!(credential["payload"]["spt"], "spt_123");

    assert_eq!(result["status"], 200);
    assert_eq!(result["body"], "the premium content");
    assert_eq!(result["spend_request_id"], "lsrq_spt");
    assert_eq!(
        result["receipt"],
        json!({"method": "stripe", "reference": "pi_1N4Zv32eZvKYlo2CPhVPkJlW",
               "status": "success", "timestamp": "2025-01-15T12:04:32Z"})
    );
    // The created request, then the first poll's snapshot: the person sees the approval URL
    // before the driver waits.
    assert_eq!(progress, ["pending_approval", "pending_approval"]);
    // No secret in the log.
    for line in c.host().logs() {
        assert!(
            !line.contains("spt_123") && !line.contains("at_1_"),
            "{line}"
        );
    }
}

#[test]
fn mpp_pay_without_a_402_is_the_merchant_answer() {
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /free",
        [Reply::with_headers(200, &[("X-A", "1")], "free content")],
    );
    let result = host::run(c.mpp_pay(
        &json!({"url": "https://merchant.example/free", "context": context()}),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(
        result,
        json!({"status": 200, "headers": {"x-a": "1"}, "body": "free content"})
    );
    assert_eq!(c.host().routes(), ["GET /free"]);
}

#[test]
fn every_request_carries_the_configured_timeout() {
    let mut config = host::config();
    config.request_timeout_ms = 1_234;
    config.access_token = Some(linkpay::spend_request::Secret::new("tok_env_1234567890"));
    let c = Client::new(ScriptedHost::default(), config);
    c.host().on(
        "GET /payment-details",
        [Reply::json(200, json!({"payment_details": []}))],
    );
    host::run(c.list_payment_methods()).unwrap();
    assert_eq!(c.host().sent()[0].timeout_ms, 1_234);
}

#[test]
fn an_unknown_status_passes_through_and_keeps_the_poll_going() {
    // The live API added `submitted` after link-cli 0.13.1: an old client must not fail on it.
    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests/lsrq_1",
        [
            Reply::json(200, spend_request("lsrq_1", "submitted")),
            Reply::json(200, spend_request("lsrq_1", "approved")),
        ],
    );
    let mut seen = Vec::new();
    let done = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 2, "timeout": 60}),
        &mut |v| seen.push(v["status"].as_str().unwrap_or_default().to_string()),
    ))
    .unwrap();
    assert_eq!(done["status"], "approved");
    assert_eq!(seen, ["submitted"], "printed as the server sent it");
    assert_eq!(times(&c.host().sent()), [0, 2_000]);

    let c = logged_in(3_600_000);
    c.host().on(
        "GET /spend_requests/lsrq_1",
        [Reply::json(200, spend_request("lsrq_1", "submitted"))],
    );
    let err = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 1, "timeout": 1}),
        &mut |_| {},
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::PollingTimeout);
    assert!(err.message.contains("submitted"), "{}", err.message);
}

// ------------------------------------------------------------------------------ fetch (guardrails)

fn fetch_options(extra: Value) -> linkpay::validate::mpp::FetchOptions {
    let mut options = json!({"context": context(), "interval": 2});
    options
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    linkpay::validate::mpp::validate_fetch_options(&options).unwrap()
}

/// The Link API answers for one approved SPT payment of the CHALLENGE.
fn approves_one_payment(c: &Client<ScriptedHost>) {
    c.host()
        .on(
            "GET /payment-details",
            [Reply::json(
                200,
                json!({"payment_details": [{"id": "csmrpd_1", "type": "card"}]}),
            )],
        )
        .on(
            "POST /spend_requests",
            [Reply::json(200, spt_request("pending_approval", None))],
        )
        .on(
            "GET /spend_requests/lsrq_spt",
            [Reply::json(200, spt_request("approved", Some("spt_123")))],
        );
}

fn payment_required() -> Reply {
    Reply::with_headers(402, &[("WWW-Authenticate", CHALLENGE)], "Payment required")
}

fn guardrail(e: &linkpay::Error) -> &str {
    assert_eq!(e.code, ErrorCode::PaymentGuardrail, "{}", e.message);
    e.details.as_deref().unwrap()["reason"].as_str().unwrap()
}

#[test]
fn fetch_pays_a_402_once_resending_the_body_and_never_pays_that_challenge_again() {
    let c = logged_in(3_600_000);
    approves_one_payment(&c);
    c.host().on(
        "POST /premium",
        [
            payment_required(),
            Reply::with_headers(200, &[("Payment-Receipt", RECEIPT)], "paid content"),
            payment_required(),
        ],
    );
    let mut request = linkpay::host::HttpRequest::new("POST", "https://merchant.example/premium")
        .body("application/json", r#"{"q":1}"#.into());
    request
        .headers
        .push(("Authorization".into(), "Bearer merchant-key".into()));
    let options = fetch_options(json!({}));
    let answer = host::run(c.fetch(&request, &options)).unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "paid content");
    assert_eq!(answer.header_value("payment-receipt"), Some(RECEIPT));
    let merchant = c.host().sent_to("POST /premium");
    assert_eq!(merchant.len(), 2);
    for sent in &merchant {
        assert_eq!(
            sent.body.as_deref(),
            Some(r#"{"q":1}"#),
            "the body both times"
        );
        assert_eq!(sent.header("content-type"), Some("application/json"));
    }
    assert_eq!(
        merchant[0].header("authorization"),
        Some("Bearer merchant-key")
    );
    // The credential replaces the caller's Authorization (the challenge asks for that header).
    let paid: Vec<_> = merchant[1]
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .collect();
    assert_eq!(paid.len(), 1);
    assert!(paid[0].1.starts_with("Payment "));
    let body = c.host().sent_to("POST /spend_requests")[0].json();
    assert_eq!(
        (body["amount"].clone(), body["network_id"].clone()),
        (json!(1000), json!("net_123"))
    );

    // The same challenge again: refused before the Link API hears of it.
    let before = c.host().sent().len();
    let e = host::run(c.fetch(&request, &options)).unwrap_err();
    assert_eq!(guardrail(&e), "already_paid");
    let after: Vec<String> = c.host().sent()[before..]
        .iter()
        .map(|s| s.route())
        .collect();
    assert_eq!(after, ["POST /premium"], "only the probe");
    let logs = c.host().logs();
    assert!(
        logs.iter().any(|l| l.contains(
            "payment: challenge ch_1 (1000 usd for merchant.example): within the guardrails"
        )),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("refused, Payment refused (already_paid)"))
    );
    assert!(logs.iter().all(|l| !l.contains("spt_123")), "{logs:?}");
}

#[test]
fn fetch_guardrails_refuse_before_any_spend_request() {
    for (url, extra, reason) in [
        (
            "https://merchant.example/premium",
            json!({"max_amount": 999}),
            "max_amount",
        ),
        (
            "https://merchant.example/premium",
            json!({"max_total": 999}),
            "max_total",
        ),
        (
            "https://elsewhere.example/premium",
            json!({}),
            "realm_mismatch",
        ),
    ] {
        let c = logged_in(3_600_000);
        c.host().on("GET /premium", [payment_required()]);
        let request = linkpay::host::HttpRequest::new("GET", url);
        let e = host::run(c.fetch(&request, &fetch_options(extra))).unwrap_err();
        assert_eq!(guardrail(&e), reason);
        assert_eq!(
            c.host().routes(),
            ["GET /premium"],
            "{reason}: only the probe"
        );
    }
    // allow_realms admits the other realm.
    let c = logged_in(3_600_000);
    approves_one_payment(&c);
    c.host().on(
        "GET /premium",
        [payment_required(), Reply::with_headers(200, &[], "ok")],
    );
    let request = linkpay::host::HttpRequest::new("GET", "https://elsewhere.example/premium");
    let options = fetch_options(json!({"allow_realms": ["Merchant.Example"]}));
    assert_eq!(host::run(c.fetch(&request, &options)).unwrap().status, 200);
}

#[test]
fn fetch_leaves_answers_it_cannot_pay_untouched_and_releases_denied_amounts() {
    let c = logged_in(3_600_000);
    let tempo = "Payment id=\"t1\", realm=\"merchant.example\", method=\"tempo\", intent=\"charge\", request=\"e30\"";
    c.host().on(
        "GET /premium",
        [
            Reply::with_headers(200, &[], "free"),
            Reply::with_headers(402, &[("WWW-Authenticate", tempo)], "tempo only"),
        ],
    );
    let request = linkpay::host::HttpRequest::new("GET", "https://merchant.example/premium");
    let options = fetch_options(json!({"max_total": 1000}));
    assert_eq!(host::run(c.fetch(&request, &options)).unwrap().body, "free");
    let answer = host::run(c.fetch(&request, &options)).unwrap();
    assert_eq!((answer.status, answer.body.as_str()), (402, "tempo only"));
    assert_eq!(c.host().routes(), ["GET /premium", "GET /premium"]);

    // Denied: SPEND_REQUEST_NOT_APPROVED, and the 1000 no longer count against max_total.
    c.host()
        .on(
            "GET /paid",
            [
                payment_required(),
                payment_required(),
                Reply::with_headers(200, &[], "paid"),
            ],
        )
        .on(
            "GET /payment-details",
            [Reply::json(
                200,
                json!({"payment_details": [{"id": "csmrpd_1"}]}),
            )],
        )
        .on(
            "POST /spend_requests",
            [Reply::json(200, spt_request("pending_approval", None))],
        )
        .on(
            "GET /spend_requests/lsrq_spt",
            [
                Reply::json(200, spt_request("denied", None)),
                Reply::json(200, spt_request("approved", Some("spt_123"))),
            ],
        );
    let paid = linkpay::host::HttpRequest::new("GET", "https://merchant.example/paid");
    let e = host::run(c.fetch(&paid, &options)).unwrap_err();
    assert_eq!(e.code, ErrorCode::SpendRequestNotApproved);
    assert_eq!(host::run(c.fetch(&paid, &options)).unwrap().body, "paid");
}

// ------------------------------------------------------------------------------ paid MCP calls

/// The `-32042` answer of a paid MCP tool (mppx's convention): [`CHALLENGE`] as an object.
fn mcp_payment_required(id: &str) -> Value {
    json!({"error": {"code": -32042, "message": "Payment Required", "data": {
        "httpStatus": 402,
        "challenges": [
            {"id": "tempo_1", "realm": "merchant.example", "method": "tempo", "intent": "charge", "request": {"amount": "1"}},
            {"id": id, "realm": "merchant.example", "method": "stripe", "intent": "charge", "description": "A forecast",
             "request": {"currency": "usd", "amount": "1000", "methodDetails": {"networkId": "net_123", "paymentMethodTypes": ["card"]}}},
        ],
    }}})
}

fn mcp_options(extra: Value) -> linkpay::validate::mpp::FetchOptions {
    let mut options = json!({"interval": 2});
    options
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    linkpay::validate::mpp::validate_fetch_options(&options).unwrap()
}

#[test]
fn a_paid_mcp_call_is_paid_once_under_the_guardrails() {
    let c = logged_in(3_600_000);
    c.host()
        .on(
            "GET /payment-details",
            [Reply::json(
                200,
                json!({"payment_details": [{"id": "csmrpd_1", "type": "card"}]}),
            )],
        )
        .on(
            "POST /spend_requests",
            [Reply::json(200, spt_request("pending_approval", None))],
        )
        .on(
            "GET /spend_requests/lsrq_spt",
            [Reply::json(200, spt_request("approved", Some("spt_123")))],
        );
    let call = json!({"name": "forecast", "arguments": {}});
    let mut approvals = Vec::new();
    let credential = host::run(c.mcp_payment(
        &mcp_payment_required("ch_mcp"),
        &call,
        None,
        &mcp_options(json!({})),
        &mut |_| Box::pin(async { Ok(None) }),
        &mut |a| approvals.push(a.clone()),
    ))
    .unwrap()
    .unwrap();
    // mppx's credential object: the challenge in its schema order, request as its JCS object.
    assert_eq!(
        serde_json::to_string(&credential).unwrap(),
        r#"{"challenge":{"description":"A forecast","id":"ch_mcp","intent":"charge","method":"stripe","realm":"merchant.example","request":{"amount":"1000","currency":"usd","methodDetails":{"networkId":"net_123","paymentMethodTypes":["card"]}}},"payload":{"spt":"spt_123"}}"#
    );
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0]["amount"], 1000);
    let body = c.host().sent_to("POST /spend_requests")[0].json();
    assert_eq!(body["network_id"], "net_123");
    // No context given: the person reads one naming the tool, the server and the price.
    let context = body["context"].as_str().unwrap();
    assert!(
        context.contains("\"forecast\"")
            && context.contains("merchant.example")
            && context.contains("1000 USD"),
        "{context}"
    );
    assert!(context.chars().count() >= 100);

    // The same challenge again: already paid, nothing sent.
    c.host().clear_sent();
    let again = host::run(c.mcp_payment(
        &mcp_payment_required("ch_mcp"),
        &call,
        None,
        &mcp_options(json!({})),
        &mut |_| Box::pin(async { Ok(None) }),
        &mut |_| {},
    ))
    .unwrap_err();
    assert_eq!(again.code, ErrorCode::PaymentGuardrail);
    assert_eq!(again.details.as_deref().unwrap()["reason"], "already_paid");
    // Over the per-payment cap; a realm outside allowRealms (a stdio server has no host);
    // a realm that is not the HTTP server's host: refused before any request.
    for (extra, server, reason) in [
        (json!({"max_amount": 999}), None, "max_amount"),
        (
            json!({"allow_realms": ["other.example"]}),
            None,
            "realm_mismatch",
        ),
        (
            json!({}),
            Some("https://tools.example/mcp"),
            "realm_mismatch",
        ),
    ] {
        let e = host::run(c.mcp_payment(
            &mcp_payment_required("ch_other"),
            &call,
            server,
            &mcp_options(extra),
            &mut |_| Box::pin(async { Ok(None) }),
            &mut |_| {},
        ))
        .unwrap_err();
        assert_eq!(e.details.as_deref().unwrap()["reason"], reason);
    }
    assert!(c.host().sent().is_empty());
    // Not a payment-required answer, or one with no stripe challenge: nothing to pay.
    let tempo_only = json!({"error": {"code": -32042, "message": "Payment Required", "data": {"challenges": [
        {"id": "t", "realm": "r", "method": "tempo", "intent": "charge", "request": {}}]}}});
    for answer in [json!({"result": {"content": []}}), tempo_only] {
        let none = host::run(c.mcp_payment(
            &answer,
            &call,
            None,
            &mcp_options(json!({})),
            &mut |_| Box::pin(async { Ok(None) }),
            &mut |_| {},
        ))
        .unwrap();
        assert_eq!(none, None);
    }
}
