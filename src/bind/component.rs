//! WASI Preview 2 component exports, `wit/linkpay.wit`. Feature `component` builds world
//! `codec`: it only converts values, JSON text in and out, core errors to the typed WIT `error`
//! record. Feature `component-client` builds world `client`: the same `codec-api` plus the
//! `client` resource, which runs the one driver (`client.rs`) on a [`Host`] made of the
//! component's imports (`wasi:http/outgoing-handler`, `linkpay:core/storage`, WASI clocks and
//! random). A component's world is fixed when it is built, hence two features and two
//! components: the codec one must not import HTTP or storage.
//!
//! Both are built for wasm32-unknown-unknown, not wasm32-wasip2: std there has no WASI runtime,
//! so the core module's only imports are the ones generated here, and `scripts/build` makes it
//! a component that imports exactly its world. The price is std's I/O: no `SystemTime`,
//! `Instant`, `std::env` or stdio (they panic or do nothing there), so time and randomness come
//! only from the imports below, through [`Host`].

use crate::codec;
use crate::error::ErrorCode;
use serde_json::Value;

#[cfg(not(feature = "component-client"))]
wit_bindgen::generate!({
    world: "codec",
    path: "wit",
});

#[cfg(feature = "component-client")]
wit_bindgen::generate!({
    world: "client",
    path: "wit",
    // The WASI interfaces the world's imports use (wasi:io, wasi:http/types) are generated here
    // too, by the same wit-bindgen: no second bindings crate.
    generate_all,
});

use exports::linkpay::core::codec_api as wit;

struct Component;

export!(Component);

fn wit_code(code: ErrorCode) -> wit::ErrorCode {
    use wit::ErrorCode as W;
    match code {
        ErrorCode::ValidationError => W::ValidationError,
        ErrorCode::InvalidInput => W::InvalidInput,
        ErrorCode::NotAuthenticated => W::NotAuthenticated,
        ErrorCode::PollingTimeout => W::PollingTimeout,
        ErrorCode::NotFound => W::NotFound,
        ErrorCode::OutputFileExists => W::OutputFileExists,
        ErrorCode::OutputFileWriteError => W::OutputFileWriteError,
        ErrorCode::InvalidResponse => W::InvalidResponse,
        ErrorCode::NoPaymentMethod => W::NoPaymentMethod,
        ErrorCode::RequiresTty => W::RequiresTty,
        ErrorCode::SpendRequestRateLimited => W::SpendRequestRateLimited,
        ErrorCode::ApiError => W::ApiError,
        ErrorCode::SpendRequestNotApproved => W::SpendRequestNotApproved,
        ErrorCode::IllegalTransition => W::IllegalTransition,
        ErrorCode::AuthorizationDenied => W::AuthorizationDenied,
        ErrorCode::DeviceCodeExpired => W::DeviceCodeExpired,
        ErrorCode::AuthorizationDeclined => W::AuthorizationDeclined,
        ErrorCode::TokenExpired => W::TokenExpired,
        ErrorCode::MppNoPaymentChallenge => W::MppNoPaymentChallenge,
        ErrorCode::MppNoStripeChallenge => W::MppNoStripeChallenge,
        ErrorCode::MppMalformedChallenge => W::MppMalformedChallenge,
        ErrorCode::MppChallengeExpired => W::MppChallengeExpired,
        ErrorCode::MppUnsupportedChallenge => W::MppUnsupportedChallenge,
        ErrorCode::MppMalformedCredential => W::MppMalformedCredential,
        ErrorCode::MppMalformedReceipt => W::MppMalformedReceipt,
        ErrorCode::TransportError => W::TransportError,
        ErrorCode::StorageError => W::StorageError,
        ErrorCode::Unknown => W::Unknown,
        ErrorCode::CommandNotFound => W::CommandNotFound,
        ErrorCode::PaymentGuardrail => W::PaymentGuardrail,
    }
}

fn wit_error(e: crate::Error) -> wit::Error {
    wit::Error {
        code: wit_code(e.code),
        message: e.message,
        field_errors: e
            .field_errors
            .into_iter()
            .map(|f| wit::FieldError {
                path: f.path,
                message: f.message,
            })
            .collect(),
        details: e.details.map(|d| crate::json_text(&d)),
    }
}

/// Parses JSON text from the caller; bad JSON is a validation error on the named argument.
fn json(text: &str, argument: &str) -> Result<Value, wit::Error> {
    serde_json::from_str(text).map_err(|e| {
        wit_error(crate::Error::validation(vec![crate::FieldError::new(
            argument,
            format!("must be JSON text: {e}"),
        )]))
    })
}

fn out(result: crate::Result<Value>) -> Result<String, wit::Error> {
    result.map(|v| crate::json_text(&v)).map_err(wit_error)
}

/// The `codec-api` functions that share a signature, by name ([`Unary`], [`Binary`],
/// [`Timed`]). Each export only names its function and hands its arguments to the one body of
/// its signature, so the exports' wit-bindgen glue (argument lifting and result lowering, ~500
/// bytes each) differs only in that tag and `wasm-opt --merge-similar-functions` keeps one copy
/// per signature. (Tags start at 1: a 0 argument lets LLVM compile one copy differently.)
#[derive(Clone, Copy)]
enum Unary {
    ValidateUpdate = 1,
    ValidateRetrieveOptions,
    ValidateLoginOptions,
    NextAction,
    Normalize,
    ParseReceipt,
    ParseHttpUrl,
}

/// The functions of one string.
#[inline(never)]
fn unary(op: Unary, a: String) -> Result<String, wit::Error> {
    out(match op {
        Unary::ValidateUpdate => codec::validate_update_spend_request(&json(&a, "input")?),
        Unary::ValidateRetrieveOptions => codec::validate_retrieve_options(&json(&a, "input")?),
        Unary::ValidateLoginOptions => codec::validate_login_options(&json(&a, "input")?),
        Unary::NextAction => codec::next_spend_request_action(&json(&a, "spend_request")?),
        Unary::Normalize => codec::normalize_spend_request(&json(&a, "spend_request")?),
        Unary::ParseReceipt => codec::parse_receipt(&a),
        Unary::ParseHttpUrl => codec::parse_http_url(&a),
    })
}

/// See [`Unary`].
#[derive(Clone, Copy)]
enum Binary {
    ParseKeyValueFlag = 1,
    Transition,
    BuildStripePayload,
}

/// The functions of two strings.
#[inline(never)]
fn binary(op: Binary, a: String, b: String) -> Result<String, wit::Error> {
    out(match op {
        Binary::ParseKeyValueFlag => codec::parse_key_value_flag(&a, &b),
        Binary::Transition => codec::spend_request_transition(&a, &b),
        Binary::BuildStripePayload => codec::build_stripe_payload(&json(&a, "challenge")?, &b),
    })
}

/// See [`Unary`].
#[derive(Clone, Copy)]
enum Timed {
    ValidateCreate = 1,
    ValidateCreateBody,
}

/// The functions of a JSON string and `now`.
#[inline(never)]
fn timed(op: Timed, a: String, now: i64) -> Result<String, wit::Error> {
    out(match op {
        Timed::ValidateCreate => codec::validate_create_spend_request(&json(&a, "input")?, now),
        Timed::ValidateCreateBody => {
            codec::validate_create_spend_request_body(&json(&a, "body")?, now)
        }
    })
}

impl wit::Guest for Component {
    fn validate_create_spend_request(input: String, now: i64) -> Result<String, wit::Error> {
        timed(Timed::ValidateCreate, input, now)
    }

    fn validate_create_spend_request_body(body: String, now: i64) -> Result<String, wit::Error> {
        timed(Timed::ValidateCreateBody, body, now)
    }

    fn validate_update_spend_request(input: String) -> Result<String, wit::Error> {
        unary(Unary::ValidateUpdate, input)
    }

    fn parse_key_value_flag(kind: String, value: String) -> Result<String, wit::Error> {
        binary(Binary::ParseKeyValueFlag, kind, value)
    }

    fn validate_retrieve_options(input: String) -> Result<String, wit::Error> {
        unary(Unary::ValidateRetrieveOptions, input)
    }

    fn validate_login_options(input: String) -> Result<String, wit::Error> {
        unary(Unary::ValidateLoginOptions, input)
    }

    fn spend_request_transition(status: String, event: String) -> Result<String, wit::Error> {
        binary(Binary::Transition, status, event)
    }

    fn next_spend_request_action(spend_request: String) -> Result<String, wit::Error> {
        unary(Unary::NextAction, spend_request)
    }

    fn normalize_spend_request(spend_request: String) -> Result<String, wit::Error> {
        unary(Unary::Normalize, spend_request)
    }

    fn auth_handle_token_response(
        pending: String,
        status: u16,
        body: String,
        now: i64,
    ) -> Result<String, wit::Error> {
        out(codec::auth_handle_token_response(
            &json(&pending, "pending")?,
            status,
            &body,
            now,
        ))
    }

    fn token_needs_refresh(tokens: String, now: i64) -> Result<bool, wit::Error> {
        let answer =
            codec::token_needs_refresh(&json(&tokens, "tokens")?, now).map_err(wit_error)?;
        Ok(answer.as_bool().unwrap_or(true))
    }

    fn poll_decide(
        policy: String,
        state: String,
        now: i64,
        terminal: bool,
    ) -> Result<String, wit::Error> {
        out(codec::poll_decide(
            &json(&policy, "policy")?,
            &json(&state, "state")?,
            now,
            terminal,
        ))
    }

    fn decode_challenges(values: Vec<String>) -> Result<String, wit::Error> {
        out(codec::decode_challenges(&values))
    }

    fn decode_stripe_challenge(
        values: Vec<String>,
        now: i64,
        request_url: Option<String>,
    ) -> Result<String, wit::Error> {
        out(codec::decode_stripe_challenge(
            &values,
            now,
            request_url.as_deref(),
        ))
    }

    fn build_credential(
        challenge: String,
        payload: String,
        source: Option<String>,
        now: i64,
    ) -> Result<String, wit::Error> {
        out(codec::build_credential(
            &json(&challenge, "challenge")?,
            &json(&payload, "payload")?,
            source.as_deref(),
            now,
        ))
    }

    fn build_stripe_payload(challenge: String, spt: String) -> Result<String, wit::Error> {
        binary(Binary::BuildStripePayload, challenge, spt)
    }

    fn parse_receipt(value: String) -> Result<String, wit::Error> {
        unary(Unary::ParseReceipt, value)
    }

    fn sanitize_for_display(text: String) -> String {
        codec::sanitize_for_display(&text)
    }

    fn parse_http_url(url: String) -> Result<String, wit::Error> {
        unary(Unary::ParseHttpUrl, url)
    }

    fn version() -> String {
        crate::VERSION.to_string()
    }
}

// ------------------------------------------------------------------ world `client`

#[cfg(feature = "component-client")]
mod client_world {
    use super::{Component, json, out, wit_error};
    use crate::client::{ApiCall, Client, Config};
    use crate::error::{Error, ErrorCode, Result};
    use crate::host::{Host, HttpRequest, HttpResponse};
    use serde_json::Value;
    use std::future::Future;
    use std::pin::{Pin, pin};
    use std::task::{Context, Poll, Waker};

    use super::exports::linkpay::core::client_api as api;
    use super::linkpay::core::storage;
    use super::wasi::clocks::{monotonic_clock, wall_clock};
    use super::wasi::http::outgoing_handler;
    use super::wasi::http::types::{
        ErrorCode as HttpErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions,
        Scheme,
    };
    use super::wasi::io::poll::{Pollable, poll};
    use super::wasi::io::streams::StreamError;
    use super::wasi::random::random;

    /// Runs a driver future to completion. Every import is synchronous (a blocking call, or a
    /// pollable blocked on), so each host future is ready when first polled: no executor, no
    /// wake-ups, just a poll loop.
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
        }
    }

    fn transport(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::TransportError, message)
    }

    fn storage_error(message: String) -> Error {
        Error::new(ErrorCode::StorageError, message)
    }

    /// `scheme://authority/path?query` split for `wasi:http` (which takes them apart), by the
    /// one URL parse validation uses (`HTTPS://…` is https here too); the path is always
    /// absolute (`http://h?q` is sent as `/?q`). Userinfo is never sent in the authority.
    fn split_url(url: &str) -> Result<(Scheme, &str, String)> {
        let parsed = crate::validate::parse_http_url(url)
            .ok_or_else(|| transport("unsupported URL: not an absolute http(s) URL"))?;
        let scheme = if parsed.https {
            Scheme::Https
        } else {
            Scheme::Http
        };
        Ok((scheme, parsed.authority, parsed.request_target()))
    }

    /// `TRANSPORT_ERROR` for a request part the runtime would not take.
    fn refused(what: &str) -> Error {
        transport([what, " refused by the runtime"].concat())
    }

    /// A response header value as the npm host's `fetch` sees it: bytes as Latin-1.
    fn latin1(bytes: &[u8]) -> String {
        bytes.iter().map(|&b| char::from(b)).collect()
    }

    /// The host: the component's imports.
    pub struct WasiHost;

    impl WasiHost {
        fn send(request: &HttpRequest) -> Result<HttpResponse> {
            let (scheme, authority, path) = split_url(&request.url)?;
            let fields = Fields::new();
            for (name, value) in &request.headers {
                fields
                    .append(name, value.as_bytes())
                    .map_err(|_| refused(&["header ", name].concat()))?;
            }
            if let Some(body) = &request.body {
                let length = body.len().to_string();
                fields
                    .append("content-length", length.as_bytes())
                    .map_err(|_| refused("content-length"))?;
            }
            let outgoing = OutgoingRequest::new(fields);
            let method = match request.method.as_str() {
                "GET" => Method::Get,
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "DELETE" => Method::Delete,
                "PATCH" => Method::Patch,
                "HEAD" => Method::Head,
                other => Method::Other(other.to_string()),
            };
            outgoing
                .set_method(&method)
                .map_err(|()| refused("method"))?;
            outgoing
                .set_scheme(Some(&scheme))
                .map_err(|()| refused("scheme"))?;
            outgoing
                .set_authority(Some(authority))
                .map_err(|()| refused("authority"))?;
            outgoing
                .set_path_with_query(Some(&path))
                .map_err(|()| refused("path"))?;
            let body = outgoing.body().map_err(|()| refused("body"))?;
            // The whole exchange has `timeout_ms`: the runtime's own limits (wasmtime's default
            // to ten minutes each) are set to it where it takes them, and the deadline below
            // bounds the rest.
            let timeout_ns = u64::from(request.timeout_ms) * 1_000_000;
            let deadline = monotonic_clock::subscribe_instant(
                monotonic_clock::now().saturating_add(timeout_ns),
            );
            let limits = RequestOptions::new();
            // A runtime that does not support one of these refuses it; the deadline still holds.
            let _ = limits.set_connect_timeout(Some(timeout_ns));
            let _ = limits.set_first_byte_timeout(Some(timeout_ns));
            let _ = limits.set_between_bytes_timeout(Some(timeout_ns));
            // Handle first, then write: the runtime reads the body while it sends.
            let pending = outgoing_handler::handle(outgoing, Some(limits)).map_err(http_error)?;
            if let Some(text) = &request.body {
                let stream = body.write().map_err(|()| refused("body stream"))?;
                for chunk in text.as_bytes().chunks(4096) {
                    stream
                        .blocking_write_and_flush(chunk)
                        .map_err(|_| transport("sending the request body failed"))?;
                }
                drop(stream);
            }
            OutgoingBody::finish(body, None).map_err(http_error)?;
            let timed_out = || {
                transport(["no answer within ", &request.timeout_ms.to_string(), " ms"].concat())
            };
            if !ready_before(&pending.subscribe(), &deadline) {
                return Err(timed_out());
            }
            let response = match pending.get() {
                Some(Ok(Ok(response))) => response,
                Some(Ok(Err(e))) => return Err(http_error(e)),
                Some(Err(())) | None => return Err(transport("no response from the runtime")),
            };
            let status = response.status();
            let headers = response
                .headers()
                .entries()
                .into_iter()
                .map(|(name, value)| (name, latin1(&value)))
                .collect();
            let incoming = response
                .consume()
                .map_err(|()| transport("response body unavailable"))?;
            let stream = incoming
                .stream()
                .map_err(|()| transport("response body unavailable"))?;
            let mut bytes = Vec::new();
            let mut body_truncated = false;
            let limit = usize::try_from(request.max_body_bytes).unwrap_or(usize::MAX);
            let readable = stream.subscribe();
            loop {
                match stream.read(64 * 1024) {
                    Ok(chunk) if chunk.is_empty() => {
                        if !ready_before(&readable, &deadline) {
                            return Err(timed_out());
                        }
                    }
                    Ok(chunk) => {
                        // At most `max_body_bytes` is kept; the rest is never read.
                        let room = limit.saturating_sub(bytes.len());
                        bytes.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
                        if chunk.len() > room {
                            body_truncated = true;
                            break;
                        }
                    }
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(e)) => {
                        let why = e.to_debug_string();
                        return Err(transport(["reading the response failed: ", &why].concat()));
                    }
                }
            }
            // Dropped, not finished: trailers are not read, so no future-trailers is needed.
            drop(readable);
            drop(stream);
            drop(incoming);
            Ok(HttpResponse {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
                body_truncated,
            })
        }
    }

    /// Waits for `ready` or `deadline`, whichever comes first; true if `ready` did.
    fn ready_before(ready: &Pollable, deadline: &Pollable) -> bool {
        poll(&[ready, deadline]).contains(&0)
    }

    /// A `wasi:http` error as `TRANSPORT_ERROR`, named by its case (no `Debug`: the derived one
    /// for this 40-case enum costs KBs).
    fn http_error(e: HttpErrorCode) -> Error {
        let what = match e {
            HttpErrorCode::DnsTimeout | HttpErrorCode::DnsError(_) => "DNS lookup failed",
            HttpErrorCode::DestinationNotFound => "destination not found",
            HttpErrorCode::DestinationUnavailable => "destination unavailable",
            HttpErrorCode::DestinationIpProhibited | HttpErrorCode::DestinationIpUnroutable => {
                "destination not allowed"
            }
            HttpErrorCode::ConnectionRefused => "connection refused",
            HttpErrorCode::ConnectionTerminated => "connection terminated",
            HttpErrorCode::ConnectionTimeout
            | HttpErrorCode::ConnectionReadTimeout
            | HttpErrorCode::ConnectionWriteTimeout => "connection timed out",
            HttpErrorCode::TlsProtocolError
            | HttpErrorCode::TlsCertificateError
            | HttpErrorCode::TlsAlertReceived(_) => "TLS failed",
            HttpErrorCode::HttpRequestDenied => "request denied by the runtime",
            HttpErrorCode::InternalError(Some(message)) => return transport(message),
            _ => "HTTP protocol error",
        };
        transport(["HTTP request failed: ", what].concat())
    }

    impl Host for WasiHost {
        async fn fetch(&self, request: &HttpRequest) -> Result<HttpResponse> {
            Self::send(request)
        }

        async fn storage_get(&self, key: &str) -> Result<Option<String>> {
            storage::get(key).map_err(storage_error)
        }

        async fn storage_set(&self, key: &str, value: &str) -> Result<()> {
            storage::set(key, value).map_err(storage_error)
        }

        async fn storage_delete(&self, key: &str) -> Result<()> {
            storage::delete(key).map_err(storage_error)
        }

        fn now_ms(&self) -> i64 {
            let now = wall_clock::now();
            let ms = i128::from(now.seconds) * 1000 + i128::from(now.nanoseconds / 1_000_000);
            i64::try_from(ms).unwrap_or(i64::MAX)
        }

        async fn sleep(&self, ms: u64) {
            monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
        }

        fn random(&self, len: usize) -> Vec<u8> {
            random::get_random_bytes(u64::try_from(len).unwrap_or(u64::MAX))
        }
    }

    /// The `client` resource: the driver over the component's imports.
    pub struct LinkClient {
        inner: Client<WasiHost>,
        /// Options the constructor could not take (a WIT constructor cannot fail): every
        /// method returns this error instead of sending anything.
        invalid: Option<Error>,
    }

    /// A driver future, boxed so every method shares one `block_on` and one result conversion
    /// (one instance per method would cost the component several KB).
    type Task<'a> = Pin<Box<dyn Future<Output = Result<Value>> + 'a>>;

    impl LinkClient {
        #[inline(never)]
        fn block(&self, task: Task<'_>) -> std::result::Result<String, api::Error> {
            if let Some(e) = &self.invalid {
                return Err(wit_error(e.clone()));
            }
            out(block_on(task))
        }

        /// One Link API call; every API method shares this one future, as in the npm build.
        #[inline(never)]
        fn run(&self, call: ApiCall) -> std::result::Result<String, api::Error> {
            self.block(Box::pin(async move { self.inner.call(&call).await }))
        }
    }

    /// JSON text from the caller, `null` read as `{}` (as the npm package reads `undefined`).
    fn object_or_empty(text: &str, argument: &str) -> std::result::Result<Value, api::Error> {
        let value = json(text, argument)?;
        Ok(if value.is_null() { object!({}) } else { value })
    }

    fn no_progress(_: &Value) {}

    /// The `client` methods that share a signature, by name: as for `codec-api` (see
    /// [`super::Unary`]), each method only names itself, so their glue merges.
    #[derive(Clone, Copy)]
    enum Nullary {
        AuthStatus = 1,
        Logout,
        ListPaymentMethods,
    }

    /// See [`Nullary`].
    #[derive(Clone, Copy)]
    enum One {
        LoginStart = 1,
        CreateSpendRequest,
        RequestApproval,
        CancelSpendRequest,
        MppPay,
    }

    /// See [`Nullary`].
    #[derive(Clone, Copy)]
    enum Two {
        UpdateSpendRequest = 1,
        WaitForSpendRequest,
        Run,
    }

    impl LinkClient {
        /// The methods without arguments.
        #[inline(never)]
        fn none(&self, op: Nullary) -> std::result::Result<String, api::Error> {
            match op {
                Nullary::AuthStatus => self.block(Box::pin(self.inner.auth_status())),
                Nullary::Logout => self.block(Box::pin(self.inner.logout())),
                Nullary::ListPaymentMethods => self.run(ApiCall::ListPaymentMethods),
            }
        }

        /// The methods of one string.
        #[inline(never)]
        fn one(&self, op: One, a: String) -> std::result::Result<String, api::Error> {
            match op {
                One::LoginStart => {
                    let options = object_or_empty(&a, "options")?;
                    self.block(Box::pin(async move {
                        Ok(self.inner.login_start(&options).await?.to_json())
                    }))
                }
                One::CreateSpendRequest => {
                    let input = json(&a, "input")?;
                    self.block(Box::pin(async move {
                        self.inner.create_spend_request(&input).await
                    }))
                }
                One::RequestApproval => self.run(ApiCall::RequestApproval(a)),
                One::CancelSpendRequest => self.run(ApiCall::CancelSpendRequest(a)),
                One::MppPay => {
                    let input = json(&a, "input")?;
                    self.block(Box::pin(async move {
                        self.inner.mpp_pay(&input, &mut no_progress).await
                    }))
                }
            }
        }

        /// The methods of two strings (an id and JSON).
        #[inline(never)]
        fn two(&self, op: Two, id: String, b: String) -> std::result::Result<String, api::Error> {
            match op {
                Two::UpdateSpendRequest => {
                    let input = json(&b, "input")?;
                    self.block(Box::pin(async move {
                        self.inner.update_spend_request(&id, &input).await
                    }))
                }
                Two::Run => {
                    let input = object_or_empty(&b, "input")?;
                    self.block(Box::pin(async move {
                        crate::runner::run(
                            &self.inner,
                            &id,
                            &input,
                            crate::runner::Mode::default(),
                            &mut |_| {},
                        )
                        .await
                    }))
                }
                Two::WaitForSpendRequest => {
                    let options = object_or_empty(&b, "options")?;
                    self.block(Box::pin(async move {
                        self.inner
                            .wait_for_spend_request(&id, &options, &mut no_progress)
                            .await
                    }))
                }
            }
        }
    }

    impl api::Guest for Component {
        type Client = LinkClient;
    }

    impl api::GuestClient for LinkClient {
        fn new(options: api::Options) -> Self {
            // The one options parse (`Config::from_options`), fed the WIT record as the npm
            // names; a WIT constructor cannot fail, so a bad option fails every call instead.
            let text = |v: Option<String>| v.map_or(Value::Null, Value::String);
            let json = object!({
                "apiBaseUrl": text(options.api_base_url),
                "authBaseUrl": text(options.auth_base_url),
                "accessToken": text(options.access_token),
                "refreshToken": text(options.refresh_token),
                "noRefresh": options.no_refresh,
                "hostname": text(options.hostname),
                "requestTimeoutMs": options.request_timeout_ms.map_or(Value::Null, Value::from),
            });
            let (config, invalid) =
                match Config::from_options(&json, crate::client::Spelling::Kebab) {
                    Ok(config) => (config, None),
                    Err(e) => (Config::default(), Some(e)),
                };
            LinkClient {
                inner: Client::new(WasiHost, config),
                invalid,
            }
        }

        fn login_start(&self, options: String) -> std::result::Result<String, api::Error> {
            self.one(One::LoginStart, options)
        }

        fn auth_status(&self) -> std::result::Result<String, api::Error> {
            self.none(Nullary::AuthStatus)
        }

        fn login_wait(&self, policy: Option<String>) -> std::result::Result<String, api::Error> {
            let policy = match policy {
                Some(text) => {
                    crate::poll::Policy::decode(&json(&text, "policy")?).map_err(wit_error)?
                }
                None => crate::poll::Policy::login(),
            };
            self.block(Box::pin(async move {
                self.inner.login_wait(&policy, &mut no_progress).await
            }))
        }

        fn logout(&self) -> std::result::Result<String, api::Error> {
            self.none(Nullary::Logout)
        }

        fn list_payment_methods(&self) -> std::result::Result<String, api::Error> {
            self.none(Nullary::ListPaymentMethods)
        }

        fn create_spend_request(&self, input: String) -> std::result::Result<String, api::Error> {
            self.one(One::CreateSpendRequest, input)
        }

        fn update_spend_request(
            &self,
            id: String,
            input: String,
        ) -> std::result::Result<String, api::Error> {
            self.two(Two::UpdateSpendRequest, id, input)
        }

        fn retrieve_spend_request(
            &self,
            id: String,
            include: Vec<String>,
        ) -> std::result::Result<String, api::Error> {
            let include: Vec<Value> = include.into_iter().map(Value::String).collect();
            let options =
                crate::validate::options::validate_retrieve(&object!({ "include": include }))
                    .map_err(wit_error)?;
            self.run(ApiCall::RetrieveSpendRequest(id, options.include))
        }

        fn request_approval(&self, id: String) -> std::result::Result<String, api::Error> {
            self.one(One::RequestApproval, id)
        }

        fn cancel_spend_request(&self, id: String) -> std::result::Result<String, api::Error> {
            self.one(One::CancelSpendRequest, id)
        }

        fn list_spend_requests(
            &self,
            include_history: bool,
        ) -> std::result::Result<String, api::Error> {
            self.run(ApiCall::ListSpendRequests(include_history))
        }

        fn wait_for_spend_request(
            &self,
            id: String,
            options: String,
        ) -> std::result::Result<String, api::Error> {
            self.two(Two::WaitForSpendRequest, id, options)
        }

        fn mpp_pay(&self, input: String) -> std::result::Result<String, api::Error> {
            self.one(One::MppPay, input)
        }

        fn run(&self, command: String, input: String) -> std::result::Result<String, api::Error> {
            self.two(Two::Run, command, input)
        }

        fn fetch(
            &self,
            request: api::FetchRequest,
            options: String,
        ) -> std::result::Result<api::FetchResponse, api::Error> {
            let options = crate::validate::mpp::validate_fetch_options(&json(&options, "options")?)
                .map_err(wit_error)?;
            if !crate::validate::is_http_url(&request.url) {
                return Err(wit_error(Error::validation(vec![crate::FieldError::new(
                    "request.url",
                    "must be an absolute http(s) URL",
                )])));
            }
            let mut sent = HttpRequest::new(&request.method.to_ascii_uppercase(), request.url);
            sent.headers = request.headers;
            sent.body = request.body;
            if let Some(e) = &self.invalid {
                return Err(wit_error(e.clone()));
            }
            let answer = block_on(self.inner.fetch(&sent, &options)).map_err(wit_error)?;
            Ok(api::FetchResponse {
                status: answer.status,
                headers: answer.headers,
                body: answer.body,
                body_truncated: answer.body_truncated,
            })
        }
    }
}
