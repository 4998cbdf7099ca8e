#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

//! A scripted [`Host`] for driving `linkpay::client::Client` natively: canned answers queued per
//! route (method + path), a manual clock that only `sleep` (and an optional per-request
//! latency) moves, every request recorded with the clock time it was sent at, memory storage and
//! deterministic randomness. Nothing waits for real, so a ten-minute poll runs in microseconds.

use linkpay::client::{Client, Config, DEFAULT_REQUEST_TIMEOUT_MS};
use linkpay::host::{Host, HttpRequest, HttpResponse};
use linkpay::{Error, ErrorCode, Result};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// 2026-01-01T00:00:00Z, where every scripted clock starts.
pub const T0: i64 = 1_767_225_600_000;

/// One canned answer of a route.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP answer (any status).
    Http(HttpResponse),
    /// The host's fetch fails: `TRANSPORT_ERROR`.
    Transport,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::Http(HttpResponse {
            body_truncated: false,
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
        })
    }

    /// An answer with these headers and a text body.
    pub fn with_headers(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        Reply::Http(HttpResponse {
            body_truncated: false,
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        })
    }
}

/// A request as the host saw it.
#[derive(Clone, Debug)]
pub struct Sent {
    pub method: String,
    pub url: String,
    /// The URL's path, without scheme, host and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The manual clock when the request was sent, in ms since [`T0`].
    pub at: i64,
    pub timeout_ms: u32,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `"POST /device/token"`.
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The form field `key` of a form-encoded body (values compared raw, not decoded).
    pub fn form(&self, key: &str) -> Option<String> {
        self.body.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| v.to_string())
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(self.body.as_deref().unwrap_or("null")).unwrap()
    }
}

#[derive(Default)]
struct Inner {
    now_ms: i64,
    latency_ms: i64,
    routes: HashMap<String, VecDeque<Reply>>,
    sent: Vec<Sent>,
    sleeps: Vec<u64>,
    storage: BTreeMap<String, String>,
    seed: u64,
    logs: Vec<String>,
    /// `fetch` and `sleep` give way once before they finish, so that futures run together
    /// ([`run_all`]) interleave as they would on a real event loop.
    yielding: bool,
    /// Writes another process makes at a clock time (ms since [`T0`]): `None` deletes.
    scheduled: Vec<(i64, String, Option<String>)>,
}

impl Inner {
    /// Applies the scheduled writes that are due.
    fn settle(&mut self) {
        let now = self.now_ms - T0;
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.scheduled)
            .into_iter()
            .partition(|(at, _, _)| *at <= now);
        self.scheduled = later;
        for (_, key, value) in due {
            match value {
                Some(value) => self.storage.insert(key, value),
                None => self.storage.remove(&key),
            };
        }
    }
}

/// Pending once, then ready: gives the other futures of a [`run_all`] their turn.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// The scripted host. Routes are `"METHOD /path"`; each keeps a queue of replies, the last of
/// which is repeated once the others are used. An unscripted request fails the test.
pub struct ScriptedHost(RefCell<Inner>);

impl Default for ScriptedHost {
    fn default() -> Self {
        ScriptedHost(RefCell::new(Inner {
            now_ms: T0,
            seed: 0x9e37_79b9_7f4a_7c15,
            ..Inner::default()
        }))
    }
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/").to_string()
}

impl ScriptedHost {
    /// Queues `replies` on `route` (`"GET /spend_requests/lsrq_1"`), after any already there.
    pub fn on(&self, route: &str, replies: impl IntoIterator<Item = Reply>) -> &Self {
        self.0
            .borrow_mut()
            .routes
            .entry(route.to_string())
            .or_default()
            .extend(replies);
        self
    }

    /// `fetch` and `sleep` yield once (see [`run_all`]).
    pub fn yielding(&self) -> &Self {
        self.0.borrow_mut().yielding = true;
        self
    }

    /// Another process writes `value` (`None`: deletes) under `key` once the clock reaches
    /// `at_ms` since [`T0`].
    pub fn schedule_store(&self, at_ms: i64, key: &str, value: Option<&Value>) -> &Self {
        self.0
            .borrow_mut()
            .scheduled
            .push((at_ms, key.to_string(), value.map(Value::to_string)));
        self
    }

    /// Every request takes this long (the clock moves while it is in flight).
    pub fn latency(&self, ms: i64) -> &Self {
        self.0.borrow_mut().latency_ms = ms;
        self
    }

    /// Ms since [`T0`].
    pub fn elapsed(&self) -> i64 {
        self.0.borrow().now_ms - T0
    }

    /// Moves the clock without a `sleep` (time passing between two commands).
    pub fn advance(&self, ms: i64) {
        let mut inner = self.0.borrow_mut();
        inner.now_ms += ms;
        inner.settle();
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.0.borrow().sent.clone()
    }

    /// The requests' routes, in order.
    pub fn routes(&self) -> Vec<String> {
        self.sent().iter().map(Sent::route).collect()
    }

    /// The requests to one route.
    pub fn sent_to(&self, route: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.route() == route)
            .collect()
    }

    /// Forgets the requests sent so far (the clock and storage stay).
    pub fn clear_sent(&self) {
        self.0.borrow_mut().sent.clear();
    }

    pub fn sleeps(&self) -> Vec<u64> {
        self.0.borrow().sleeps.clone()
    }

    pub fn logs(&self) -> Vec<String> {
        self.0.borrow().logs.clone()
    }

    pub fn stored(&self, key: &str) -> Option<Value> {
        self.0
            .borrow()
            .storage
            .get(key)
            .map(|text| serde_json::from_str(text).unwrap())
    }

    pub fn store(&self, key: &str, value: &Value) -> &Self {
        self.0
            .borrow_mut()
            .storage
            .insert(key.to_string(), value.to_string());
        self
    }
}

impl Host for ScriptedHost {
    async fn fetch(&self, request: &HttpRequest) -> Result<HttpResponse> {
        let yielding = self.0.borrow().yielding;
        if yielding {
            YieldNow(false).await;
        }
        let mut inner = self.0.borrow_mut();
        let path = path_of(&request.url);
        let sent = Sent {
            method: request.method.clone(),
            url: request.url.clone(),
            path,
            headers: request.headers.clone(),
            body: request.body.clone(),
            at: inner.now_ms - T0,
            timeout_ms: request.timeout_ms,
        };
        let route = sent.route();
        inner.sent.push(sent);
        inner.now_ms += inner.latency_ms;
        inner.settle();
        let Some(queue) = inner.routes.get_mut(&route) else {
            panic!("unscripted request {route} ({})", request.url);
        };
        let reply = if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().cloned()
        };
        match reply {
            // The host contract: at most `max_body_bytes` of the body, and say when cut.
            Some(Reply::Http(mut response)) => {
                let limit = usize::try_from(request.max_body_bytes).unwrap();
                if response.body.len() > limit {
                    let mut end = limit;
                    while !response.body.is_char_boundary(end) {
                        end -= 1;
                    }
                    response.body.truncate(end);
                    response.body_truncated = true;
                }
                Ok(response)
            }
            Some(Reply::Transport) => Err(Error::new(
                ErrorCode::TransportError,
                "connection reset (scripted)",
            )),
            None => panic!("route {route} has no replies left"),
        }
    }

    async fn storage_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.0.borrow().storage.get(key).cloned())
    }

    async fn storage_set(&self, key: &str, value: &str) -> Result<()> {
        self.0
            .borrow_mut()
            .storage
            .insert(key.to_string(), value.to_string());
        Ok(())
    }

    async fn storage_delete(&self, key: &str) -> Result<()> {
        self.0.borrow_mut().storage.remove(key);
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.0.borrow().now_ms
    }

    async fn sleep(&self, ms: u64) {
        let yielding = {
            let mut inner = self.0.borrow_mut();
            inner.sleeps.push(ms);
            inner.now_ms += i64::try_from(ms).unwrap();
            inner.settle();
            inner.yielding
        };
        if yielding {
            YieldNow(false).await;
        }
    }

    fn random(&self, len: usize) -> Vec<u8> {
        // splitmix64: deterministic, and different on every call.
        let mut inner = self.0.borrow_mut();
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            inner.seed = inner.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = inner.seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            out.extend_from_slice(&z.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn log(&self, line: &str) {
        self.0.borrow_mut().logs.push(line.to_string());
    }
}

/// The configuration the scenarios use: the real Link endpoints (nothing leaves the process),
/// default retries and timeout.
pub fn config() -> Config {
    Config {
        endpoints: linkpay::api::Endpoints::new(None, None),
        hostname: "testhost".into(),
        request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
        ..Config::default()
    }
}

/// A client over a fresh scripted host.
pub fn client() -> Client<ScriptedHost> {
    Client::new(ScriptedHost::default(), config())
}

/// Runs a driver future to completion on this thread (the scripted host never blocks).
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}

/// One scripted host (server, clock, storage) shared by several clients: processes that share
/// a credential file and talk to the same server.
#[derive(Clone)]
pub struct Shared(pub Rc<ScriptedHost>);

impl Host for Shared {
    async fn fetch(&self, request: &HttpRequest) -> Result<HttpResponse> {
        self.0.fetch(request).await
    }
    async fn storage_get(&self, key: &str) -> Result<Option<String>> {
        self.0.storage_get(key).await
    }
    async fn storage_set(&self, key: &str, value: &str) -> Result<()> {
        self.0.storage_set(key, value).await
    }
    async fn storage_delete(&self, key: &str) -> Result<()> {
        self.0.storage_delete(key).await
    }
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
    async fn sleep(&self, ms: u64) {
        self.0.sleep(ms).await
    }
    fn random(&self, len: usize) -> Vec<u8> {
        self.0.random(len)
    }
    fn log(&self, line: &str) {
        self.0.log(line)
    }
}

/// Runs driver futures together on this thread (each polled in turn until all are done) and
/// returns their outputs in order: concurrent calls, as `Promise.all` makes them.
pub fn run_all<'a, T: Unpin>(futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>) -> Vec<T> {
    struct JoinAll<'a, T> {
        futures: Vec<Option<Pin<Box<dyn Future<Output = T> + 'a>>>>,
        outputs: Vec<Option<T>>,
    }
    impl<T: Unpin> Future for JoinAll<'_, T> {
        type Output = Vec<T>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
            let this = self.get_mut();
            for (slot, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
                if let Some(future) = slot
                    && let Poll::Ready(value) = future.as_mut().poll(cx)
                {
                    *output = Some(value);
                    *slot = None;
                }
            }
            if this.futures.iter().all(Option::is_none) {
                Poll::Ready(this.outputs.iter_mut().map(|o| o.take().unwrap()).collect())
            } else {
                Poll::Pending
            }
        }
    }
    let outputs = futures.iter().map(|_| None).collect();
    pollster::block_on(JoinAll {
        futures: futures.into_iter().map(Some).collect(),
        outputs,
    })
}
