//! The command runner: a command's name and input in; the agent-facing output out.
//!
//! The only place a command's behaviour lives. The CLI (`linkpay <command>`), the MCP tools,
//! `LinkClient.run` and the WIT `client.run` all call [`run`]: it checks the input with the
//! command table's rules ([`commands::parse_input`], before any request), runs the typed command
//! on the driver, and returns exactly what `linkpay <command> --format json` prints: one value,
//! or for a streaming command the array of its chunks, with the reference client's
//! `instruction` and `_next` hints, the card summary and every default. While it runs, it tells
//! its caller what a terminal would show ([`Event`]): each chunk as it comes, an approval URL,
//! a wait starting and ending. What only a host can do (print, draw a QR code or a spinner,
//! write the card file) stays in the host.

use crate::client::{ApiCall, Client, LoginStart};
use crate::commands::{self, Parsed, Typed};
use crate::error::{Error, ErrorCode, Result};
use crate::host::Host;
use crate::poll::{LOGIN_TIMEOUT_S, Policy, SPEND_REQUEST_TIMEOUT_S};
use crate::spend_request::{self, RETRIEVE_INTERVAL_S, Status, ToJson};
use crate::validate::options::{Include, RetrieveOptions, Seconds};
use serde_json::{Map, Value};

/// `auth status --interval 5 --max-attempts 60`: the login poll the reference tells agents to run.
pub const AUTH_STATUS_INTERVAL_S: u32 = 5;
/// See [`AUTH_STATUS_INTERVAL_S`].
pub const AUTH_STATUS_MAX_ATTEMPTS: u32 = 60;
/// Seconds between login polls when a person at a terminal waits without giving `--interval`.
pub const HUMAN_LOGIN_INTERVAL_S: u32 = 2;
/// Where a person adds a payment method (`payment-methods add`).
pub const WALLET_URL: &str = "https://app.link.com/wallet";

/// `given` (`{interval?, max_attempts?, timeout?}`, seconds) over the defaults of waiting for a
/// login: every [`AUTH_STATUS_INTERVAL_S`] s for up to 300 s (`LinkClient.auth.wait()`).
pub fn login_wait_policy(given: &Value) -> Result<Policy> {
    let mut policy = object!({
        "interval": AUTH_STATUS_INTERVAL_S,
        "timeout": LOGIN_TIMEOUT_S,
    });
    merge_given(&mut policy, given);
    Policy::decode(&policy)
}

/// `given` (`{interval?, max_attempts?, timeout?, include?}`) over the defaults of waiting for
/// an approval: every [`RETRIEVE_INTERVAL_S`] s for up to 600 s (`spendRequests.waitFor()`).
pub fn approval_wait_options(given: &Value) -> Result<RetrieveOptions> {
    let mut options = object!({
        "interval": RETRIEVE_INTERVAL_S,
        "timeout": SPEND_REQUEST_TIMEOUT_S,
    });
    merge_given(&mut options, given);
    crate::validate::options::validate_retrieve(&options)
}

fn merge_given(defaults: &mut Value, given: &Value) {
    if let (Some(into), Some(from)) = (defaults.as_object_mut(), given.as_object()) {
        for (k, v) in from {
            if !v.is_null() {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// What a running command tells its caller, in order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event<'a> {
    /// One chunk of a streaming command's output (jsonl and toon print it at once; MCP sends
    /// it as a progress notification). Non-streaming commands send none.
    Chunk(&'a Value),
    /// A person at a terminal should open `url` now (the CLI shows it with a QR code).
    Approval { label: &'a str, url: &'a str },
    /// The command starts waiting for the person (the CLI starts a spinner).
    Waiting { message: &'a str },
    /// The wait ended, successfully or not (the CLI stops the spinner).
    Waited { ok: bool },
    /// Something the person should know that does not stop the command (the CLI prints it on
    /// stderr; it is in the output too).
    Warning { message: &'a str },
}

/// How the command is run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mode<'u> {
    /// A person at a terminal runs it: logins and approvals are waited for in the same command
    /// instead of ending with a `_next` hint for an agent.
    pub human: bool,
    /// Who reads the hints: over MCP they name tools and their arguments, not command lines.
    pub surface: commands::Surface,
    /// A newer linkpay is published (the CLI's update check, `crate::update::check`):
    /// `{current_version, latest_version, update_command}`, which `auth status` carries.
    pub update: Option<&'u Value>,
}

/// Runs the command `name` (`spend-request create`, or its tool name `spend-request_create`)
/// with `input` (camelCase keys as in the command table, or the core's snake_case spelling).
/// Returns what `--format json` prints. Input errors are one `VALIDATION_ERROR` with every
/// field path, before any request.
pub async fn run<H: Host>(
    client: &Client<H>,
    name: &str,
    input: &Value,
    mode: Mode<'_>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Value> {
    let now_s = client.host().now_ms().div_euclid(1000);
    let parsed = commands::parse_input(name, input, now_s)?;
    if !parsed.command.mcp {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "'{}' runs only from the linkpay command line",
                parsed.command.name
            ),
        ));
    }
    let streaming = parsed.command.streaming;
    let mut out = Output {
        chunks: Vec::new(),
        streaming,
        surface: mode.surface,
        on_event,
    };
    Runner {
        client,
        mode,
        out: &mut out,
    }
    .run(parsed)
    .await
    .map_err(|mut e| {
        if commands::SERVES_MCP && mode.surface == commands::Surface::Mcp {
            e.message = commands::for_surface(&e.message, mode.surface);
        }
        e
    })?;
    Ok(out.finish())
}

/// The chunks a command yielded, told to the caller as they come.
struct Output<'e> {
    chunks: Vec<Value>,
    streaming: bool,
    surface: commands::Surface,
    on_event: &'e mut dyn FnMut(Event<'_>),
}

impl Output<'_> {
    fn emit(&mut self, mut value: Value) {
        // Our own texts (`message`, `instruction`, `warning`) may name a command line.
        if commands::SERVES_MCP
            && self.surface == commands::Surface::Mcp
            && let Some(map) = value.as_object_mut()
        {
            for key in ["message", "instruction", "warning"] {
                if let Some(Value::String(text)) = map.get_mut(key) {
                    *text = commands::for_surface(text, self.surface);
                }
            }
        }
        if self.streaming {
            (self.on_event)(Event::Chunk(&value));
        }
        self.chunks.push(value);
    }

    fn event(&mut self, event: Event<'_>) {
        (self.on_event)(event);
    }

    fn finish(mut self) -> Value {
        if self.streaming {
            Value::Array(self.chunks)
        } else {
            self.chunks.pop().unwrap_or(Value::Null)
        }
    }
}

struct Runner<'c, 'o, 'e, 'u, H: Host> {
    client: &'c Client<H>,
    mode: Mode<'u>,
    out: &'o mut Output<'e>,
}

/// A spend request's id, or `INVALID_RESPONSE`.
fn id_of(spend_request: &Value) -> Result<String> {
    spend_request
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::new(ErrorCode::InvalidResponse, "Spend request has no id"))
}

/// The spend request's status; one this client does not know is `None` (and is treated as
/// not yet decided).
fn status_of(spend_request: &Value) -> Option<Status> {
    Status::parse(spend_request.get("status")?.as_str()?).ok()
}

/// An `auth status` object with `update` in it, before `pending` (as the reference orders it).
/// Only the CLI's update check supplies one: the browser module leaves this out.
#[cfg(any(feature = "cli", not(target_arch = "wasm32")))]
fn with_update(status: Value, update: Option<&Value>) -> Value {
    let (Some(update), Value::Object(map)) = (update, &status) else {
        return status;
    };
    let mut out = Map::new();
    for (k, v) in map {
        if k == "pending" {
            out.insert("update".into(), update.clone());
        }
        out.insert(k.clone(), v.clone());
    }
    if !out.contains_key("update") {
        out.insert("update".into(), update.clone());
    }
    Value::Object(out)
}

#[cfg(not(any(feature = "cli", not(target_arch = "wasm32"))))]
fn with_update(status: Value, _update: Option<&Value>) -> Value {
    status
}

/// `{...value, key: extra}` for an object; other values unchanged.
fn with(mut value: Value, key: &str, extra: Value) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.insert(key.to_string(), extra);
    }
    value
}

fn number(core: &Map<String, Value>, key: &str, default: f64) -> f64 {
    core.get(key).and_then(Value::as_f64).unwrap_or(default)
}

/// The shell spelling of one argument (single quotes; `'` as `'\''`).
/// The card file `--output-file` asked for: the path (absolute: the host resolves it before the
/// call) and whether an existing file may be replaced.
struct CardFile {
    path: String,
    force: bool,
}

fn card_file(core: &Map<String, Value>) -> Option<CardFile> {
    Some(CardFile {
        path: core.get("output_file")?.as_str()?.to_string(),
        force: core.get("force").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// brand, last4 and expiry of a card; never its number or CVC.
fn card_summary(card: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    if let Some(brand) = card.get("brand") {
        out.insert("brand".into(), brand.clone());
    }
    let last4 = match card.get("last4").and_then(Value::as_str) {
        Some(last4) => last4.to_string(),
        None => {
            let number = card.get("number").and_then(Value::as_str).unwrap_or("");
            let start = number.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
            number[start..].to_string()
        }
    };
    out.insert("last4".into(), last4.into());
    for key in ["exp_month", "exp_year"] {
        if let Some(v) = card.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// The API call of a command whose output is that call's answer.
fn api_call(name: &str, typed: Typed, core: &Map<String, Value>) -> Option<ApiCall> {
    Some(match (name, typed) {
        ("payment-methods list", _) => ApiCall::ListPaymentMethods,
        ("shipping-address list", _) => ApiCall::ListShippingAddresses,
        ("user-info retrieve", _) => ApiCall::RetrieveUserInfo,
        ("transactions list", Typed::Page(query)) => ApiCall::ListTransactions(query),
        ("sources list", Typed::Page(query)) => ApiCall::ListSources(query),
        ("balances list", Typed::Page(query)) => ApiCall::ListBalances(query),
        ("report", Typed::Report(report)) => ApiCall::Report(report),
        ("spend-request update", Typed::Update(id, update)) => {
            ApiCall::UpdateSpendRequest(id, update)
        }
        ("spend-request cancel", Typed::Id(id)) => ApiCall::CancelSpendRequest(id),
        ("spend-request list", _) => ApiCall::ListSpendRequests(
            core.get("include_history")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        _ => return None,
    })
}

/// One command's future, on its own: each command is a separate future (and function) that only
/// its command compiles and runs. In one `async fn` with a `match`, every command's states were
/// one function of ~25 KB that wasm engines compile (lazily, at its first call) at every start,
/// whichever command runs (`node npm/bench/cli-cold.mjs`).
type CommandFuture<'r> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'r>>;

impl<H: Host> Runner<'_, '_, '_, '_, H> {
    async fn run(&mut self, parsed: Parsed) -> Result<()> {
        self.start(parsed).await
    }

    fn start(&mut self, parsed: Parsed) -> CommandFuture<'_> {
        let Parsed {
            command,
            core,
            typed,
            given,
        } = parsed;
        let client = self.client;
        match (command.name, typed) {
            ("auth login", Typed::Login(options)) => Box::pin(async move {
                let started = client.login_start_with(&options).await?;
                self.login(started, &core).await
            }),
            ("auth upgrade", Typed::Login(options)) => Box::pin(async move {
                let (pending, warning) = client.login_upgrade(&options).await?;
                if let Some(warning) = warning {
                    self.out.event(Event::Warning { message: warning });
                }
                self.login_with(LoginStart::Pending(pending), &core, warning)
                    .await
            }),
            ("auth logout", _) => Box::pin(async move {
                let value = client.logout().await?;
                self.out.emit(value);
                Ok(())
            }),
            ("auth status", _) => Box::pin(async move {
                let update = self.mode.update;
                self.status_loop(&core, number(&core, "interval", 0.0), update)
                    .await
            }),
            ("payment-methods add", _) => {
                // No API call: the person adds payment methods in the Link wallet.
                self.out.emit(object!({ "url": WALLET_URL }));
                Box::pin(std::future::ready(Ok(())))
            }
            ("mpp decode", _) => {
                let challenge = core.get("challenge").and_then(Value::as_str).unwrap_or("");
                let decoded = crate::codec::decode_stripe_challenge(
                    &[challenge.to_string()],
                    client.host().now_ms(),
                    None,
                );
                Box::pin(std::future::ready(
                    decoded.map(|value| self.out.emit(value)),
                ))
            }
            ("spend-request create", Typed::Create(request)) => Box::pin(async move {
                let request_approval = request.request_approval;
                let sr = client.call(&ApiCall::CreateSpendRequest(request)).await?;
                self.created(sr, request_approval, &core).await
            }),
            ("spend-request retrieve", Typed::Retrieve(id, options)) => {
                Box::pin(async move { self.retrieve(&id, &options, &core).await })
            }
            ("spend-request request-approval", Typed::Id(id)) => Box::pin(async move {
                let answer = client.call(&ApiCall::RequestApproval(id.clone())).await?;
                self.approval_requested(&id, answer).await
            }),
            ("mpp pay", Typed::Pay(pay)) => {
                let interval_given = given.contains(&"interval");
                Box::pin(async move { self.pay(*pay, interval_given).await })
            }
            (name, typed) => match api_call(name, typed, &core) {
                // The commands that are one API call, its answer their output: one future.
                Some(call) => Box::pin(async move {
                    let value = client.call(&call).await?;
                    self.out.emit(value);
                    Ok(())
                }),
                None => Box::pin(std::future::ready(Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!("'{name}' cannot run here"),
                )))),
            },
        }
    }

    // ------------------------------------------------------------------ auth

    async fn login(&mut self, started: LoginStart, core: &Map<String, Value>) -> Result<()> {
        self.login_with(started, core, None).await
    }

    /// [`Self::login`]; `warning` (an upgrade's) leads its first chunk.
    async fn login_with(
        &mut self,
        started: LoginStart,
        core: &Map<String, Value>,
        warning: Option<&str>,
    ) -> Result<()> {
        let lead = |mut chunk: Value| {
            if let (Some(w), Value::Object(map)) = (warning, &chunk) {
                let mut out = Map::new();
                out.insert("warning".into(), Value::from(w));
                out.extend(map.clone());
                chunk = Value::Object(out);
            }
            chunk
        };
        let pending = match started {
            LoginStart::AlreadyAuthenticated => {
                let done = started.to_json();
                self.out.emit(object!({
                    "authenticated": true,
                    "message": done.get("message").cloned().unwrap_or(Value::Null),
                }));
                return Ok(());
            }
            LoginStart::Pending(pending) => pending,
        };
        let url = crate::sanitize::for_display(&pending.verification_url);
        let phrase = crate::sanitize::for_display(&pending.phrase);
        let present = format!(
            "Present the verification_url to the user and tell them to approve the connection in Link, checking that the phrase \"{phrase}\" matches."
        );
        let interval = number(core, "interval", 0.0);
        if interval <= 0.0 && !self.mode.human {
            let status = commands::invocation(
                self.mode.surface,
                "auth status",
                &[
                    ("interval", AUTH_STATUS_INTERVAL_S.into()),
                    ("maxAttempts", AUTH_STATUS_MAX_ATTEMPTS.into()),
                ],
            );
            self.out.emit(lead(object!({
                "verification_url": url,
                "phrase": phrase,
                "instruction": format!("{present} Then call `{status}` to wait until authenticated is true."),
                "_next": object!({
                    "command": status,
                    "poll_interval_seconds": pending.interval,
                    "until": "authenticated is true",
                }),
            })));
            return Ok(());
        }
        self.out.emit(lead(object!({
            "verification_url": url.clone(),
            "phrase": phrase.clone(),
            "instruction": format!("{present} Polling has started automatically; wait for authenticated to be true."),
        })));
        let label = format!("Approve this login (phrase \"{phrase}\")");
        self.out.event(Event::Approval {
            label: &label,
            url: &url,
        });
        let interval = if interval > 0.0 {
            interval
        } else {
            f64::from(HUMAN_LOGIN_INTERVAL_S)
        };
        self.status_loop(core, interval, None).await
    }

    /// `auth status`: the session as it stands; with an interval, then the login's progress
    /// until it is approved. Running out of polls is not a failure (as the reference): the
    /// last status is the result.
    /// `update` (`auth status` only, as the reference) goes in every status, before `pending`.
    async fn status_loop(
        &mut self,
        core: &Map<String, Value>,
        interval: f64,
        update: Option<&Value>,
    ) -> Result<()> {
        let mut status = self.client.auth_status().await?;
        if let Some(map) = status.as_object_mut() {
            map.remove("next_poll_at_ms");
        }
        let tell = |s: Value| with_update(s, update);
        let status = tell(status);
        let done = status.get("authenticated") == Some(&Value::Bool(true))
            || status.get("pending") != Some(&Value::Bool(true));
        if interval <= 0.0 || done {
            self.out.emit(status);
            return Ok(());
        }
        self.out.emit(status.clone());
        let policy = Policy {
            interval,
            max_attempts: u32::try_from(
                core.get("max_attempts")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            )
            .unwrap_or(u32::MAX),
            timeout: number(core, "timeout", LOGIN_TIMEOUT_S),
        };
        let mut last = status.clone();
        self.begin_wait("Waiting for you to approve the login…");
        let result = {
            let out = &mut *self.out;
            let last = &mut last;
            self.client
                .login_wait(&policy, &mut |s: &Value| {
                    let s = tell(s.clone());
                    if s != status {
                        out.emit(s.clone());
                    }
                    *last = s;
                })
                .await
        };
        self.end_wait(result.is_ok());
        match result {
            Ok(value) => self.out.emit(tell(value)),
            Err(e) if e.code == ErrorCode::PollingTimeout => self.out.emit(last),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn begin_wait(&mut self, message: &str) {
        if self.mode.human {
            self.out.event(Event::Waiting { message });
        }
    }

    fn end_wait(&mut self, ok: bool) {
        if self.mode.human {
            self.out.event(Event::Waited { ok });
        }
    }

    // ------------------------------------------------------------------ spend requests

    /// The poll an agent runs while spend request `id` waits in `status`, as this surface calls it.
    fn retrieve_hint(&self, id: &str, status: Status) -> spend_request::Hint {
        spend_request::Hint {
            command: commands::invocation(
                self.mode.surface,
                "spend-request retrieve",
                &[
                    ("id", id.into()),
                    ("interval", RETRIEVE_INTERVAL_S.into()),
                    ("maxAttempts", spend_request::RETRIEVE_MAX_ATTEMPTS.into()),
                ],
            ),
            ..spend_request::retrieve_hint(id, status)
        }
    }

    /// A spend request the agent must show the person: `{...sr, instruction, _next?}`.
    fn approval_hint(&self, spend_request: Value) -> Result<Value> {
        let step = spend_request::next_action(&spend_request)?;
        if step.status == Status::RequiresAction {
            let mut value = spend_request;
            let mut instruction = step.instruction;
            if let Some(mut next) = step.next {
                // The core's hint is the command line; an MCP client calls the tool instead.
                if commands::SERVES_MCP && self.mode.surface == commands::Surface::Mcp {
                    let call = self.retrieve_hint(&step.id, Status::RequiresAction).command;
                    instruction = instruction.map(|text| text.replace(&next.command, &call));
                    next.command = call;
                }
                value = with(value, "_next", next.to_json());
            }
            if let Some(instruction) = instruction {
                value = with(value, "instruction", instruction.into());
            }
            return Ok(value);
        }
        let hint = self.retrieve_hint(&step.id, Status::PendingApproval);
        let instruction = format!(
            "Present the approval_url to the user and ask them to approve the spend request in the Link app. Then call `{}` (start polling immediately) and continue when the status changes from pending_approval.",
            hint.command
        );
        Ok(with(
            with(spend_request, "instruction", instruction.into()),
            "_next",
            hint.to_json(),
        ))
    }

    async fn created(
        &mut self,
        sr: Value,
        request_approval: bool,
        core: &Map<String, Value>,
    ) -> Result<()> {
        let status = status_of(&sr);
        if status == Some(Status::RequiresAction) {
            let value = self.approval_hint(sr)?;
            self.out.emit(value);
            return Ok(());
        }
        if !request_approval || status != Some(Status::PendingApproval) {
            let value = self.with_card(sr, core).await?;
            self.out.emit(value);
            return Ok(());
        }
        if !self.mode.human {
            let value = self.approval_hint(sr)?;
            self.out.emit(value);
            return Ok(());
        }
        let id = id_of(&sr)?;
        self.person_approves(&id, &sr, "approval_url").await
    }

    /// A person at the terminal: show the approval link (`url_key` of `answer`), wait for
    /// their decision, and yield the spend request as it ends.
    async fn person_approves(&mut self, id: &str, answer: &Value, url_key: &str) -> Result<()> {
        let url = answer.get(url_key).and_then(Value::as_str).unwrap_or("");
        self.out.event(Event::Approval {
            label: "Approve this spend request",
            url,
        });
        let value = self.wait_for_approval(id, &[]).await?;
        self.out.emit(value);
        Ok(())
    }

    /// Waits for the person with the approval defaults (every 2 s, up to 600 s).
    async fn wait_for_approval(&mut self, id: &str, include: &[Include]) -> Result<Value> {
        let options = RetrieveOptions {
            interval: Seconds(f64::from(RETRIEVE_INTERVAL_S)),
            max_attempts: 0,
            timeout: Seconds(SPEND_REQUEST_TIMEOUT_S),
            include: include.to_vec(),
        };
        let message = format!("Waiting for approval of {id}…");
        self.begin_wait(&message);
        let result = self.client.wait_for(id, &options, &mut |_| {}).await;
        self.end_wait(result.is_ok());
        result
    }

    async fn retrieve(
        &mut self,
        id: &str,
        options: &RetrieveOptions,
        core: &Map<String, Value>,
    ) -> Result<()> {
        let sr = if options.interval.0 > 0.0 {
            let message = format!("Waiting for approval of {id}…");
            self.begin_wait(&message);
            let result = {
                let out = &mut *self.out;
                self.client
                    .wait_for(id, options, &mut |snapshot: &Value| {
                        out.emit(snapshot.clone())
                    })
                    .await
            };
            self.end_wait(result.is_ok());
            result?
        } else {
            self.client
                .call(&ApiCall::RetrieveSpendRequest(
                    id.to_string(),
                    options.include.clone(),
                ))
                .await?
        };
        let value = if status_of(&sr) == Some(Status::RequiresAction) {
            self.approval_hint(sr)?
        } else {
            self.with_card(sr, core).await?
        };
        self.out.emit(value);
        Ok(())
    }

    async fn approval_requested(&mut self, id: &str, answer: Value) -> Result<()> {
        if !self.mode.human {
            let hint = self.retrieve_hint(id, Status::PendingApproval);
            let instruction = format!(
                "Present the approval_link to the user and ask them to approve the spend request in the Link app. Then call `{}` (start polling immediately) and continue when the status changes from pending_approval.",
                hint.command
            );
            let value = with(
                with(answer, "instruction", instruction.into()),
                "_next",
                hint.to_json(),
            );
            self.out.emit(value);
            return Ok(());
        }
        self.person_approves(id, &answer, "approval_link").await
    }

    /// `--output-file`: a spend request that carries a card has it written to a new 0600 file
    /// by the host; what is printed keeps only brand, last4 and expiry, plus `card_output_file`.
    async fn with_card(&mut self, sr: Value, core: &Map<String, Value>) -> Result<Value> {
        let Some(file) = card_file(core) else {
            return Ok(sr);
        };
        let Value::Object(mut map) = sr else {
            return Ok(sr);
        };
        let Some(Value::Object(card)) = map.get("card").cloned() else {
            // Nothing to write: say so, instead of ending as if the file were written.
            let status = map
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            let warning = format!(
                "The spend request has no card yet (status {status}): nothing was written to {}. Retrieve it with include card once it is approved.",
                file.path
            );
            map.insert("card_output_file".into(), Value::Null);
            map.insert("warning".into(), warning.into());
            return Ok(Value::Object(map));
        };
        let field = |k: &str| map.get(k).cloned().unwrap_or(Value::Null);
        let contents = object!({
            "spend_request_id": field("id"),
            "merchant_name": field("merchant_name"),
            "merchant_url": field("merchant_url"),
            "context": field("context"),
            "created_at": field("created_at"),
            "card": Value::Object(card.clone()),
        });
        let text = serde_json::to_string_pretty(&contents)
            .map_err(|e| Error::new(ErrorCode::OutputFileWriteError, e.to_string()))?;
        self.client
            .host()
            .write_file(&file.path, &[text.as_str(), "\n"].concat(), file.force)
            .await?;
        map.insert("card".into(), card_summary(&card));
        map.insert("card_output_file".into(), file.path.into());
        Ok(Value::Object(map))
    }

    // ------------------------------------------------------------------ MPP

    /// `mpp pay`: an agent (no `--spend-request-id`, no `--interval`) gets the spend request to
    /// show and the two commands that finish the payment; a person at a terminal, or an agent
    /// that asked to wait, gets the merchant's final answer.
    async fn pay(
        &mut self,
        mut pay: crate::validate::mpp::PayRequest,
        interval_given: bool,
    ) -> Result<()> {
        let wait = pay.spend_request_id.is_some() || interval_given || self.mode.human;
        pay.wait = wait;
        if !wait {
            let result = self.client.pay(&pay, &mut |_| {}).await?;
            let Some(sr) = result.get("spend_request").cloned() else {
                self.out.emit(result);
                return Ok(());
            };
            let id = id_of(&sr)?;
            let poll = self.retrieve_hint(&id, Status::PendingApproval);
            let mut args: Vec<(&str, Value)> = vec![
                ("url", pay.url.clone().into()),
                ("spendRequestId", id.clone().into()),
            ];
            if pay.method != "GET" && !(pay.method == "POST" && pay.data.is_some()) {
                args.push(("method", pay.method.clone().into()));
            }
            if let Some(data) = &pay.data {
                args.push(("data", data.clone().into()));
            }
            let headers: Vec<Value> = pay
                .headers
                .iter()
                .map(|(name, value)| Value::from([name.as_str(), ": ", value].concat()))
                .collect();
            if !headers.is_empty() {
                args.push(("header", Value::Array(headers)));
            }
            let pay_command = commands::invocation(self.mode.surface, "mpp pay", &args);
            let instruction = format!(
                "Present the approval_url to the user and ask them to approve the payment in the Link app. Poll with `{}`; once the status is approved, run `{pay_command}`.",
                poll.command
            );
            let value = with(
                with(sr, "instruction", instruction.into()),
                "_next",
                object!({
                    "poll_command": poll.command,
                    "pay_command": pay_command,
                    "until": "status changes from pending_approval, then run pay_command",
                }),
            );
            self.out.emit(value);
            return Ok(());
        }
        let human = self.mode.human;
        self.begin_wait("Paying…");
        let result = {
            let out = &mut *self.out;
            let mut shown = false;
            self.client
                .pay(&pay, &mut |sr: &Value| {
                    out.emit(sr.clone());
                    if human
                        && !shown
                        && let Some(url) = sr.get("approval_url").and_then(Value::as_str)
                    {
                        shown = true;
                        out.event(Event::Approval {
                            label: "Approve this payment",
                            url,
                        });
                    }
                })
                .await
        };
        self.end_wait(result.is_ok());
        self.out.emit(result?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_status_carries_update_before_pending_as_the_reference_orders_it() {
        let update = object!({"current_version": "0.1.0", "latest_version": "0.2.0", "update_command": "npm install -g linkpay@latest"});
        let pending = object!({"authenticated": false, "credentials_path": "/c", "pending": true, "phrase": "a-b-c"});
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&with_update(pending.clone(), Some(&update))),
            [
                "authenticated",
                "credentials_path",
                "update",
                "pending",
                "phrase"
            ]
        );
        let done = object!({"authenticated": true, "access_token": "at_…", "scope": "x"});
        let with = with_update(done.clone(), Some(&update));
        assert_eq!(
            keys(&with),
            ["authenticated", "access_token", "scope", "update"]
        );
        assert_eq!(with["update"], update);
        assert_eq!(
            with_update(done.clone(), None),
            done,
            "no update found: unchanged"
        );
    }
}
