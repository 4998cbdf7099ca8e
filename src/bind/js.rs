//! wasm-bindgen facade for the npm package (feature `js`, wasm32-unknown-unknown).
//!
//! It only converts values: JS values cross with serde-wasm-bindgen (objects as plain objects,
//! safe integers exact), HTTP requests are built and read with gloo-net (the `fetch` that sends
//! them is the host's: the global one or the caller's), and a core [`Error`] becomes a JS
//! `Error` with `.code`, `.fieldErrors` and `.details`. Every rule lives in the core.

use crate::codec;
use crate::error::Error;
use js_sys::{Array, JSON, Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;

type JsResult = Result<JsValue, JsValue>;

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Reflect.set only fails on frozen or proxied targets, which we never create.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// Converts a core error to a JS `Error` carrying the stable code.
fn js_error(e: Error) -> JsValue {
    let err: JsValue = js_sys::Error::new(&e.message).into();
    set(&err, "name", &JsValue::from_str("LinkpayError"));
    set(&err, "code", &JsValue::from_str(e.code.as_str()));
    let json = e.to_json();
    if let Some(fields) = json.get("fieldErrors") {
        set(&err, "fieldErrors", &to_js(fields));
    }
    if let Some(details) = json.get("details") {
        set(&err, "details", &to_js(details));
    }
    err
}

/// A value for JS: objects stay plain objects (`json_compatible`), integers stay numbers.
fn to_js(value: &Value) -> JsValue {
    use serde::Serialize;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// A JS value as JSON (`undefined` and `null` are `null`; safe integers stay integers).
fn from_js(value: &JsValue) -> Result<Value, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    serde_wasm_bindgen::from_value(value.clone())
        .map_err(|e| js_error(Error::new(crate::ErrorCode::InvalidInput, e.to_string())))
}

fn done(result: crate::Result<Value>) -> JsResult {
    result.map(|v| to_js(&v)).map_err(js_error)
}

/// `header` may be one string or an array of strings (one per header line); each string may
/// also come as its UTF-8 bytes (a `Uint8Array`), which is how `npm/src/index.ts` passes them:
/// `TextEncoder` is native, where wasm-bindgen copies a string in a JS loop, a char at a time.
/// Bytes that are not UTF-8 (`TextEncoder` never makes such) are skipped like non-strings.
fn header_values(value: &JsValue) -> Vec<String> {
    fn one(v: &JsValue) -> Option<String> {
        match v.dyn_ref::<Uint8Array>() {
            Some(bytes) => String::from_utf8(bytes_of(bytes)).ok(),
            None => v.as_string(),
        }
    }
    if Array::is_array(value) {
        return Array::from(value).iter().filter_map(|v| one(&v)).collect();
    }
    one(value).into_iter().collect()
}

#[wasm_bindgen]
extern "C" {
    /// A typed array's bytes, copied into wasm memory by wasm-bindgen's `Vec<u8>` glue (one
    /// native `set`, like `Uint8Array::to_vec`): `Uint8Array.prototype.subarray.call(bytes)`
    /// is a view of the whole array. Not `to_vec`, whose `copy_to` links an `assert_eq!` and
    /// its `Debug` formatting.
    #[wasm_bindgen(js_namespace = ["Uint8Array", "prototype", "subarray"], js_name = call)]
    fn bytes_of(bytes: &Uint8Array) -> Vec<u8>;
}

/// JS numbers are f64; times and statuses are integral, so truncation is the intended cast.
fn int(n: f64) -> i64 {
    n as i64
}

#[wasm_bindgen(js_name = validateCreateSpendRequest)]
pub fn validate_create_spend_request(input: JsValue, now_seconds: f64) -> JsResult {
    done(codec::validate_create_spend_request(
        &from_js(&input)?,
        int(now_seconds),
    ))
}

#[wasm_bindgen(js_name = validateCreateSpendRequestBody)]
pub fn validate_create_spend_request_body(body: JsValue, now_seconds: f64) -> JsResult {
    done(codec::validate_create_spend_request_body(
        &from_js(&body)?,
        int(now_seconds),
    ))
}

#[wasm_bindgen(js_name = validateUpdateSpendRequest)]
pub fn validate_update_spend_request(input: JsValue) -> JsResult {
    done(codec::validate_update_spend_request(&from_js(&input)?))
}

#[wasm_bindgen(js_name = parseKeyValueFlag)]
pub fn parse_key_value_flag(kind: &str, value: &str) -> JsResult {
    done(codec::parse_key_value_flag(kind, value))
}

#[wasm_bindgen(js_name = validateRetrieveOptions)]
pub fn validate_retrieve_options(input: JsValue) -> JsResult {
    done(codec::validate_retrieve_options(&from_js(&input)?))
}

#[wasm_bindgen(js_name = validateLoginOptions)]
pub fn validate_login_options(input: JsValue) -> JsResult {
    done(codec::validate_login_options(&from_js(&input)?))
}

#[wasm_bindgen(js_name = spendRequestTransition)]
pub fn spend_request_transition(status: &str, event: &str) -> JsResult {
    done(codec::spend_request_transition(status, event))
}

#[wasm_bindgen(js_name = nextSpendRequestAction)]
pub fn next_spend_request_action(spend_request: JsValue) -> JsResult {
    done(codec::next_spend_request_action(&from_js(&spend_request)?))
}

#[wasm_bindgen(js_name = normalizeSpendRequest)]
pub fn normalize_spend_request(spend_request: JsValue) -> JsResult {
    done(codec::normalize_spend_request(&from_js(&spend_request)?))
}

#[wasm_bindgen(js_name = authHandleTokenResponse)]
pub fn auth_handle_token_response(
    pending: JsValue,
    status: f64,
    body: &str,
    now_ms: f64,
) -> JsResult {
    let status = u16::try_from(int(status)).unwrap_or(0);
    done(codec::auth_handle_token_response(
        &from_js(&pending)?,
        status,
        body,
        int(now_ms),
    ))
}

#[wasm_bindgen(js_name = tokenNeedsRefresh)]
pub fn token_needs_refresh(tokens: JsValue, now_ms: f64) -> JsResult {
    done(codec::token_needs_refresh(&from_js(&tokens)?, int(now_ms)))
}

#[wasm_bindgen(js_name = pollDecide)]
pub fn poll_decide(policy: JsValue, state: JsValue, now_ms: f64, terminal: bool) -> JsResult {
    done(codec::poll_decide(
        &from_js(&policy)?,
        &from_js(&state)?,
        int(now_ms),
        terminal,
    ))
}

#[wasm_bindgen(js_name = decodeChallenges)]
pub fn decode_challenges(header: JsValue) -> JsResult {
    JSON::parse(&codec::decode_challenges_text(&header_values(&header)))
}

#[wasm_bindgen(js_name = decodeStripeChallenge)]
pub fn decode_stripe_challenge(
    header: JsValue,
    now_ms: f64,
    request_url: Option<String>,
) -> JsResult {
    let text = codec::decode_stripe_challenge_text(
        &header_values(&header),
        int(now_ms),
        request_url.as_deref(),
    )
    .map_err(js_error)?;
    JSON::parse(&text)
}

#[wasm_bindgen(js_name = buildCredential)]
pub fn build_credential(
    challenge: JsValue,
    payload: JsValue,
    source: Option<String>,
    now_ms: f64,
) -> JsResult {
    done(codec::build_credential(
        &from_js(&challenge)?,
        &from_js(&payload)?,
        source.as_deref(),
        int(now_ms),
    ))
}

#[wasm_bindgen(js_name = buildStripePayload)]
pub fn build_stripe_payload(challenge: JsValue, spt: &str) -> JsResult {
    done(codec::build_stripe_payload(&from_js(&challenge)?, spt))
}

#[wasm_bindgen(js_name = parseReceipt)]
pub fn parse_receipt(value: &str) -> JsResult {
    done(codec::parse_receipt(value))
}

#[wasm_bindgen(js_name = parseHttpUrl)]
pub fn parse_http_url(url: &str) -> JsResult {
    done(codec::parse_http_url(url))
}

#[wasm_bindgen(js_name = sanitizeForDisplay)]
pub fn sanitize_for_display(text: &str) -> String {
    codec::sanitize_for_display(text)
}

/// The core's version; equals the npm package's.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// Every stable error code, in table order.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    crate::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sandbox/server side (append-only): used by the local sandbox (`npm/src/sandbox`). Node-only:
// each export is `#[cfg(feature = "sandbox")]`, so the browser module (`pkg/web`) stays small.
// ---------------------------------------------------------------------------------------------

/// The OAuth client id the Link auth server accepts.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = authClientId)]
pub fn auth_client_id() -> String {
    codec::auth_client_id().to_string()
}

/// Validates the wire body of a spend-request update (`payment_details`, not
/// `payment_method_id`); returns the normalised wire body.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = validateUpdateSpendRequestBody)]
pub fn validate_update_spend_request_body(body: JsValue) -> JsResult {
    done(codec::validate_update_spend_request_body(&from_js(&body)?))
}

/// Issues an MPP challenge with an HMAC-bound id: `{challenge, www_authenticate}`.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = mppIssueChallenge)]
pub fn mpp_issue_challenge(secret: &str, spec: JsValue) -> JsResult {
    done(codec::mpp_issue_challenge(secret, &from_js(&spec)?))
}

/// Verifies a received MPP credential: `{challenge, payload, source?, stripe?}`.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = mppVerifyCredential)]
pub fn mpp_verify_credential(
    secret: &str,
    header_name: &str,
    header_value: &str,
    now_ms: f64,
) -> JsResult {
    done(codec::mpp_verify_credential(
        secret,
        header_name,
        header_value,
        int(now_ms),
    ))
}

/// RFC 9457 problem details of the Payment scheme.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = mppProblem)]
pub fn mpp_problem(problem: &str, detail: &str, challenge_id: Option<String>) -> JsResult {
    done(codec::mpp_problem(problem, detail, challenge_id.as_deref()))
}

/// Encodes a `Payment-Receipt` value.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = mppEncodeReceipt)]
pub fn mpp_encode_receipt(receipt: JsValue) -> JsResult {
    done(codec::mpp_encode_receipt(&from_js(&receipt)?))
}

/// The sandbox's paid MCP server: a merchant's `WWW-Authenticate` challenges as the challenge
/// objects of a `-32042` answer (mppx's convention; malformed ones left out).
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = mcpChallengeObjects)]
pub fn mcp_challenge_objects(header: JsValue) -> JsResult {
    let objects = crate::mpp::parse_challenges(&header_values(&header))
        .into_iter()
        .filter_map(|c| c.ok())
        .filter_map(|c| crate::mpp::mcp::challenge_object(&c).ok())
        .collect();
    Ok(to_js(&Value::Array(objects)))
}

/// The sandbox's paid MCP server: a credential object from `_meta` as the header it stands for
/// (`{header, value}`), to send to the merchant.
#[cfg(feature = "sandbox")]
#[wasm_bindgen(js_name = mcpCredentialHeader)]
pub fn mcp_credential_header(credential: JsValue) -> JsResult {
    let credential = from_js(&credential)?;
    done(
        crate::mpp::mcp::credential_header(&credential)
            .map(|c| object!({ "header": c.header, "value": c.value })),
    )
}

// ------------------------------------------------------------------ the client (driver + JS host)

use crate::client::{ApiCall, Client, Config};
use crate::host::{Host, HttpRequest, HttpResponse};
use std::rc::Rc;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

#[wasm_bindgen]
extern "C" {
    /// The host object the TypeScript layer passes in: fetch and storage as async functions,
    /// clock, sleep, randomness and a logger.
    pub type JsHost;
    /// The caller's `fetch` (or the global one) with the standard `Request` gloo-net built;
    /// `link`: it goes to Link, not to a merchant (`HttpRequest::link`).
    #[wasm_bindgen(method, catch)]
    fn fetch(
        this: &JsHost,
        request: web_sys::Request,
        link: bool,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = storageGet)]
    fn storage_get(this: &JsHost, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = storageSet)]
    fn storage_set(this: &JsHost, key: &str, value: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = storageDelete)]
    fn storage_delete(this: &JsHost, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method)]
    fn now(this: &JsHost) -> f64;
    #[wasm_bindgen(method)]
    fn sleep(this: &JsHost, ms: f64) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn random(this: &JsHost, len: u32) -> Vec<u8>;
    #[wasm_bindgen(method)]
    fn log(this: &JsHost, line: &str);
    #[wasm_bindgen(method, catch, js_name = writeFile)]
    fn write_file(
        this: &JsHost,
        path: &str,
        contents: &str,
        replace: bool,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// Reads at most `limit` bytes of a response body from its stream, then cancels the rest
/// (memory stays bounded by `limit`, whatever the server sends): the bytes, and whether there
/// was more.
async fn read_capped(
    response: &gloo_net::http::Response,
    limit: u64,
) -> Result<(Vec<u8>, bool), JsValue> {
    let Some(stream) = response.body() else {
        return Ok((Vec::new(), false));
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if Reflect::get(&chunk, &JsValue::from_str("done"))?.is_truthy() {
            return Ok((bytes, false));
        }
        let value: js_sys::Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))?
            .dyn_into()
            .map_err(|_| JsValue::from_str("the body stream gave a non-byte chunk"))?;
        let len = value.length() as usize;
        let room = limit.saturating_sub(bytes.len());
        if len > room {
            let start = bytes.len();
            bytes.resize(start + room, 0);
            value
                .subarray(0, u32::try_from(room).unwrap_or(u32::MAX))
                .copy_to(&mut bytes[start..]);
            // Best effort: the rest of the body is not wanted.
            let _ = reader.cancel();
            return Ok((bytes, true));
        }
        let start = bytes.len();
        bytes.resize(start + len, 0);
        value.copy_to(&mut bytes[start..]);
    }
}

/// A JS error that carries one of our stable codes (a host function may throw one).
fn coded_error(value: &JsValue) -> Option<Error> {
    let code = Reflect::get(value, &JsValue::from_str("code"))
        .ok()?
        .as_string()
        .and_then(|c| crate::ErrorCode::from_wire(&c))?;
    Some(host_error(value.clone(), code))
}

/// Why a fetch failed: the error's `cause` (Node's fetch puts the network error there), else
/// its message.
fn cause_message(value: &JsValue) -> String {
    let message = |v: &JsValue| {
        Reflect::get(v, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
    };
    Reflect::get(value, &JsValue::from_str("cause"))
        .ok()
        .and_then(|c| message(&c))
        .or_else(|| message(value))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "fetch failed".to_string())
}

/// A JS failure as a core error: keeps a `.code` the host set (e.g. `STORAGE_ERROR`), else
/// `fallback`.
fn host_error(value: JsValue, fallback: crate::ErrorCode) -> Error {
    let code = Reflect::get(&value, &JsValue::from_str("code"))
        .ok()
        .and_then(|c| c.as_string())
        .and_then(|c| crate::ErrorCode::from_wire(&c))
        .unwrap_or(fallback);
    let message = Reflect::get(&value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "host call failed".to_string());
    Error::new(code, message)
}

async fn settle(
    promise: Result<js_sys::Promise, JsValue>,
    fallback: crate::ErrorCode,
) -> crate::Result<JsValue> {
    let promise = promise.map_err(|e| host_error(e, fallback))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| host_error(e, fallback))
}

struct JsHostAdapter(JsHost);

impl Host for JsHostAdapter {
    async fn fetch(&self, request: &HttpRequest) -> crate::Result<HttpResponse> {
        use gloo_net::http::{Method, RequestBuilder};
        let failed = |what: &str, e: &JsValue| {
            if let Some(coded) = coded_error(e) {
                return coded;
            }
            Error::new(
                crate::ErrorCode::TransportError,
                format!(
                    "{what}: {} {} ({})",
                    request.method,
                    request.url,
                    cause_message(e)
                ),
            )
        };
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Error::new(crate::ErrorCode::InvalidInput, "not an HTTP method"))?;
        // The whole exchange, headers and body, within the driver's timeout.
        let signal = web_sys::AbortSignal::timeout_with_u32(request.timeout_ms);
        let mut builder = RequestBuilder::new(&request.url)
            .method(method)
            .redirect(web_sys::RequestRedirect::Manual)
            .abort_signal(Some(&signal));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = match &request.body {
            Some(body) => builder.body(JsValue::from_str(body)),
            None => builder.build(),
        }
        .map_err(|e| failed("Request failed", &JsValue::from_str(&e.to_string())))?;
        let promise = self
            .0
            .fetch(built.into(), request.link)
            .map_err(|e| failed("Request failed", &e))?;
        let answer = JsFuture::from(promise)
            .await
            .map_err(|e| failed("Request failed", &e))?;
        let response: gloo_net::http::Response = answer
            .dyn_into::<web_sys::Response>()
            .map_err(|_| {
                Error::new(
                    crate::ErrorCode::TransportError,
                    "host fetch did not return a Response",
                )
            })?
            .into();
        let headers = response.headers().entries().collect();
        let (bytes, body_truncated) = read_capped(&response, request.max_body_bytes)
            .await
            .map_err(|e| failed("Reading the response failed", &e))?;
        Ok(HttpResponse {
            status: response.status(),
            headers,
            body_truncated,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    async fn storage_get(&self, key: &str) -> crate::Result<Option<String>> {
        let value = settle(self.0.storage_get(key), crate::ErrorCode::StorageError).await?;
        Ok(value.as_string())
    }

    async fn storage_set(&self, key: &str, value: &str) -> crate::Result<()> {
        settle(
            self.0.storage_set(key, value),
            crate::ErrorCode::StorageError,
        )
        .await
        .map(|_| ())
    }

    async fn storage_delete(&self, key: &str) -> crate::Result<()> {
        settle(self.0.storage_delete(key), crate::ErrorCode::StorageError)
            .await
            .map(|_| ())
    }

    fn now_ms(&self) -> i64 {
        self.0.now() as i64
    }

    async fn sleep(&self, ms: u64) {
        let _ = JsFuture::from(self.0.sleep(ms as f64)).await;
    }

    fn random(&self, len: usize) -> Vec<u8> {
        self.0.random(u32::try_from(len).unwrap_or(u32::MAX))
    }

    fn log(&self, line: &str) {
        self.0.log(line);
    }

    async fn write_file(&self, path: &str, contents: &str, replace: bool) -> crate::Result<()> {
        settle(
            self.0.write_file(path, contents, replace),
            crate::ErrorCode::OutputFileWriteError,
        )
        .await
        .map(|_| ())
    }
}

/// The driver for JS: every method returns a Promise; the TypeScript `LinkClient` wraps it.
#[wasm_bindgen(js_name = WasmClient)]
pub struct WasmClient {
    inner: Rc<Client<JsHostAdapter>>,
}

/// Calls `f` with the client and turns its result into a Promise.
fn run<F, Fut>(client: &Rc<Client<JsHostAdapter>>, f: F) -> js_sys::Promise
where
    F: FnOnce(Rc<Client<JsHostAdapter>>) -> Fut + 'static,
    Fut: std::future::Future<Output = crate::Result<Value>> + 'static,
{
    let client = client.clone();
    spawn(Box::pin(async move { f(client).await }))
}

/// The one instantiation of `future_to_promise` (its task and wrappers are generic: one per
/// method would cost the wasm ~4 KB).
fn spawn(
    future: std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<Value>>>>,
) -> js_sys::Promise {
    future_to_promise(async move { done(future.await) })
}

impl WasmClient {
    /// One Link API call as a Promise; every API method shares this one future. An `Err`
    /// (input that failed before the call) rejects the Promise, as a failed call does.
    fn call(&self, call: crate::Result<ApiCall>) -> js_sys::Promise {
        let client = self.inner.clone();
        spawn(Box::pin(async move { client.call(&call?).await }))
    }
}

/// A runner event as the JS callback sees it.
fn event_json(event: crate::runner::Event<'_>) -> Value {
    use crate::runner::Event;
    match event {
        Event::Chunk(data) => object!({ "type": "chunk", "data": data.clone() }),
        Event::Approval { label, url } => {
            object!({ "type": "approval", "label": label, "url": url })
        }
        Event::Waiting { message } => object!({ "type": "waiting", "message": message }),
        Event::Waited { ok } => object!({ "type": "waited", "ok": ok }),
        Event::Warning { message } => object!({ "type": "warning", "message": message }),
    }
}

/// A progress callback from JS (ignored when absent or not a function).
fn progress(callback: JsValue) -> impl FnMut(&Value) {
    let callback = callback.dyn_into::<js_sys::Function>().ok();
    move |value: &Value| {
        if let Some(cb) = &callback {
            let _ = cb.call1(&JsValue::NULL, &to_js(value));
        }
    }
}

#[wasm_bindgen(js_class = WasmClient)]
impl WasmClient {
    /// `config`: `{apiBaseUrl?, authBaseUrl?, accessToken?, refreshToken?, noRefresh?, hostname?,
    /// requestTimeoutMs?}`; a bad `requestTimeoutMs` is a `VALIDATION_ERROR`.
    #[wasm_bindgen(constructor)]
    pub fn new(host: JsHost, config: JsValue) -> Result<WasmClient, JsValue> {
        let config = Config::from_options(&from_js(&config)?, crate::client::Spelling::Camel)
            .map_err(js_error)?;
        Ok(WasmClient {
            inner: Rc::new(Client::new(JsHostAdapter(host), config)),
        })
    }

    #[wasm_bindgen(js_name = loginStart)]
    pub fn login_start(&self, options: JsValue) -> js_sys::Promise {
        let options = from_js(&options);
        run(&self.inner, |c| async move {
            let options = options
                .map_err(|_| Error::new(crate::ErrorCode::InvalidInput, "options are not JSON"))?;
            Ok(c.login_start(&options).await?.to_json())
        })
    }

    #[wasm_bindgen(js_name = authStatus)]
    pub fn auth_status(&self) -> js_sys::Promise {
        run(&self.inner, |c| async move { c.auth_status().await })
    }

    /// Polls the pending login; `policy` is `{interval?, max_attempts?, timeout?}` (seconds) over
    /// the runner's login-wait defaults.
    #[wasm_bindgen(js_name = loginWait)]
    pub fn login_wait(&self, policy: JsValue, on_progress: JsValue) -> js_sys::Promise {
        let policy = from_js(&policy);
        let mut on_progress = progress(on_progress);
        run(&self.inner, |c| async move {
            let policy = policy
                .map_err(|_| Error::new(crate::ErrorCode::InvalidInput, "policy is not JSON"))?;
            let policy = crate::runner::login_wait_policy(&policy)?;
            c.login_wait(&policy, &mut on_progress).await
        })
    }

    pub fn logout(&self) -> js_sys::Promise {
        run(&self.inner, |c| async move { c.logout().await })
    }

    #[wasm_bindgen(js_name = listPaymentMethods)]
    pub fn list_payment_methods(&self) -> js_sys::Promise {
        self.call(Ok(ApiCall::ListPaymentMethods))
    }

    #[wasm_bindgen(js_name = createSpendRequest)]
    pub fn create_spend_request(&self, input: JsValue) -> js_sys::Promise {
        let input = from_js(&input).unwrap_or(Value::Null);
        run(&self.inner, |c| async move {
            c.create_spend_request(&input).await
        })
    }

    #[wasm_bindgen(js_name = updateSpendRequest)]
    pub fn update_spend_request(&self, id: String, input: JsValue) -> js_sys::Promise {
        let input = from_js(&input).unwrap_or(Value::Null);
        run(&self.inner, |c| async move {
            c.update_spend_request(&id, &input).await
        })
    }

    /// `include`: an array of `card`, `shared_payment_token`, `link_pay_token`.
    #[wasm_bindgen(js_name = retrieveSpendRequest)]
    pub fn retrieve_spend_request(&self, id: String, include: JsValue) -> js_sys::Promise {
        let options = object!({ "include": from_js(&include).unwrap_or(Value::Null) });
        let include = crate::validate::options::validate_retrieve(&options).map(|o| o.include);
        self.call(include.map(|include| ApiCall::RetrieveSpendRequest(id, include)))
    }

    #[wasm_bindgen(js_name = requestApproval)]
    pub fn request_approval(&self, id: String) -> js_sys::Promise {
        self.call(Ok(ApiCall::RequestApproval(id)))
    }

    #[wasm_bindgen(js_name = cancelSpendRequest)]
    pub fn cancel_spend_request(&self, id: String) -> js_sys::Promise {
        self.call(Ok(ApiCall::CancelSpendRequest(id)))
    }

    #[wasm_bindgen(js_name = listSpendRequests)]
    pub fn list_spend_requests(&self, include_history: bool) -> js_sys::Promise {
        self.call(Ok(ApiCall::ListSpendRequests(include_history)))
    }

    /// `options`: `{interval?, max_attempts?, timeout?, include?}` over the runner's approval-wait
    /// defaults.
    #[wasm_bindgen(js_name = waitForSpendRequest)]
    pub fn wait_for_spend_request(
        &self,
        id: String,
        options: JsValue,
        on_progress: JsValue,
    ) -> js_sys::Promise {
        let options = from_js(&options).unwrap_or(Value::Null);
        let mut on_progress = progress(on_progress);
        run(&self.inner, |c| async move {
            let options = crate::runner::approval_wait_options(&options)?;
            c.wait_for(&id, &options, &mut on_progress).await
        })
    }

    /// Runs a command of the table (`spend-request create`) with its input (camelCase keys)
    /// and returns what `linkpay <command> --format json` prints; `on_event` sees
    /// `{type: "chunk", data}`, `{type: "approval", label, url}`, `{type: "waiting", message}`
    /// and `{type: "waited", ok}` as they happen. `human`: a person at a terminal runs it.
    /// `surface`: `"mcp"` when an MCP client reads the hints (tools, not command lines).
    /// `update`: the CLI's update check found a newer version (`auth status` carries it).
    pub fn run(
        &self,
        command: String,
        input: JsValue,
        human: bool,
        on_event: JsValue,
        surface: Option<String>,
        update: JsValue,
    ) -> js_sys::Promise {
        let surface = crate::commands::Surface::from_name(surface.as_deref().unwrap_or(""));
        let input = from_js(&input);
        // The CLI's update check (the browser module has none to carry, and no code for it).
        #[cfg(feature = "cli")]
        let update = from_js(&update).ok().filter(Value::is_object);
        #[cfg(not(feature = "cli"))]
        drop(update);
        let callback = on_event.dyn_into::<js_sys::Function>().ok();
        run(&self.inner, move |c| async move {
            let input = input
                .map_err(|_| Error::new(crate::ErrorCode::InvalidInput, "input is not JSON"))?;
            let mut on_event = |event: crate::runner::Event<'_>| {
                if let Some(cb) = &callback {
                    let _ = cb.call1(&JsValue::NULL, &to_js(&event_json(event)));
                }
            };
            crate::runner::run(
                &c,
                &command,
                &input,
                crate::runner::Mode {
                    human,
                    surface,
                    #[cfg(feature = "cli")]
                    update: update.as_ref(),
                    #[cfg(not(feature = "cli"))]
                    update: None,
                },
                &mut on_event,
            )
            .await
        })
    }

    /// `input`: `{url, method?, headers?, data?, spend_request_id? | context, amount?,
    /// payment_method_id?, test?, interval?, timeout?}`.
    #[wasm_bindgen(js_name = mppPay)]
    pub fn mpp_pay(&self, input: JsValue, on_progress: JsValue) -> js_sys::Promise {
        let input = from_js(&input).unwrap_or(Value::Null);
        let mut on_progress = progress(on_progress);
        run(&self.inner, |c| async move {
            c.mpp_pay(&input, &mut on_progress).await
        })
    }
}

/// `context` when it is a function (`link.fetch`'s option may be one): called with the decoded
/// challenge; a Promise it returns is awaited. Anything else gives no context.
fn ask_context(
    callback: JsValue,
) -> impl FnMut(
    &Value,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<Option<String>>>>> {
    let callback = callback.dyn_into::<js_sys::Function>().ok();
    move |challenge: &Value| {
        let called = callback
            .as_ref()
            .map(|cb| cb.call1(&JsValue::NULL, &to_js(challenge)));
        Box::pin(async move {
            let value = match called {
                None => return Ok(None),
                Some(result) => {
                    let value =
                        result.map_err(|e| host_error(e, crate::ErrorCode::InvalidInput))?;
                    JsFuture::from(js_sys::Promise::resolve(&value))
                        .await
                        .map_err(|e| host_error(e, crate::ErrorCode::InvalidInput))?
                }
            };
            Ok(value.as_string())
        })
    }
}

#[wasm_bindgen(js_class = WasmClient)]
impl WasmClient {
    /// `link.fetch`: the merchant's answer to a request (`status`, `headers` as `[name, value]`
    /// pairs) to `url`; resolves to the credential `{header, value}` to send the request once
    /// more with, or `null` to return the answer untouched. `options`: snake_case
    /// `{context?, max_amount?, max_total?, allow_realms?, payment_method_id?, interval?,
    /// timeout?}`; `context` may instead be a function of the decoded challenge.
    #[wasm_bindgen(js_name = paymentFor)]
    pub fn payment_for(
        &self,
        url: String,
        status: u16,
        headers: JsValue,
        options: JsValue,
        context: JsValue,
        on_approval: JsValue,
    ) -> js_sys::Promise {
        let headers = from_js(&headers).unwrap_or(Value::Null);
        let options = from_js(&options).unwrap_or(Value::Null);
        let mut ask = ask_context(context);
        let mut on_approval = progress(on_approval);
        run(&self.inner, move |c| async move {
            let options = crate::validate::mpp::validate_fetch_options(&options)?;
            // `[name, value]` pairs; anything else is not a header.
            let pairs = headers
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|pair| match pair.as_array()?.as_slice() {
                    [name, value] => {
                        Some((name.as_str()?.to_string(), value.as_str()?.to_string()))
                    }
                    _ => None,
                })
                .collect();
            let response = HttpResponse {
                status,
                headers: pairs,
                body: String::new(),
                body_truncated: false,
            };
            let credential = c
                .payment_for(&url, &response, &options, &mut ask, &mut on_approval)
                .await?;
            Ok(credential.map_or(
                Value::Null,
                |c| object!({ "header": c.header, "value": c.value }),
            ))
        })
    }

    /// The mppx method's `createToken` (`link.createSharedPaymentToken`): `params` are mppx's
    /// (`{challenge, amount, currency, networkId, paymentMethod?}`); resolves to the shared
    /// payment token the person approved. `options` and `context` as for `paymentFor`.
    #[wasm_bindgen(js_name = sharedPaymentToken)]
    pub fn shared_payment_token(
        &self,
        params: JsValue,
        options: JsValue,
        context: JsValue,
        on_approval: JsValue,
    ) -> js_sys::Promise {
        let params = from_js(&params).unwrap_or(Value::Null);
        let options = from_js(&options).unwrap_or(Value::Null);
        let mut ask = ask_context(context);
        let mut on_approval = progress(on_approval);
        run(&self.inner, move |c| async move {
            let options = crate::validate::mpp::validate_fetch_options(&options)?;
            let spt = c
                .shared_payment_token(&params, &options, &mut ask, &mut on_approval)
                .await?;
            Ok(Value::String(spt))
        })
    }
}

/// Paid MCP tool calls (Node module only: the browser module has no room for them).
#[cfg(feature = "cli")]
#[wasm_bindgen(js_class = WasmClient)]
impl WasmClient {
    /// `payMcp` and `mcp proxy`: `response` is the MCP server's JSON-RPC answer to
    /// `tools/call` (`{error: {code, message, data}}` or `{result}`), `call` the call's params;
    /// resolves to the params to call again with (`call` with the credential object in
    /// `_meta["org.paymentauth/credential"]`), or `null` when the answer asks for no payment
    /// linkpay makes. `server_url`: the server's URL
    /// when it has one (the realm is checked against its host). `options` and `context` as for
    /// `paymentFor`.
    #[wasm_bindgen(js_name = mcpPayment)]
    pub fn mcp_payment(
        &self,
        response: JsValue,
        call: JsValue,
        server_url: Option<String>,
        options: JsValue,
        context: JsValue,
        on_approval: JsValue,
    ) -> js_sys::Promise {
        let response = from_js(&response).unwrap_or(Value::Null);
        let call = from_js(&call).unwrap_or(Value::Null);
        let options = from_js(&options).unwrap_or(Value::Null);
        let mut ask = ask_context(context);
        let mut on_approval = progress(on_approval);
        run(&self.inner, move |c| async move {
            let options = crate::validate::mpp::validate_fetch_options(&options)?;
            let credential = c
                .mcp_payment(
                    &response,
                    &call,
                    server_url.as_deref(),
                    &options,
                    &mut ask,
                    &mut on_approval,
                )
                .await?;
            Ok(credential.map_or(Value::Null, |c| crate::mpp::mcp::with_credential(&call, c)))
        })
    }
}

/// `mcpReceiptOf`: the receipt of a paid MCP tool result (`_meta["org.paymentauth/receipt"]`),
/// sanitized, or `null`.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = mcpReceipt)]
pub fn mcp_receipt(result: JsValue) -> JsResult {
    let result = from_js(&result)?;
    Ok(to_js(
        &crate::mpp::mcp::receipt(&result).unwrap_or(Value::Null),
    ))
}

// ---------------------------------------------------------------------------------------------
// CLI/MCP side (feature `cli`, Node module only): the command table (`src/commands.rs`).
// ---------------------------------------------------------------------------------------------

/// The command table as JSON text: names, descriptions, input schemas and flags; only the
/// command `name` (or none) when given.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = commandTable)]
pub fn command_table(name: Option<String>) -> String {
    crate::json_text(&match name {
        Some(name) => crate::commands::table_of(&name),
        None => crate::commands::table(),
    })
}

/// `--filter-output <paths>`: the parts of a command's output the paths name.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = filterOutput)]
pub fn filter_output(value: JsValue, expression: &str) -> JsResult {
    let value = from_js(&value)?;
    Ok(to_js(&crate::commands::filter_output(&value, expression)))
}

/// `linkpay completions <shell>`: the completion script for the command table.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = completionScript)]
pub fn completion_script(shell: &str) -> JsResult {
    done(crate::commands::completion_script(shell).map(Value::String))
}

/// `linkpay mcp add`/`mcp doctor`: the agent hosts' MCP config files, for `env`
/// (`{home, configHome?, platform, appData?, cwd}`), global or the project's, only `agents` when
/// not empty: `[{id, name, path, key, detect[]}]`.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = mcpHosts)]
pub fn mcp_hosts(env: JsValue, project: bool, agents: Vec<String>) -> JsResult {
    let env = crate::agent_host::Env::from_json(&from_js(&env)?);
    done(crate::agent_host::mcp_hosts(&env, project, &agents))
}

/// `linkpay mcp add`: a host's config text with linkpay registered (unchanged when it already is).
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = mcpConfigWith)]
pub fn mcp_config_with(existing: &str, host: &str, project: bool, command: &str) -> JsResult {
    done(crate::agent_host::mcp_config_with(existing, host, project, command).map(Value::String))
}

/// `linkpay mcp doctor`: linkpay's entry in a host's config text, `{registered, command?}`.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = mcpRegistration)]
pub fn mcp_registration(existing: &str, host: &str, project: bool) -> JsResult {
    done(crate::agent_host::mcp_registration(existing, host, project))
}

/// `linkpay skills add`/`skills list`: the directories a skill goes to, `[{agent, dir, detect}]`.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = skillDirs)]
pub fn skill_dirs(env: JsValue, project: bool, skill: &str) -> JsResult {
    let env = crate::agent_host::Env::from_json(&from_js(&env)?);
    done(crate::agent_host::skill_dirs(&env, project, skill))
}

/// Checks a command's input (camelCase keys) before any request; returns it in the core's
/// vocabulary, or throws one `VALIDATION_ERROR` naming the input's keys.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = validateCommandInput)]
pub fn validate_command_input(name: &str, input: JsValue, now_seconds: f64) -> JsResult {
    done(crate::commands::validate_input(
        name,
        &from_js(&input)?,
        int(now_seconds),
    ))
}

/// The CLI's update check (`src/update.rs` `check`): `{env, cache, now_ms, notice}` in;
/// `{update?, notice?, refresh, schedule?, registry_url?}` out.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = updateCheck)]
pub fn update_check(input: JsValue) -> JsResult {
    Ok(to_js(&crate::update::check(&from_js(&input)?)))
}

/// The registry's answer as the cache text to write, or null (garbage: write nothing).
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = updateRefreshed)]
pub fn update_refreshed(body: &str, now_ms: f64) -> Option<String> {
    crate::update::refreshed(body, int(now_ms))
}

/// The URL the detached refresh asks (`LINKPAY_UPDATE_REGISTRY`, `npm_config_registry`, npm's).
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = updateRegistryUrl)]
pub fn update_registry_url(env: JsValue) -> JsResult {
    Ok(to_js(&Value::String(crate::update::registry_url(
        &from_js(&env)?,
    ))))
}

/// `linkpay --update`: `{current_version, latest_version?, update_command}`.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = updatePlan)]
pub fn update_plan(cache: Option<String>) -> JsResult {
    Ok(to_js(&crate::update::plan(cache.as_deref())))
}

/// `LINK_HTTP_PROXY`'s value checked (an http(s) URL of a proxy), or `VALIDATION_ERROR`.
#[cfg(feature = "cli")]
#[wasm_bindgen(js_name = validateProxyUrl)]
pub fn validate_proxy_url(url: &str) -> JsResult {
    done(crate::validate::validate_proxy_url(url).map(Value::String))
}
