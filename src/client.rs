//! The one async driver: runs `api`, `auth`, `poll` and `mpp` against a [`Host`].
//!
//! Everything that decides lives in those sans-IO modules; this file only sequences them: send
//! the request they built, feed the answer back, store what they say to store, sleep until the
//! time they name. The npm package and the WASI component run this same driver with their own
//! hosts.

use crate::api::{self, Endpoints, Operation};
use crate::auth::{
    self, DeviceCodeRequest, LoginState, PendingDeviceAuth, TokenSet, TokenSource, TokenStep,
};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::host::{Host, HttpRequest, HttpResponse};
use crate::mpp;
use crate::poll::{self, Decision, Policy};
use crate::spend_request::Secret;
use crate::spend_request::Status;
use crate::validate;
use crate::validate::options::Include;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Storage key of the session tokens (the reference client's config-file key).
pub const AUTH_KEY: &str = "auth";
/// Storage key of a device authorization in progress, so a second process can finish it.
pub const PENDING_KEY: &str = "pendingDeviceAuth";
/// Storage key of the claim on a refresh in progress ([`auth::RefreshLease`]), so that the
/// processes sharing the storage refresh once; deleted when the refresh is over.
pub const LEASE_KEY: &str = "refreshLease";

/// How transport errors and 5xx answers of retry-safe requests are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubles each time, capped at 8 s.
    pub base_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay_ms: 250,
        }
    }
}

/// The client's configuration; the hosts fill it from options and the environment
/// (`LINK_API_BASE_URL`, `LINK_AUTH_BASE_URL`, `LINK_ACCESS_TOKEN`, `LINK_REFRESH_TOKEN`,
/// `LINK_NO_REFRESH`).
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub endpoints: Endpoints,
    /// `LINK_ACCESS_TOKEN`: used as is, storage is not consulted for tokens.
    pub access_token: Option<Secret>,
    /// `LINK_REFRESH_TOKEN`: one refresh on a 401 in env-token mode.
    pub refresh_token: Option<Secret>,
    /// `LINK_NO_REFRESH`: never refresh; an expired token is `TOKEN_EXPIRED`.
    pub no_refresh: bool,
    /// The machine's name, for the connection label the person sees ("<client> on <host>").
    pub hostname: String,
    pub retry: RetryPolicy,
    /// The whole-exchange limit of each HTTP request ([`request_timeout`]).
    pub request_timeout_ms: u32,
    /// Where the host keeps the session (a file path, `memory`, `chrome.storage`), shown as
    /// `credentials_path` by `auth status`.
    pub storage_location: Option<String>,
}

pub use crate::host::{DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS};

/// How a binding spells the options in its errors: `requestTimeoutMs` (npm) or
/// `request-timeout-ms` (WIT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    Camel,
    Kebab,
}

impl Config {
    /// The one parse of a client's options, for every binding: JSON with the npm option names
    /// (`apiBaseUrl`, `authBaseUrl`, `accessToken`, `refreshToken`, `noRefresh`, `hostname`,
    /// `requestTimeoutMs`, `storageLocation`; the component passes its WIT record so). Empty
    /// strings are absent; base URLs must be absolute http(s) URLs. Every problem at once as one
    /// `VALIDATION_ERROR` whose paths are spelled as the binding's user writes them.
    pub fn from_options(options: &Value, spelling: Spelling) -> Result<Config> {
        let name = |camel: &str| match spelling {
            Spelling::Camel => camel.to_string(),
            Spelling::Kebab => camel
                .chars()
                .flat_map(|c| {
                    let lower = c.to_ascii_lowercase();
                    (c.is_ascii_uppercase().then_some('-').into_iter()).chain([lower])
                })
                .collect(),
        };
        let text = |key: &str| {
            options
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut errors = Vec::new();
        for key in ["apiBaseUrl", "authBaseUrl"] {
            if let Some(url) = text(key)
                && !validate::is_http_url(&url)
            {
                errors.push(FieldError::new(
                    name(key),
                    "must be an absolute http(s) URL",
                ));
            }
        }
        let timeout = request_timeout(options.get("requestTimeoutMs"), &name("requestTimeoutMs"));
        let request_timeout_ms = match timeout {
            Ok(ms) => ms,
            Err(e) => {
                errors.extend(e.field_errors);
                DEFAULT_REQUEST_TIMEOUT_MS
            }
        };
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        Ok(Config {
            endpoints: Endpoints::new(
                text("apiBaseUrl").as_deref(),
                text("authBaseUrl").as_deref(),
            ),
            access_token: text("accessToken").map(Secret::new),
            refresh_token: text("refreshToken").map(Secret::new),
            no_refresh: options
                .get("noRefresh")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            hostname: text("hostname").unwrap_or_else(|| "unknown".into()),
            retry: RetryPolicy::default(),
            request_timeout_ms,
            storage_location: text("storageLocation"),
        })
    }
}

/// The `requestTimeoutMs` option (`request-timeout-ms` in WIT): absent is the default; else
/// whole milliseconds from 1 to [`MAX_REQUEST_TIMEOUT_MS`]. `field` names it in the error.
pub fn request_timeout(value: Option<&Value>, field: &str) -> Result<u32> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(DEFAULT_REQUEST_TIMEOUT_MS);
    };
    match value.as_u64().and_then(|ms| u32::try_from(ms).ok()) {
        Some(ms @ 1..=MAX_REQUEST_TIMEOUT_MS) => Ok(ms),
        _ => Err(Error::validation(vec![FieldError::new(
            field,
            [
                "must be a whole number of milliseconds from 1 to ",
                &MAX_REQUEST_TIMEOUT_MS.to_string(),
            ]
            .concat(),
        )])),
    }
}

/// The authenticated Link API operations, as data (see [`Client::call`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ApiCall {
    /// `GET /payment-details`.
    ListPaymentMethods,
    /// `POST /spend_requests` (or `create_delegated`) with this validated input.
    CreateSpendRequest(Box<validate::spend_request::CreateSpendRequest>),
    /// `POST /spend_requests/{id}` with this validated input.
    UpdateSpendRequest(String, validate::spend_request::UpdateSpendRequest),
    /// `GET /spend_requests/{id}` with these expansions.
    RetrieveSpendRequest(String, Vec<Include>),
    /// `POST /spend_requests/{id}/request_approval`.
    RequestApproval(String),
    /// `POST /spend_requests/{id}/cancel`.
    CancelSpendRequest(String),
    /// `GET /spend_requests`, with history when `true`.
    ListSpendRequests(bool),
    /// `GET /shipping_addresses`.
    ListShippingAddresses,
    /// `GET /userinfo`.
    RetrieveUserInfo,
    /// `POST /agent_observations`: how a purchase attempt ended.
    Report(Box<validate::report::Report>),
    /// `GET /transactions?…` (financial insights).
    ListTransactions(api::PageQuery),
    /// `GET /sources?…` (financial insights).
    ListSources(api::PageQuery),
    /// `GET /balances?…` (financial insights).
    ListBalances(api::PageQuery),
}

/// The driver. `H` supplies fetch, storage, clock, sleep and randomness.
pub struct Client<H: Host> {
    host: H,
    config: Config,
    /// Taken around a stored session's refresh: the calls of one client in flight at once
    /// (`Promise.all`, `serve`) wait for the one refresh instead of each sending their own.
    refresh_turn: Turn,
    /// What the payments agent code started have spent ([`mpp::guard`]): per client.
    ledger: RefCell<mpp::guard::Ledger>,
}

/// Where a payment's person-facing context comes from when the options have none: the caller's
/// function of the decoded challenge (`link.fetch`'s `context` may be one, and may return a
/// Promise). `Ok(None)`: no context.
pub type AskContext<'a> =
    dyn FnMut(&Value) -> Pin<Box<dyn Future<Output = Result<Option<String>>>>> + 'a;

/// A payment's amount held against `max_total` while the person decides: released when dropped
/// (denied, timed out, failed, or the call abandoned), unless it was spent.
struct Hold<'a> {
    ledger: &'a RefCell<mpp::guard::Ledger>,
    challenge_id: String,
    spent: bool,
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let mut ledger = self.ledger.borrow_mut();
        if self.spent {
            ledger.commit(&self.challenge_id);
        } else {
            ledger.release(&self.challenge_id);
        }
    }
}

/// What an SPT spend request is made of (`mpp pay`, and the payments agent code starts).
struct SptAsk<'a> {
    context: &'a str,
    payment_method_id: Option<&'a str>,
    amount: u64,
    currency: &'a str,
    network_id: &'a str,
    test: bool,
    wait: bool,
    interval: f64,
    timeout: f64,
}

/// A single-threaded async mutex (every host is single-threaded, see [`Host`]): a flag and
/// the wakers of those waiting for it.
#[derive(Default)]
struct Turn {
    taken: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

impl Turn {
    fn take(&self) -> TakeTurn<'_> {
        TakeTurn(self)
    }
}

struct TakeTurn<'a>(&'a Turn);

impl<'a> Future for TakeTurn<'a> {
    type Output = TurnGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<TurnGuard<'a>> {
        let turn = self.0;
        if turn.taken.replace(true) {
            turn.waiting.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(TurnGuard(turn))
        }
    }
}

/// Gives the turn back when dropped (also when the future holding it is dropped midway).
struct TurnGuard<'a>(&'a Turn);

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        self.0.taken.set(false);
        let waiting = std::mem::take(&mut *self.0.waiting.borrow_mut());
        for waker in waiting {
            waker.wake();
        }
    }
}

/// What claiming the refresh lease came to.
enum Claim {
    /// Someone else refreshed meanwhile: these are the tokens to use.
    Rotated(TokenSet),
    /// Ours: refresh, then release it.
    Held(auth::RefreshLease),
    /// No lease (storage refused the claim, or another claim outlived the wait): refresh
    /// anyway, a refusal is still covered by re-reading the tokens.
    Unclaimed,
}

const SECRET_KEYS: &[&str] = &[
    "number",
    "cvc",
    "access_token",
    "refresh_token",
    "device_code",
    "token",
    "spt",
    "grantedToken",
    "link_pay_token",
    "authorization",
];

/// Redacts secret values (by key, recursively) for the verbose log.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let secret = SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k))
                        || (k == "shared_payment_token" || k == "id")
                            && v.as_str().is_some_and(|s| s.starts_with("spt_"));
                    let v = if secret && !v.is_null() {
                        Value::String("<redacted>".into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// A body for the log: JSON redacted by key, forms redacted by field, anything else by length.
fn loggable_body(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return crate::json_text(&redact(&value));
    }
    if body.contains('=') && !body.contains(' ') {
        let mut out = String::new();
        for (i, pair) in body.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((k, _)) if SECRET_KEYS.contains(&k) => {
                    out.push_str(k);
                    out.push_str("=<redacted>");
                }
                _ => out.push_str(pair),
            }
        }
        return out;
    }
    format!("<{} bytes>", body.len())
}

fn with_bearer(request: &HttpRequest, token: &Secret) -> HttpRequest {
    let mut request = request.clone();
    request
        .headers
        .push(("Authorization".into(), format!("Bearer {}", token.expose())));
    request
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn to_json<T: crate::spend_request::ToJson>(value: &T) -> Result<Value> {
    Ok(value.to_json())
}

fn not_authenticated() -> Error {
    Error::new(
        ErrorCode::NotAuthenticated,
        "Not authenticated. Run \"linkpay auth login\" first.",
    )
}

/// An error a poll outlives: no answer (`TRANSPORT_ERROR`) or a 5xx. The person may be
/// approving on their phone while the agent's network drops; the poll keeps its schedule.
fn transient(error: &Error) -> bool {
    error.code == ErrorCode::TransportError
        || error.code == ErrorCode::ApiError
            && error
                .details
                .as_deref()
                .and_then(|d| d.get("status"))
                .and_then(Value::as_u64)
                .is_some_and(|status| status >= 500)
}

/// The earliest next fetch after the `failures`-th transient error in a row: the poll's
/// interval, doubled for each further failure, at most [`MAX_POLL_BACKOFF_MS`] (or the
/// interval, if longer). The policy still caps it at the poll's deadline.
fn poll_backoff_ms(interval_s: f64, failures: u32) -> i64 {
    let interval_ms = (interval_s * 1000.0).ceil().max(0.0);
    let doubled = interval_ms
        * 2f64.powi(
            i32::try_from(failures.saturating_sub(1))
                .unwrap_or(30)
                .min(30),
        );
    doubled.min(MAX_POLL_BACKOFF_MS.max(interval_ms)) as i64
}

/// The longest pause between two fetches of a poll that keeps failing (unless the interval is
/// longer).
pub const MAX_POLL_BACKOFF_MS: f64 = 30_000.0;

/// A create that got no usable answer may still have made the spend request: the error says
/// so and carries the request's `Idempotency-Key`, which a retry must send again (the
/// server then answers with the first request instead of making a second).
fn create_may_exist(error: Error, request: &HttpRequest) -> Error {
    let Some(key) = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
        .map(|(_, value)| value.clone())
    else {
        return error;
    };
    let mut details = match error.details.as_deref() {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    details.insert("idempotency_key".into(), Value::String(key.clone()));
    details.insert("may_exist".into(), Value::Bool(true));
    Error {
        message: format!(
            "{} The spend request may have been created: retry with idempotency key {key} \
             (--idempotency-key, or idempotency_key in the input) to get it without creating a \
             second one.",
            error.message
        ),
        details: Some(Box::new(Value::Object(details))),
        ..error
    }
}

/// What `login_start` found or began.
#[derive(Clone, Debug, PartialEq)]
pub enum LoginStart {
    /// A stored session was refreshed: nothing to approve.
    AlreadyAuthenticated,
    /// A device authorization is pending: show `verification_url` and `phrase`.
    Pending(PendingDeviceAuth),
}

impl LoginStart {
    /// What the bindings return: `{authenticated: true, message}`, or the pending login's
    /// `{authenticated: false, verification_url, phrase, poll_interval_seconds, expires_at}`
    /// (sanitized: the server's text reaches a screen).
    pub fn to_json(&self) -> Value {
        match self {
            LoginStart::AlreadyAuthenticated => object!({
                "authenticated": true,
                "message": "You are already logged in. To switch accounts, run `linkpay auth logout` first.",
            }),
            LoginStart::Pending(p) => object!({
                "authenticated": false,
                "verification_url": crate::sanitize::for_display(&p.verification_url),
                "phrase": crate::sanitize::for_display(&p.phrase),
                "poll_interval_seconds": p.interval,
                "expires_at": p.expires_at,
            }),
        }
    }
}

impl<H: Host> Client<H> {
    pub fn new(host: H, config: Config) -> Self {
        Client {
            host,
            config,
            refresh_turn: Turn::default(),
            ledger: RefCell::default(),
        }
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn now_s(&self) -> i64 {
        self.host.now_ms().div_euclid(1000)
    }

    /// Logs a line with its secrets redacted by value (see [`crate::sanitize::redact_secrets`]),
    /// whatever key or text they hide in.
    fn log(&self, line: &str) {
        self.host.log(&crate::sanitize::redact_secrets(line));
    }

    /// The stripe challenge to pay, or `None` when what asked for payment (`asked`: "{url}
    /// answered 402", "MCP tool … asked for payment") offered no stripe challenge: logged, and
    /// its answer goes back as it is. Any other decoding error is the call's error.
    fn payable(
        &self,
        decoded: Result<mpp::stripe::StripeChallenge>,
        asked: impl FnOnce() -> String,
    ) -> Result<Option<mpp::stripe::StripeChallenge>> {
        match decoded {
            Ok(stripe) => Ok(Some(stripe)),
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::MppNoPaymentChallenge | ErrorCode::MppNoStripeChallenge
                ) =>
            {
                self.log(&format!(
                    "payment: {} without a stripe challenge ({}): not paid, returned as is",
                    asked(),
                    e.code
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends one request to the Link API: an answer longer than the host read
    /// (`max_body_bytes`) is `INVALID_RESPONSE`, never half a JSON document.
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        let response = self.exchange(request, true).await?;
        if response.body_truncated {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!(
                    "The answer to {} {} is over {} bytes: not read",
                    request.method, request.url, request.max_body_bytes
                ),
            ));
        }
        Ok(response)
    }

    /// Sends one request, logging it redacted; the body may be cut at `max_body_bytes`. `link`:
    /// to Link, not to a merchant ([`HttpRequest::link`]).
    async fn exchange(&self, request: &HttpRequest, link: bool) -> Result<HttpResponse> {
        let request = &HttpRequest {
            timeout_ms: self.config.request_timeout_ms,
            link,
            ..request.clone()
        };
        self.log(&format!("> {} {}", request.method, request.url));
        if let Some(body) = &request.body {
            self.log(&format!("> {}", loggable_body(body)));
        }
        let result = self.host.fetch(request).await;
        match &result {
            Ok(response) => {
                self.log(&format!("< {}", u32::from(response.status)));
                if !response.body.is_empty() {
                    self.log(&format!("< {}", loggable_body(&response.body)));
                }
            }
            Err(e) => self.log(&format!("< {}: {}", e.code, e.message)),
        }
        result
    }

    /// Sends, retrying transport errors and 5xx answers with backoff when `operation` is
    /// retry-safe.
    async fn send_with_retry(
        &self,
        operation: Operation,
        request: &HttpRequest,
        retry: bool,
    ) -> Result<HttpResponse> {
        let attempts = if retry && operation.is_retry_safe() {
            self.config.retry.attempts.max(1)
        } else {
            1
        };
        let mut delay = self.config.retry.base_delay_ms;
        let mut attempt = 1;
        loop {
            let result = self.send(request).await;
            let retry = match &result {
                Err(e) => e.code == ErrorCode::TransportError,
                Ok(response) => response.status >= 500,
            };
            if !retry || attempt >= attempts {
                return result;
            }
            self.log(&format!(
                "retrying in {delay} ms (attempt {} of {attempts})",
                attempt + 1
            ));
            self.host.sleep(delay).await;
            delay = delay.saturating_mul(2).min(8_000);
            attempt += 1;
        }
    }

    // ---------------------------------------------------------------- storage

    async fn load<T>(&self, key: &str, decode: impl Fn(&Value) -> Result<T>) -> Result<Option<T>> {
        let Some(text) = self.host.storage_get(key).await? else {
            return Ok(None);
        };
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Error::new(
                ErrorCode::StorageError,
                format!("Stored {key} is not JSON: {e}"),
            )
        })?;
        if value.is_null() {
            return Ok(None);
        }
        decode(&value).map(Some).map_err(|e| {
            Error::new(
                ErrorCode::StorageError,
                format!("Stored {key} is corrupt: {}", e.message),
            )
        })
    }

    async fn store(&self, key: &str, value: &Value) -> Result<()> {
        self.host.storage_set(key, &crate::json_text(value)).await
    }

    async fn load_tokens(&self) -> Result<Option<TokenSet>> {
        self.load(AUTH_KEY, TokenSet::decode).await
    }

    async fn store_tokens(&self, tokens: &TokenSet) -> Result<()> {
        self.store(AUTH_KEY, &to_json(tokens)?).await
    }

    async fn load_pending(&self) -> Result<Option<PendingDeviceAuth>> {
        self.load(PENDING_KEY, PendingDeviceAuth::decode).await
    }

    // ---------------------------------------------------------------- tokens

    async fn token_source(&self) -> Result<TokenSource> {
        if let Some(access_token) = &self.config.access_token {
            return Ok(TokenSource::Env {
                access_token: access_token.clone(),
                refresh_token: self.config.refresh_token.clone(),
            });
        }
        self.load_tokens()
            .await?
            .map(TokenSource::Stored)
            .ok_or_else(not_authenticated)
    }

    /// A refresh with the env refresh token (`persist: false`), or one not shared with anyone.
    async fn refresh(&self, refresh: &auth::Refresh) -> Result<TokenSet> {
        let response = self
            .send(&api::refresh(
                &self.config.endpoints,
                &refresh.refresh_token,
            ))
            .await?;
        let tokens = auth::handle_refresh_response(
            response.status,
            &response.body,
            self.host.now_ms(),
            &refresh.refresh_token,
        )?;
        if refresh.persist {
            self.store_tokens(&tokens).await?;
        }
        Ok(tokens)
    }

    /// The access token after a refresh that `source` asked for: a stored session is refreshed
    /// once for everyone sharing it ([`Self::refresh_stored`]); env tokens are not shared.
    async fn refreshed(&self, source: &TokenSource, refresh: &auth::Refresh) -> Result<Secret> {
        match source {
            TokenSource::Stored(used) if refresh.persist => {
                self.refresh_stored(used, &refresh.refresh_token).await
            }
            _ => Ok(self.refresh(refresh).await?.access_token),
        }
    }

    /// Refreshes the stored session `used` (whose refresh token is `refresh_token`) once for
    /// every caller that found it stale: the calls of this client take turns, and whoever
    /// comes second finds the rotated tokens in storage and uses them; other processes sharing
    /// the storage are kept out by the lease ([`auth::RefreshLease`]), and should one slip
    /// through, its refused refresh is answered from the tokens the winner stores.
    async fn refresh_stored(&self, used: &TokenSet, refresh_token: &Secret) -> Result<Secret> {
        let _turn = self.refresh_turn.take().await;
        let lease = match self.claim_lease(used).await? {
            Claim::Rotated(tokens) => return Ok(tokens.access_token),
            Claim::Held(lease) => Some(lease),
            Claim::Unclaimed => None,
        };
        let result = self.refresh_once(used, refresh_token).await;
        if let Some(lease) = lease {
            self.release_lease(&lease).await;
        }
        result
    }

    /// Stored tokens that replace `used`, if someone stored such since it was read.
    async fn rotated(&self, used: &TokenSet) -> Result<Option<TokenSet>> {
        Ok(self
            .load_tokens()
            .await?
            .filter(|tokens| tokens.is_rotation_of(used)))
    }

    async fn load_lease(&self) -> Option<auth::RefreshLease> {
        let text = self.host.storage_get(LEASE_KEY).await.ok()??;
        auth::RefreshLease::decode(&serde_json::from_str(&text).ok()?)
    }

    /// Waits while another claim holds (at most [`auth::LEASE_TTL_MS`]), watching for the
    /// tokens it stores; then claims the lease (see [`auth::RefreshLease`]).
    async fn claim_lease(&self, used: &TokenSet) -> Result<Claim> {
        let deadline = self.host.now_ms().saturating_add(auth::LEASE_TTL_MS);
        loop {
            if let Some(tokens) = self.rotated(used).await? {
                return Ok(Claim::Rotated(tokens));
            }
            let now = self.host.now_ms();
            if self.load_lease().await.is_some_and(|l| l.is_live(now)) {
                if now >= deadline {
                    return Ok(Claim::Unclaimed);
                }
                self.host.sleep(auth::LEASE_POLL_MS).await;
                continue;
            }
            let mine = auth::RefreshLease::new(hex(&self.host.random(8)), now);
            if self.store(LEASE_KEY, &mine.to_json()).await.is_err() {
                return Ok(Claim::Unclaimed);
            }
            self.host.sleep(auth::LEASE_SETTLE_MS).await;
            if self.load_lease().await.as_ref() == Some(&mine) {
                // Someone may have finished a refresh just before we claimed.
                if let Some(tokens) = self.rotated(used).await? {
                    self.release_lease(&mine).await;
                    return Ok(Claim::Rotated(tokens));
                }
                return Ok(Claim::Held(mine));
            }
        }
    }

    /// Deletes our claim (best effort: it expires anyway) unless another replaced it.
    async fn release_lease(&self, mine: &auth::RefreshLease) {
        if self.load_lease().await.as_ref() == Some(mine) {
            let _ = self.host.storage_delete(LEASE_KEY).await;
        }
    }

    /// The refresh request itself; the rotated tokens are stored. A refusal of the token
    /// (`invalid_grant`: another process used it first) waits up to [`auth::ROTATION_WAIT_MS`]
    /// for the tokens that process stores, and uses them.
    async fn refresh_once(&self, used: &TokenSet, refresh_token: &Secret) -> Result<Secret> {
        let response = self
            .send(&api::refresh(&self.config.endpoints, refresh_token))
            .await?;
        if auth::refresh_refused(response.status, &response.body) {
            let deadline = self.host.now_ms().saturating_add(auth::ROTATION_WAIT_MS);
            loop {
                if let Some(tokens) = self.rotated(used).await? {
                    self.host
                        .log("refresh token already used: using the tokens stored meanwhile");
                    return Ok(tokens.access_token);
                }
                if self.host.now_ms() >= deadline {
                    break;
                }
                self.host.sleep(auth::LEASE_POLL_MS).await;
            }
        }
        let tokens = auth::handle_refresh_response(
            response.status,
            &response.body,
            self.host.now_ms(),
            refresh_token,
        )?;
        self.store_tokens(&tokens).await?;
        Ok(tokens.access_token)
    }

    /// Sends an authenticated API request: refreshes first when the token is about to expire,
    /// and on a 401 refreshes once and retries once.
    ///
    /// Without `retry`, a transport error or 5xx is returned at once: a poll retries on its own
    /// schedule, one request per interval.
    async fn authed(
        &self,
        operation: Operation,
        request: &HttpRequest,
        retry: bool,
    ) -> Result<HttpResponse> {
        let source = self.token_source().await?;
        let token = match source.before_request(self.host.now_ms(), self.config.no_refresh)? {
            TokenStep::Use(token) => token,
            TokenStep::Refresh(refresh) => self.refreshed(&source, &refresh).await?,
        };
        let response = self
            .send_with_retry(operation, &with_bearer(request, &token), retry)
            .await?;
        if response.status != 401 {
            return Ok(response);
        }
        match source.on_unauthorized(false, self.config.no_refresh)? {
            Some(refresh) => {
                let token = self.refreshed(&source, &refresh).await?;
                self.send_with_retry(operation, &with_bearer(request, &token), retry)
                    .await
            }
            None => Ok(response),
        }
    }

    // ---------------------------------------------------------------- auth

    /// Starts a device login: a usable stored session is refreshed and kept (nothing to
    /// approve); otherwise the old session is revoked (best effort), forgotten, and a new
    /// device authorization is requested and stored as pending.
    pub async fn login_start(&self, options: &Value) -> Result<LoginStart> {
        self.login_start_with(&validate::options::validate_login(options)?)
            .await
    }

    /// [`Self::login_start`] with options that passed `validate_login`.
    pub async fn login_start_with(
        &self,
        options: &validate::options::LoginOptions,
    ) -> Result<LoginStart> {
        if let Some(tokens) = self.load_tokens().await?
            && let Some(refresh_token) = tokens.refresh_token.clone()
        {
            if self.refresh_stored(&tokens, &refresh_token).await.is_ok() {
                return Ok(LoginStart::AlreadyAuthenticated);
            }
            self.revoke_best_effort(&refresh_token).await;
        }
        self.host.storage_delete(AUTH_KEY).await?;
        self.host.storage_delete(PENDING_KEY).await?;
        let request = DeviceCodeRequest {
            client_name: options.client_name.clone(),
            hostname: self.config.hostname.clone(),
            scope: options.scope.clone(),
            source_actions: options
                .source_actions
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            authorization_details: options.authorization_details.clone(),
        };
        Ok(LoginStart::Pending(
            self.device_login(&request, false).await?,
        ))
    }

    /// `POST /device/code`, and the pending authorization stored so that any process can
    /// finish it; `replaces_existing_session` for an upgrade.
    async fn device_login(
        &self,
        request: &DeviceCodeRequest,
        replaces_existing_session: bool,
    ) -> Result<PendingDeviceAuth> {
        let response = self
            .send(&api::device_code(&self.config.endpoints, request))
            .await?;
        let pending = auth::handle_device_code_response(
            response.status,
            &response.body,
            self.host.now_ms(),
            replaces_existing_session,
        )?;
        self.store(PENDING_KEY, &to_json(&pending)?).await?;
        Ok(pending)
    }

    /// `auth upgrade`: a device login for the requested access merged with the current
    /// session's (a superset), which stays usable, and is revoked only once the new one is
    /// approved (the pending record `replaces_existing_session`). The current session is
    /// refreshed first, to read what it has; without one, or when that fails (it is then
    /// forgotten), the warning says the new session has only the requested access.
    pub async fn login_upgrade(
        &self,
        options: &validate::options::LoginOptions,
    ) -> Result<(PendingDeviceAuth, Option<&'static str>)> {
        let mut warning = None;
        let mut existing: Option<TokenSet> = None;
        match self.load_tokens().await? {
            None => warning = Some(auth::UPGRADE_NO_SESSION),
            Some(tokens) => match tokens.refresh_token.clone() {
                Some(refresh_token) => {
                    if self.refresh_stored(&tokens, &refresh_token).await.is_ok() {
                        existing = self.load_tokens().await?;
                    } else {
                        warning = Some(auth::UPGRADE_REFRESH_FAILED);
                        self.host.storage_delete(AUTH_KEY).await?;
                    }
                }
                None => existing = Some(tokens),
            },
        }
        let source_actions: Vec<String> = options
            .source_actions
            .iter()
            .map(|a| a.as_str().to_string())
            .collect();
        let mut requested: Vec<Value> = auth::source_detail(&source_actions).into_iter().collect();
        requested.extend(options.authorization_details.iter().cloned());
        let (scope, details) = auth::merged_access(
            options.scope.as_deref(),
            &requested,
            existing.as_ref().and_then(|t| t.scope.as_deref()),
            existing
                .as_ref()
                .and_then(|t| t.authorization_details.as_deref())
                .unwrap_or(&[]),
        );
        let request = DeviceCodeRequest {
            client_name: options.client_name.clone(),
            hostname: self.config.hostname.clone(),
            scope: Some(scope),
            source_actions: Vec::new(),
            authorization_details: details,
        };
        Ok((self.device_login(&request, true).await?, warning))
    }

    async fn revoke_best_effort(&self, refresh_token: &Secret) {
        if let Ok(response) = self
            .send(&api::revoke(&self.config.endpoints, refresh_token))
            .await
        {
            let _ = auth::handle_revoke_response(response.status, &response.body);
        }
    }

    /// The session as it stands, polling a pending device authorization once (storing the
    /// tokens when it was approved). Denial and expiry clear the pending record and fail.
    ///
    /// A pending authorization polled less than its interval ago is not polled again (the
    /// server would answer `slow_down` and lengthen every later wait): the stored pending
    /// status is returned as it is, with the same keys and its `next_poll_at_ms`.
    pub async fn auth_status(&self) -> Result<Value> {
        Ok(self.with_location(self.session_status(None).await?))
    }

    /// `status` with `credentials_path`: where the session is stored.
    fn with_location(&self, mut status: Value) -> Value {
        if let Some(map) = status.as_object_mut() {
            let location = self.config.storage_location.clone();
            map.insert(
                "credentials_path".into(),
                location.map_or(Value::Null, Value::String),
            );
        }
        status
    }

    /// [`Self::auth_status`] without `credentials_path`; with `wait_gap_ms`, a pending
    /// authorization polled too recently is polled once it may be (the server's interval, or
    /// `wait_gap_ms` if longer, after the last poll) instead of being answered from storage.
    async fn session_status(&self, wait_gap_ms: Option<i64>) -> Result<Value> {
        if let Some(token) = &self.config.access_token {
            return Ok(object!({
                "authenticated": true,
                "access_token": token.preview(),
                "token_type": "Bearer",
            }));
        }
        let tokens = self.load_tokens().await?;
        let pending = self.load_pending().await?;
        if let Some(pending) =
            pending.filter(|p| tokens.is_none() || p.replaces_existing_session == Some(true))
        {
            let now = self.host.now_ms();
            let due = pending.next_poll_at_ms(now, wait_gap_ms.unwrap_or(0));
            if due > now {
                if wait_gap_ms.is_none() {
                    return Ok(pending_status(&pending, due));
                }
                self.sleep_until(due).await;
            }
            return self.poll_device(pending).await;
        }
        Ok(match tokens {
            Some(tokens) => Self::authenticated(&tokens),
            None => object!({ "authenticated": false }),
        })
    }

    fn authenticated(tokens: &TokenSet) -> Value {
        let mut out = object!({
            "authenticated": true,
            "access_token": tokens.access_token.preview(),
            "token_type": tokens.token_type.clone().unwrap_or_else(|| "Bearer".into()),
        });
        if let Some(map) = out.as_object_mut() {
            if let Some(scope) = &tokens.scope {
                map.insert(
                    "scope".into(),
                    Value::String(crate::sanitize::for_display(scope)),
                );
            }
            if let Some(details) = &tokens.authorization_details {
                map.insert(
                    "authorization_details".into(),
                    crate::sanitize::sanitize_json(&Value::Array(details.clone())),
                );
            }
        }
        out
    }

    async fn poll_device(&self, pending: PendingDeviceAuth) -> Result<Value> {
        let response = self
            .send(&api::device_token(
                &self.config.endpoints,
                &pending.device_code,
            ))
            .await?;
        match pending.handle_token_response(response.status, &response.body, self.host.now_ms()) {
            Ok(LoginState::Authenticated { tokens }) => {
                let old = self.load_tokens().await.ok().flatten();
                self.store_tokens(&tokens).await?;
                self.host.storage_delete(PENDING_KEY).await?;
                if pending.replaces_existing_session == Some(true)
                    && let Some(old_refresh) = old.and_then(|t| t.refresh_token)
                {
                    self.revoke_best_effort(&old_refresh).await;
                }
                Ok(Self::authenticated(&tokens))
            }
            Ok(LoginState::Pending {
                pending,
                next_poll_at_ms,
            }) => {
                self.store(PENDING_KEY, &to_json(&pending)?).await?;
                Ok(pending_status(&pending, next_poll_at_ms))
            }
            Err(e) => {
                if matches!(
                    e.code,
                    ErrorCode::AuthorizationDenied
                        | ErrorCode::DeviceCodeExpired
                        | ErrorCode::AuthorizationDeclined
                ) {
                    self.host.storage_delete(PENDING_KEY).await?;
                }
                Err(e)
            }
        }
    }

    /// Polls the pending device authorization until it is approved, honouring the server's
    /// interval and `slow_down`; `on_progress` sees each changed status. `POLLING_TIMEOUT` when
    /// `policy` runs out.
    ///
    /// Every poll, the first included, comes at least the server's interval (and the policy's,
    /// if longer) after the previous one, whoever sent that (an `auth_status` just before,
    /// another process): the time of the last poll is stored with the pending record. The
    /// policy's deadline does not shorten that wait (the server would answer `slow_down`): the
    /// last poll may come up to one server interval after it.
    pub async fn login_wait(
        &self,
        policy: &Policy,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        let mut state = poll::State::new(self.host.now_ms());
        state.subject = Some("device authorization".into());
        let mut last: Option<Value> = None;
        // The policy's interval in whole ms (a non-positive one is single-shot: no gap).
        let gap_ms = (policy.interval * 1000.0).ceil().max(0.0) as i64;
        let mut failures = 0;
        let polling = policy.interval > 0.0;
        loop {
            let status = match self.session_status(Some(gap_ms)).await {
                Ok(status) => {
                    failures = 0;
                    self.with_location(status)
                }
                Err(e) if polling && transient(&e) => {
                    failures += 1;
                    state = self
                        .after_transient_error(policy, state, failures, e)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let done = status.get("authenticated") == Some(&Value::Bool(true));
            if !done && status.get("pending") != Some(&Value::Bool(true)) {
                return Err(Error::new(
                    ErrorCode::NotAuthenticated,
                    "No login in progress. Run \"linkpay auth login\" first.",
                ));
            }
            state.status = Some(if done { "authenticated" } else { "pending" }.into());
            state.not_before_ms = status.get("next_poll_at_ms").and_then(Value::as_i64);
            match policy.decide(&state, self.host.now_ms(), done)? {
                Decision::Stop { .. } => return Ok(status),
                Decision::Wait {
                    until_ms,
                    state: next,
                } => {
                    let mut shown = status.clone();
                    if let Some(map) = shown.as_object_mut() {
                        map.remove("next_poll_at_ms");
                    }
                    if last.as_ref() != Some(&shown) {
                        on_progress(&shown);
                        last = Some(shown);
                    }
                    state = next;
                    self.sleep_until(until_ms).await;
                }
            }
        }
    }

    /// After the `failures`-th transient error in a row of a poll: waits (backing off) and
    /// hands back the state for the next fetch, or ends the poll with that error when the
    /// policy's attempts or time ran out.
    async fn after_transient_error(
        &self,
        policy: &Policy,
        mut state: poll::State,
        failures: u32,
        error: Error,
    ) -> Result<poll::State> {
        let now = self.host.now_ms();
        let backoff = poll_backoff_ms(policy.interval, failures);
        state.not_before_ms = Some(now.saturating_add(backoff));
        match policy.decide(&state, now, false) {
            Ok(Decision::Wait { until_ms, state }) => {
                self.log(&format!(
                    "{}: {}; polling again in {} ms",
                    error.code,
                    error.message,
                    until_ms.saturating_sub(now)
                ));
                self.sleep_until(until_ms).await;
                Ok(state)
            }
            // Out of attempts or time: the error says why the last fetches failed.
            Ok(Decision::Stop { .. }) | Err(_) => Err(error),
        }
    }

    /// Sleeps until `until_ms`, in steps a host timer can keep: JS `setTimeout` fires at once
    /// for more than 2^31 - 1 ms, which once turned a long interval into a request loop.
    async fn sleep_until(&self, until_ms: i64) {
        const MAX_STEP_MS: u64 = (1 << 31) - 1;
        let wait = until_ms.saturating_sub(self.host.now_ms());
        let mut remaining = u64::try_from(wait).unwrap_or(0);
        while remaining > 0 {
            let step = remaining.min(MAX_STEP_MS);
            self.host.sleep(step).await;
            remaining -= step;
        }
    }

    /// Revokes the session (best effort) and forgets it and any pending login.
    pub async fn logout(&self) -> Result<Value> {
        if let Ok(Some(tokens)) = self.load_tokens().await
            && let Some(refresh_token) = &tokens.refresh_token
        {
            self.revoke_best_effort(refresh_token).await;
        }
        self.host.storage_delete(AUTH_KEY).await?;
        self.host.storage_delete(PENDING_KEY).await?;
        Ok(object!({ "authenticated": false }))
    }

    // ---------------------------------------------------------------- API

    /// One authenticated Link API call (see [`ApiCall`]): request built (and input validated)
    /// first, then sent with [`Self::authed`], then the answer read. The operations share
    /// this one future, which keeps the wasm artifacts from carrying a near-copy per operation.
    pub async fn call(&self, call: &ApiCall) -> Result<Value> {
        self.call_with(call, true).await
    }

    /// [`Self::call`]; `retry: false` for a poll's fetches (see [`Self::authed`]).
    async fn call_with(&self, call: &ApiCall, retry: bool) -> Result<Value> {
        let (operation, http) = self.prepare(call)?;
        let response = match self.authed(operation, &http, retry).await {
            Ok(response) => response,
            Err(e) if operation == Operation::CreateSpendRequest && transient(&e) => {
                return Err(create_may_exist(e, &http));
            }
            Err(e) => return Err(e),
        };
        match call {
            ApiCall::ListPaymentMethods => api::read_payment_methods(&response),
            ApiCall::RequestApproval(_) => api::read_request_approval(&response),
            ApiCall::ListSpendRequests(_) => api::read_spend_request_list(&response),
            ApiCall::ListShippingAddresses => api::read_shipping_addresses(&response),
            ApiCall::RetrieveUserInfo => api::read_user_info(&response),
            ApiCall::Report(_) => api::read_report(&response),
            ApiCall::ListTransactions(_) => api::read_transactions(&response),
            ApiCall::ListSources(_) => api::read_sources(&response),
            ApiCall::ListBalances(_) => api::read_balances(&response),
            ApiCall::RetrieveSpendRequest(id, _) => api::read_spend_request(operation, &response)
                .map_err(|e| {
                    if e.code == ErrorCode::NotFound {
                        Error {
                            message: format!("Spend request {id} not found"),
                            ..e
                        }
                    } else {
                        e
                    }
                }),
            _ => api::read_spend_request(operation, &response),
        }
    }

    fn prepare(&self, call: &ApiCall) -> Result<(Operation, HttpRequest)> {
        let endpoints = &self.config.endpoints;
        Ok(match call {
            ApiCall::ListPaymentMethods => (
                Operation::ListPaymentMethods,
                api::list_payment_methods(endpoints),
            ),
            ApiCall::ListShippingAddresses => (
                Operation::ListShippingAddresses,
                api::list_shipping_addresses(endpoints),
            ),
            ApiCall::RetrieveUserInfo => (
                Operation::RetrieveUserInfo,
                api::retrieve_user_info(endpoints),
            ),
            ApiCall::Report(report) => (Operation::Report, api::report(endpoints, report)),
            ApiCall::ListTransactions(query) => (
                Operation::ListTransactions,
                api::list_transactions(endpoints, query),
            ),
            ApiCall::ListSources(query) => {
                (Operation::ListSources, api::list_sources(endpoints, query))
            }
            ApiCall::ListBalances(query) => (
                Operation::ListBalances,
                api::list_balances(endpoints, query),
            ),
            ApiCall::CreateSpendRequest(request) => {
                let key = request
                    .idempotency_key
                    .clone()
                    .unwrap_or_else(|| format!("linkpay_{}", hex(&self.host.random(16))));
                (
                    Operation::CreateSpendRequest,
                    api::create_spend_request(endpoints, request, &key),
                )
            }
            ApiCall::UpdateSpendRequest(id, update) => (
                Operation::UpdateSpendRequest,
                api::update_spend_request(endpoints, id, update)?,
            ),
            ApiCall::RetrieveSpendRequest(id, include) => (
                Operation::RetrieveSpendRequest,
                api::retrieve_spend_request(endpoints, id, include)?,
            ),
            ApiCall::RequestApproval(id) => (
                Operation::RequestApproval,
                api::request_approval(endpoints, id)?,
            ),
            ApiCall::CancelSpendRequest(id) => (
                Operation::CancelSpendRequest,
                api::cancel_spend_request(endpoints, id)?,
            ),
            ApiCall::ListSpendRequests(include_history) => (
                Operation::ListSpendRequests,
                api::list_spend_requests(endpoints, *include_history),
            ),
        })
    }

    /// `GET /payment-details`: the wallet's payment methods.
    pub async fn list_payment_methods(&self) -> Result<Value> {
        self.call(&ApiCall::ListPaymentMethods).await
    }

    /// Validates (every rule, before any request), then creates a spend request with a fresh
    /// `Idempotency-Key`, so the retries of this call can never create a second one.
    pub async fn create_spend_request(&self, input: &Value) -> Result<Value> {
        let request = validate::spend_request::validate_create(input, self.now_s())?;
        self.call(&ApiCall::CreateSpendRequest(Box::new(request)))
            .await
    }

    /// Updates a spend request (only the given fields are sent).
    pub async fn update_spend_request(&self, id: &str, input: &Value) -> Result<Value> {
        let update = validate::spend_request::validate_update(input)?;
        self.call(&ApiCall::UpdateSpendRequest(id.into(), update))
            .await
    }

    /// Fetches a spend request once; `include` asks for the card or the SPT.
    pub async fn retrieve_spend_request(&self, id: &str, include: &[Include]) -> Result<Value> {
        self.call(&ApiCall::RetrieveSpendRequest(id.into(), include.to_vec()))
            .await
    }

    /// Asks the person to approve (push notification); returns `{id, approval_link}`.
    pub async fn request_approval(&self, id: &str) -> Result<Value> {
        self.call(&ApiCall::RequestApproval(id.into())).await
    }

    /// Cancels a spend request (created, pending approval or approved).
    pub async fn cancel_spend_request(&self, id: &str) -> Result<Value> {
        self.call(&ApiCall::CancelSpendRequest(id.into())).await
    }

    /// Active spend requests, or all with `include_history`.
    pub async fn list_spend_requests(&self, include_history: bool) -> Result<Value> {
        self.call(&ApiCall::ListSpendRequests(include_history))
            .await
    }

    /// Retrieves, then keeps polling per `options` (`interval`, `max_attempts`, `timeout`,
    /// `include`) until the request is terminal for polling (through `auto_resume`
    /// `requires_action`). `on_progress` sees every changed intermediate snapshot.
    /// `POLLING_TIMEOUT` when the limits run out.
    pub async fn wait_for_spend_request(
        &self,
        id: &str,
        options: &Value,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        let options = validate::options::validate_retrieve(options)?;
        self.wait_for(id, &options, on_progress).await
    }

    /// [`Self::wait_for_spend_request`] with options that passed `validate_retrieve`.
    pub async fn wait_for(
        &self,
        id: &str,
        options: &validate::options::RetrieveOptions,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        let policy = Policy {
            interval: options.interval.0,
            max_attempts: u32::try_from(options.max_attempts).unwrap_or(u32::MAX),
            timeout: options.timeout.0,
        };
        let id = api::validate_id(id)?.to_string();
        let mut state = poll::State::new(self.host.now_ms());
        state.subject = Some(format!("spend request {id}"));
        let mut last: Option<Value> = None;
        let mut failures = 0;
        // A single fetch keeps the client's own retries; a poll retries on its schedule.
        let polling = policy.interval > 0.0;
        loop {
            let fetched = self
                .call_with(
                    &ApiCall::RetrieveSpendRequest(id.clone(), options.include.clone()),
                    !polling,
                )
                .await;
            let value = match fetched {
                Ok(value) => {
                    failures = 0;
                    state.not_before_ms = None;
                    value
                }
                Err(e) if polling && transient(&e) => {
                    failures += 1;
                    state = self
                        .after_transient_error(&policy, state, failures, e)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let step = crate::spend_request::next_action(&value).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidResponse,
                    format!("Unexpected spend request: {}", e.message),
                )
            })?;
            // As the server spelled it: a status this client does not know is named as such.
            state.status = value
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_string);
            match policy.decide(&state, self.host.now_ms(), step.terminal)? {
                Decision::Stop { .. } => return Ok(value),
                Decision::Wait {
                    until_ms,
                    state: next,
                } => {
                    if last.as_ref() != Some(&value) {
                        on_progress(&value);
                        last = Some(value);
                    }
                    state = next;
                    self.sleep_until(until_ms).await;
                }
            }
        }
    }

    // ---------------------------------------------------------------- MPP

    /// `mpp pay`: probe the URL; on a 402, decode the stripe challenge, get an SPT (from
    /// `spend_request_id`, or by creating an SPT spend request for the challenge's amount and
    /// network and waiting for the person's approval), retry with the credential, and return
    /// `{status, headers, body, receipt?, receipt_error?, spend_request_id?}` (sanitized). With
    /// `wait: false` it returns after creating the spend request: the probe's answer plus
    /// `spend_request`.
    pub async fn mpp_pay(
        &self,
        input: &Value,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        self.pay(&validate::mpp::validate_pay(input)?, on_progress)
            .await
    }

    /// [`Self::mpp_pay`] with a request that passed `validate_pay`.
    pub async fn pay(
        &self,
        pay: &validate::mpp::PayRequest,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        // As the reference: no session is refused, and a given spend request must be an approved
        // SPT one, before the merchant hears from us.
        self.token_source().await?;
        let existing = match &pay.spend_request_id {
            Some(id) => {
                let sr = self
                    .call(&ApiCall::RetrieveSpendRequest(
                        id.clone(),
                        vec![Include::SharedPaymentToken],
                    ))
                    .await?;
                approved_spt(&sr)?;
                Some(sr)
            }
            None => None,
        };
        let probe_request = pay.merchant_request(None);
        let probe = self.exchange(&probe_request, false).await?;
        if probe.status != 402 {
            return Ok(pay_result(&probe, None, pay.max_body_bytes));
        }
        let values = probe.header_values("www-authenticate");
        if values.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                "URL returned 402 but no WWW-Authenticate header",
            ));
        }
        let stripe = mpp::stripe::decode(&values, self.host.now_ms(), Some(&pay.url))?;
        let spend_request = match existing {
            Some(sr) => sr,
            None => {
                let created = self.spt_spend_request(pay, &stripe, on_progress).await?;
                if !pay.wait {
                    // Not waiting: the probe's 402 and the spend request to approve.
                    let mut out = pay_result(&probe, None, pay.max_body_bytes);
                    if let Some(map) = out.as_object_mut() {
                        map.insert("spend_request".into(), created);
                    }
                    return Ok(out);
                }
                created
            }
        };
        let spt = approved_spt(&spend_request)?;
        let payload = mpp::stripe::StripePayload::new(
            &stripe.challenge.intent,
            &spt,
            stripe.external_id.as_deref(),
        )?;
        let credential = mpp::credential::build_credential(
            &stripe.challenge,
            &payload.to_json(),
            None,
            self.host.now_ms(),
        )?;
        let paid_request = pay.merchant_request(Some((credential.header, credential.value)));
        let paid = self.exchange(&paid_request, false).await?;
        let mut result = pay_result(
            &paid,
            spend_request.get("id").and_then(Value::as_str),
            pay.max_body_bytes,
        );
        if paid.is_success()
            && let (Some(receipt), Some(map)) =
                (paid.header_value("payment-receipt"), result.as_object_mut())
        {
            match mpp::receipt::parse(receipt) {
                Ok(r) => {
                    map.insert("receipt".into(), crate::sanitize::sanitize_json(&r));
                }
                Err(e) => {
                    map.insert("receipt_error".into(), Value::String(e.message));
                }
            }
        }
        Ok(result)
    }

    async fn spt_spend_request(
        &self,
        pay: &validate::mpp::PayRequest,
        stripe: &mpp::stripe::StripeChallenge,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        let Some(context) = &pay.context else {
            return Err(context_required());
        };
        let ask = SptAsk {
            context,
            payment_method_id: pay.payment_method_id.as_deref(),
            amount: pay.amount.unwrap_or(stripe.amount),
            currency: &stripe.currency,
            network_id: &stripe.network_id,
            test: pay.test,
            wait: pay.wait,
            interval: pay.interval,
            timeout: pay.timeout,
        };
        self.spt_spend_request_for(&ask, on_progress).await
    }

    /// Creates the SPT spend request `pay` describes and, unless told not to wait, waits for
    /// the person (with the token once approved).
    async fn spt_spend_request_for(
        &self,
        pay: &SptAsk<'_>,
        on_progress: &mut dyn FnMut(&Value),
    ) -> Result<Value> {
        let payment_method_id = match pay.payment_method_id {
            Some(id) => id.to_string(),
            None => {
                let methods = self.call(&ApiCall::ListPaymentMethods).await?;
                methods
                    .as_array()
                    .and_then(|m| m.first())
                    .and_then(|m| m.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::NoPaymentMethod,
                            "No payment method available in your Link wallet",
                        )
                    })?
            }
        };
        let mut input = object!({
            "payment_method_id": payment_method_id,
            "credential_type": "shared_payment_token",
            "network_id": pay.network_id,
            "amount": pay.amount,
            "currency": pay.currency,
            "context": pay.context,
            "request_approval": true,
        });
        if pay.test
            && let Some(map) = input.as_object_mut()
        {
            crate::json::insert(map, "test", Value::Bool(true));
        }
        let created = self.create_spend_request(&input).await?;
        on_progress(&created);
        if !pay.wait {
            return Ok(created);
        }
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidResponse,
                    "Created spend request has no id",
                )
            })?
            .to_string();
        let waited = self
            .wait_for_spend_request(
                &id,
                &object!({
                    "interval": pay.interval,
                    "timeout": pay.timeout,
                    "include": vec![Value::from("shared_payment_token")],
                }),
                on_progress,
            )
            .await?;
        // The token can trail the approval by a moment: look again a few times.
        let mut current = waited;
        for _ in 0..3 {
            if current.get("status").and_then(Value::as_str) != Some(Status::Approved.as_str())
                || spt_id(&current).is_some()
            {
                break;
            }
            self.host.sleep(1000).await;
            current = self
                .call(&ApiCall::RetrieveSpendRequest(
                    id.clone(),
                    vec![Include::SharedPaymentToken],
                ))
                .await?;
        }
        Ok(current)
    }

    // ------------------------------------------------------------ payments agent code starts

    /// A payment agent code asked for by sending a request (`link.fetch`, WIT `client.fetch`):
    /// given the request's URL and the merchant's answer, whether to pay and with what.
    /// `Ok(None)`: not a 402, or a 402 without a stripe challenge; the answer goes back
    /// untouched. Otherwise the guardrails are checked ([`mpp::guard`]: a refusal is
    /// `PAYMENT_GUARDRAIL` and creates no spend request), the person approves an SPT spend
    /// request (`on_approval` sees `{approval_url, spend_request_id, amount, currency}` once),
    /// and the credential for the one retry comes back. Its challenge is never paid again, and
    /// its token is handed out once.
    pub async fn payment_for(
        &self,
        url: &str,
        response: &HttpResponse,
        options: &validate::mpp::FetchOptions,
        ask_context: &mut AskContext<'_>,
        on_approval: &mut dyn FnMut(&Value),
    ) -> Result<Option<mpp::CredentialHeaderValue>> {
        if response.status != 402 {
            return Ok(None);
        }
        let values = response.header_values("www-authenticate");
        let decoded = mpp::stripe::decode(&values, self.host.now_ms(), Some(url));
        let Some(stripe) = self.payable(decoded, || format!("{url} answered 402"))? else {
            return Ok(None);
        };
        let challenge = &stripe.challenge;
        let ask = mpp::guard::Ask::of(&stripe, true);
        let spt = self
            .guarded_spt(
                &ask,
                &stripe.network_id,
                &stripe.to_json(),
                options,
                options.payment_method_id.as_deref(),
                ask_context,
                on_approval,
            )
            .await?;
        let payload = stripe.payload(&spt)?.to_json();
        mpp::credential::build_credential(challenge, &payload, None, self.host.now_ms()).map(Some)
    }

    /// WIT `client.fetch`: sends `request`; a 402 that [`Self::payment_for`] pays is sent once
    /// more with the credential, and the merchant's answer to that comes back (any other answer
    /// as it came). The context must be in `options`.
    pub async fn fetch(
        &self,
        request: &HttpRequest,
        options: &validate::mpp::FetchOptions,
    ) -> Result<HttpResponse> {
        let probe = self.exchange(request, false).await?;
        let credential = self
            .payment_for(
                &request.url,
                &probe,
                options,
                &mut |_| Box::pin(async { Ok(None) }),
                &mut |_| {},
            )
            .await?;
        let Some(credential) = credential else {
            return Ok(probe);
        };
        let mut paid = request.clone();
        paid.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(credential.header));
        paid.headers
            .push((credential.header.to_string(), credential.value));
        self.exchange(&paid, false).await
    }

    /// The mppx payment method (`stripe.charge({createToken})`): `params` is what mppx hands
    /// `createToken` (`{challenge, amount, currency, networkId, paymentMethod?}`; mppx builds
    /// the credential itself); the shared payment token, approved by the person under the
    /// guardrails. mppx does not say which URL asked, so the realm is checked only against
    /// `allow_realms`, when given. `paymentMethod` is the Link payment method to pay with,
    /// unless the options name one.
    pub async fn shared_payment_token(
        &self,
        params: &Value,
        options: &validate::mpp::FetchOptions,
        ask_context: &mut AskContext<'_>,
        on_approval: &mut dyn FnMut(&Value),
    ) -> Result<String> {
        fn text(v: Option<&Value>) -> Option<&str> {
            v.and_then(Value::as_str).filter(|s| !s.is_empty())
        }
        let challenge = params.get("challenge");
        let member = |key: &str| text(challenge.and_then(|c| c.get(key)));
        let amount = params
            .get("amount")
            .and_then(validate::coerce_int)
            .and_then(|n| u64::try_from(n).ok());
        let (Some(id), Some(realm), Some(amount), Some(currency), Some(network_id)) = (
            member("id"),
            member("realm"),
            amount,
            text(params.get("currency")),
            text(params.get("networkId")),
        ) else {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "createToken needs mppx's stripe charge parameters: challenge.id, challenge.realm, amount, currency and networkId",
            ));
        };
        let now = self.host.now_ms();
        let currency = currency.to_ascii_lowercase();
        let ask = mpp::guard::Ask {
            challenge_id: id,
            realm,
            amount,
            currency: &currency,
            // An `expires` that does not parse is not trusted to lie in the future.
            expired: member("expires")
                .is_some_and(|at| mpp::timestamp::parse_rfc3339_ms(at).is_none_or(|at| at <= now)),
            realm_matches: None,
        };
        let payment_method_id = options
            .payment_method_id
            .as_deref()
            .or(text(params.get("paymentMethod")));
        let shown = challenge.cloned().unwrap_or(Value::Null);
        self.guarded_spt(
            &ask,
            network_id,
            &crate::sanitize::sanitize_json(&shown),
            options,
            payment_method_id,
            ask_context,
            on_approval,
        )
        .await
    }

    /// A paid MCP tool call ([`mpp::mcp`], mppx's convention): `response` is the server's
    /// JSON-RPC answer to `tools/call` (`{error}` or `{result}`), `call` the call's params
    /// (`{name, arguments?}`). `Ok(None)`: it asks for no payment, or only for methods other
    /// than stripe; the answer goes to the caller untouched. Otherwise the stripe challenge is
    /// paid as [`Self::payment_for`] pays a 402 (the same guardrails, the same ledger, one
    /// approval), and the credential object for `params._meta["org.paymentauth/credential"]`
    /// comes back.
    ///
    /// The realm is checked against `server_url`'s host when the server has a URL (an HTTP
    /// transport). A stdio server has no host: then, as for the mppx method, the realm must be
    /// one of `allow_realms` when they are given. Without a context in the options or from
    /// `ask_context`, the person reads one naming the tool, the realm and the challenge's
    /// description.
    #[allow(clippy::too_many_arguments)]
    pub async fn mcp_payment(
        &self,
        response: &Value,
        call: &Value,
        server_url: Option<&str>,
        options: &validate::mpp::FetchOptions,
        ask_context: &mut AskContext<'_>,
        on_approval: &mut dyn FnMut(&Value),
    ) -> Result<Option<Value>> {
        let Some(data) = mpp::mcp::payment_required(response) else {
            return Ok(None);
        };
        let tool = call
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        let shown_tool = crate::sanitize::for_display(tool);
        let results = mpp::mcp::challenges(data);
        let selected = mpp::stripe::select(results, self.host.now_ms(), server_url);
        let Some(stripe) = self.payable(selected, || {
            format!("MCP tool {shown_tool} asked for payment")
        })?
        else {
            return Ok(None);
        };
        let challenge = &stripe.challenge;
        let ask = mpp::guard::Ask::of(&stripe, server_url.is_some());
        let fallback = mcp_context(
            &shown_tool,
            challenge.id(),
            challenge.realm(),
            challenge.description(),
            stripe.amount,
            &stripe.currency,
        );
        let mut ask_or_fallback = |c: &Value| {
            let asked = ask_context(c);
            let fallback = fallback.clone();
            Box::pin(async move { Ok(asked.await?.or(Some(fallback))) })
                as Pin<Box<dyn Future<Output = Result<Option<String>>>>>
        };
        let spt = self
            .guarded_spt(
                &ask,
                &stripe.network_id,
                &stripe.to_json(),
                options,
                options.payment_method_id.as_deref(),
                &mut ask_or_fallback,
                on_approval,
            )
            .await?;
        let payload = stripe.payload(&spt)?.to_json();
        mpp::mcp::credential_object(challenge, &payload).map(Some)
    }

    /// The guardrails, then an SPT spend request the person approves: its token. Every
    /// decision is logged.
    #[allow(clippy::too_many_arguments)]
    async fn guarded_spt(
        &self,
        ask: &mpp::guard::Ask<'_>,
        network_id: &str,
        challenge: &Value,
        options: &validate::mpp::FetchOptions,
        payment_method_id: Option<&str>,
        ask_context: &mut AskContext<'_>,
        on_approval: &mut dyn FnMut(&Value),
    ) -> Result<String> {
        let what = format!(
            "payment: challenge {} ({} {} for {})",
            crate::sanitize::for_display(ask.challenge_id),
            ask.amount,
            crate::sanitize::for_display(ask.currency),
            crate::sanitize::for_display(ask.realm),
        );
        let reserved = self.ledger.borrow_mut().reserve(ask, &options.limits);
        if let Err(e) = reserved {
            self.log(&format!("{what}: refused, {}", e.message));
            return Err(e);
        }
        self.log(&format!("{what}: within the guardrails, asking the person"));
        let mut hold = Hold {
            ledger: &self.ledger,
            challenge_id: ask.challenge_id.to_string(),
            spent: false,
        };
        let result = async {
            let context = match &options.context {
                Some(context) => Some(context.clone()),
                None => ask_context(challenge).await?,
            };
            let context = context.ok_or_else(context_required)?;
            let spec = SptAsk {
                context: &context,
                payment_method_id,
                amount: ask.amount,
                currency: ask.currency,
                network_id,
                test: options.test,
                wait: true,
                interval: options.interval,
                timeout: options.timeout,
            };
            let mut shown = false;
            let sr = self
                .spt_spend_request_for(&spec, &mut |sr: &Value| {
                    if !shown && let Some(url) = sr.get("approval_url").and_then(Value::as_str) {
                        shown = true;
                        on_approval(&object!({
                            "approval_url": crate::sanitize::for_display(url),
                            "spend_request_id": sr.get("id").cloned().unwrap_or(Value::Null),
                            "amount": ask.amount,
                            "currency": ask.currency,
                        }));
                    }
                })
                .await?;
            approved_spt(&sr)
        }
        .await;
        match &result {
            Ok(_) => {
                hold.spent = true;
                self.log(&format!("{what}: approved, its token is spent"));
            }
            Err(e) => self.log(&format!("{what}: not paid, {}: {}", e.code, e.message)),
        }
        result
    }
}

/// What the person reads about a paid MCP tool call when the caller gave no context: the tool,
/// the realm, the price and the server's description, and the challenge (so two calls are two
/// purchases, not a duplicate); sanitized, bounded, always within the context rules' 100 to
/// 5000 characters.
fn mcp_context(
    tool: &str,
    challenge_id: &str,
    realm: &str,
    description: Option<&str>,
    amount: u64,
    currency: &str,
) -> String {
    fn bounded(text: &str, max: usize) -> String {
        let text = crate::sanitize::for_display(text);
        match text.char_indices().nth(max) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text,
        }
    }
    let about = description
        .map(|d| format!(" for \"{}\"", bounded(d, 200)))
        .unwrap_or_default();
    format!(
        "Your AI agent called the paid MCP tool \"{}\" of the server {}, which asks {amount} {} (smallest currency unit){about}. Approve only if you asked your agent to use this tool. (Challenge {}.)",
        bounded(tool, 100),
        bounded(realm, 100),
        bounded(&currency.to_ascii_uppercase(), 10),
        bounded(challenge_id, 64),
    )
}

/// `context` is needed to ask the person.
fn context_required() -> Error {
    Error::validation(vec![FieldError::new(
        "context",
        "is required for the full MPP flow (at least 100 characters): explain the purchase to the person approving it",
    )])
}

/// A pending login as `auth_status` reports it (sanitized: the server's text reaches a screen).
fn pending_status(pending: &PendingDeviceAuth, next_poll_at_ms: i64) -> Value {
    object!({
        "authenticated": false,
        "pending": true,
        "verification_url": crate::sanitize::for_display(&pending.verification_url),
        "phrase": crate::sanitize::for_display(&pending.phrase),
        "next_poll_at_ms": next_poll_at_ms,
    })
}

/// `shared_payment_token.id` (as `pointer` would find it, without its escape handling).
fn spt_id(spend_request: &Value) -> Option<&Value> {
    spend_request.get("shared_payment_token")?.get("id")
}

/// The SPT of an approved SPT spend request, or why there is none.
fn approved_spt(spend_request: &Value) -> Result<String> {
    let field = |k: &str| {
        spend_request
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("unknown")
    };
    if field("credential_type") != "shared_payment_token" {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "Spend request must have credential_type 'shared_payment_token' (current: '{}')",
                field("credential_type")
            ),
        ));
    }
    if field("status") != "approved" {
        return Err(Error::new(
            ErrorCode::SpendRequestNotApproved,
            format!(
                "Spend request must be approved (current status: {})",
                field("status")
            ),
        )
        .with_details(object!({ "spend_request": spend_request.clone() })));
    }
    spt_id(spend_request)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidResponse,
                "Approved spend request has no shared payment token",
            )
        })
}

/// The merchant's answer, sanitized: `{status, headers (lower-cased), body}`.
fn pay_result(
    response: &HttpResponse,
    spend_request_id: Option<&str>,
    max_body_bytes: u64,
) -> Value {
    let mut headers = Map::new();
    for (name, value) in &response.headers {
        let name = name.to_ascii_lowercase();
        let value = crate::sanitize::for_display(value);
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name, Value::String(value));
            }
        }
    }
    let mut out = object!({
        "status": response.status,
        "headers": headers,
        "body": crate::sanitize::for_display(&response.body),
    });
    if response.body_truncated
        && let Some(map) = out.as_object_mut()
    {
        // Marked, not an error: the payment may have gone through, and the receipt is in a header.
        map.insert("body_truncated".into(), Value::Bool(true));
        map.insert("max_body_bytes".into(), Value::from(max_body_bytes));
    }
    if let (Some(id), Some(map)) = (spend_request_id, out.as_object_mut()) {
        map.insert("spend_request_id".into(), Value::String(id.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_parsed_once_with_the_bindings_spelling() {
        let c = Config::from_options(
            &json!({"apiBaseUrl": "HTTPS://api.example/", "accessToken": " ", "noRefresh": true}),
            Spelling::Camel,
        )
        .unwrap();
        assert_eq!(c.endpoints.api_base, "HTTPS://api.example");
        assert!(c.access_token.is_none(), "blank is absent");
        assert!(c.no_refresh);
        assert_eq!(c.request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS);
        assert_eq!(c.hostname, "unknown");
        for (spelling, paths) in [
            (Spelling::Camel, ["authBaseUrl", "requestTimeoutMs"]),
            (Spelling::Kebab, ["auth-base-url", "request-timeout-ms"]),
        ] {
            let e = Config::from_options(
                &json!({"authBaseUrl": "login.example", "requestTimeoutMs": 0}),
                spelling,
            )
            .unwrap_err();
            let got: Vec<&str> = e.field_errors.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(got, paths);
        }
    }

    #[test]
    fn request_timeout_defaults_and_bounds() {
        assert_eq!(request_timeout(None, "t"), Ok(DEFAULT_REQUEST_TIMEOUT_MS));
        assert_eq!(
            request_timeout(Some(&Value::Null), "t"),
            Ok(DEFAULT_REQUEST_TIMEOUT_MS)
        );
        assert_eq!(request_timeout(Some(&json!(1)), "t"), Ok(1));
        assert_eq!(
            request_timeout(Some(&json!(600_000)), "t"),
            Ok(MAX_REQUEST_TIMEOUT_MS)
        );
        for bad in [
            json!(0),
            json!(600_001),
            json!(-1),
            json!(1.5),
            json!("30000"),
            json!(u64::MAX),
        ] {
            let e = request_timeout(Some(&bad), "requestTimeoutMs").unwrap_err();
            assert_eq!(e.code, ErrorCode::ValidationError, "{bad}");
            assert_eq!(e.field_errors[0].path, "requestTimeoutMs", "{bad}");
        }
    }
}
