//! The polling policy: how long to wait between fetches and when to give up.
//!
//! The driver owns the loop and the clock: it fetches, asks [`Policy::decide`] with the
//! current time whether the fetched value ends the poll, and either stops, sleeps until
//! `until_ms`, or reports `POLLING_TIMEOUT`. The rules are the reference client's `pollUntil`:
//!
//! 1. a terminal value, or an `interval <= 0` (single-shot), stops at once, without counting;
//! 2. otherwise the attempt is counted;
//! 3. `max_attempts > 0` and `attempts >= max_attempts` → `POLLING_TIMEOUT` (max attempts);
//! 4. else `now >= started_at + timeout` → `POLLING_TIMEOUT` (timeout); `timeout = 0` so times
//!    out after the first non-terminal value, and a negative one never does;
//! 5. else wait `interval` seconds (or until `not_before_ms`, if later: a `slow_down`).
//!
//! Printing intermediate values only when they change is the driver's job.

use crate::error::{Error, ErrorCode, FieldErrors, Result};
use crate::record::{
    Decode, ToJson, decode_as_object, decode_root, js_number, record, serialize_as_json,
};
use serde_json::Value;

/// `spend-request retrieve --timeout` default: longer than the server-side approval window.
pub const SPEND_REQUEST_TIMEOUT_S: f64 = 600.0;
/// `auth login` / `auth status --timeout` default.
pub const LOGIN_TIMEOUT_S: f64 = 300.0;

/// The limits of one poll, as given on the command line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Seconds between fetches, fractions allowed; `<= 0` fetches once.
    pub interval: f64,
    /// Fetches of a non-terminal value before giving up; 0 is unlimited.
    pub max_attempts: u32,
    /// Seconds from the start before giving up; negative is unlimited.
    pub timeout: f64,
}

impl Policy {
    /// The spend-request defaults: single-shot, unlimited attempts, 600 s.
    pub fn spend_request() -> Policy {
        Policy {
            interval: 0.0,
            max_attempts: 0,
            timeout: SPEND_REQUEST_TIMEOUT_S,
        }
    }

    /// The login defaults: single-shot, unlimited attempts, 300 s.
    pub fn login() -> Policy {
        Policy {
            timeout: LOGIN_TIMEOUT_S,
            ..Policy::spend_request()
        }
    }

    /// Decodes `{interval?, max_attempts?, timeout?}`; a missing member takes its
    /// [`Policy::spend_request`] default. `VALIDATION_ERROR` paths are prefixed `policy.`.
    pub fn decode(value: &Value) -> Result<Policy> {
        let mut errors = FieldErrors::new();
        let Some(object) = value.as_object() else {
            errors.push("policy", "expected an object");
            return errors.finish(Policy::spend_request());
        };
        let defaults = Policy::spend_request();
        let interval =
            Option::<f64>::member(object.get("interval"), "policy.interval", &mut errors);
        let max_attempts = Option::<u32>::member(
            object.get("max_attempts"),
            "policy.max_attempts",
            &mut errors,
        );
        let timeout = Option::<f64>::member(object.get("timeout"), "policy.timeout", &mut errors);
        let policy = Policy {
            interval: interval.flatten().unwrap_or(defaults.interval),
            max_attempts: max_attempts.flatten().unwrap_or(defaults.max_attempts),
            timeout: timeout.flatten().unwrap_or(defaults.timeout),
        };
        errors.finish(policy)
    }

    /// What to do after a fetch whose value is (or is not) `terminal`, at `now_ms`.
    ///
    /// `POLLING_TIMEOUT` (with `details: {reason, status?, retryable: true}`) when the limits
    /// ran out: "Polling stopped before spend request lsrq_1 reached a terminal status: max
    /// attempts (2) exhausted; current status is requires_action."
    pub fn decide(&self, state: &State, now_ms: i64, terminal: bool) -> Result<Decision> {
        if terminal || self.interval <= 0.0 {
            let reason = if terminal {
                StopReason::Terminal
            } else {
                StopReason::SingleShot
            };
            return Ok(Decision::Stop {
                reason,
                state: state.clone(),
            });
        }
        let mut next = state.clone();
        let attempts = next.attempts.unwrap_or(0).saturating_add(1);
        next.attempts = Some(attempts);
        if self.max_attempts > 0 && attempts >= self.max_attempts {
            return Err(timeout_error(
                &next,
                "max_attempts",
                format!("max attempts ({}) exhausted", self.max_attempts),
            ));
        }
        if self.timeout >= 0.0 && now_ms as f64 >= next.started_at_ms as f64 + self.timeout * 1000.0
        {
            return Err(timeout_error(
                &next,
                "timeout",
                format!("timeout ({}s) reached", js_number(self.timeout)),
            ));
        }
        let wait_ms = (self.interval * 1000.0).ceil();
        let mut until_ms = if wait_ms >= i64::MAX as f64 {
            i64::MAX
        } else {
            now_ms.saturating_add(wait_ms as i64)
        };
        if let Some(not_before) = next.not_before_ms {
            until_ms = until_ms.max(not_before);
        }
        // Never sleep past the deadline: the last fetch comes at the timeout, not an interval
        // after it (the wait overshoots by at most one request's time).
        if self.timeout >= 0.0 {
            let deadline = next.started_at_ms as f64 + self.timeout * 1000.0;
            if (until_ms as f64) > deadline {
                until_ms = deadline.ceil() as i64;
            }
        }
        Ok(Decision::Wait {
            until_ms,
            state: next,
        })
    }
}

record! {
    /// The progress of one poll, kept by the driver between fetches. Unknown members are kept
    /// and handed back, so the driver may store its own there.
    #[derive(Debug)]
    pub struct State {
        /// When the poll started (before the first fetch), epoch milliseconds.
        pub started_at_ms: i64,
        /// Non-terminal fetches so far; missing is 0.
        pub attempts: Option<u32>,
        /// What is polled, for messages: "spend request lsrq_1".
        pub subject: Option<String>,
        /// The last fetched status, for messages.
        pub status: Option<String>,
        /// Do not poll before this time (the server asked to slow down), epoch milliseconds.
        pub not_before_ms: Option<i64>,
    }
}

decode_as_object!(State);

impl State {
    /// A poll starting now.
    pub fn new(started_at_ms: i64) -> State {
        State {
            started_at_ms,
            attempts: None,
            subject: None,
            status: None,
            not_before_ms: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Decodes a state; `VALIDATION_ERROR` paths are prefixed `state.`.
    pub fn decode(value: &Value) -> Result<State> {
        decode_root(value, "state")
    }
}

/// Why a poll stopped without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The value is terminal.
    Terminal,
    /// `interval <= 0`: one fetch was asked for.
    SingleShot,
}

/// The outcome of [`Policy::decide`]: `{action: "stop", reason, state}` or
/// `{action: "wait", until_ms, state}`, `state` being what to pass next time.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// The poll is over; the fetched value is the result.
    Stop {
        /// Terminal value or single-shot.
        reason: StopReason,
        /// Unchanged: stopping does not count as an attempt.
        state: State,
    },
    /// Sleep, then fetch again.
    Wait {
        /// Epoch milliseconds to sleep until.
        until_ms: i64,
        /// The state with this attempt counted.
        state: State,
    },
}

impl ToJson for StopReason {
    fn to_json(&self) -> Value {
        Value::from(match self {
            StopReason::Terminal => "terminal",
            StopReason::SingleShot => "single_shot",
        })
    }
}

impl ToJson for Decision {
    fn to_json(&self) -> Value {
        match self {
            Decision::Stop { reason, state } => object!({
                "action": "stop",
                "reason": reason.to_json(),
                "state": state.to_json(),
            }),
            Decision::Wait { until_ms, state } => object!({
                "action": "wait",
                "until_ms": *until_ms,
                "state": state.to_json(),
            }),
        }
    }
}

serialize_as_json!(StopReason, Decision);

fn timeout_error(state: &State, reason: &str, why: String) -> Error {
    let subject = state.subject.as_deref().unwrap_or("the request");
    let current = match &state.status {
        Some(status) => format!("; current status is {status}"),
        None => String::new(),
    };
    let mut details = object!({ "reason": reason, "retryable": true });
    if let (Some(status), Some(object)) = (&state.status, details.as_object_mut()) {
        object.insert("status".to_string(), Value::String(status.clone()));
    }
    Error::new(
        ErrorCode::PollingTimeout,
        format!("Polling stopped before {subject} reached a terminal status: {why}{current}."),
    )
    .with_details(details)
}

/// [`Policy::decide`] on JSON arguments (`policy` and `state` as above).
pub fn decide(policy: &Value, state: &Value, now_ms: i64, terminal: bool) -> Result<Decision> {
    let policy = Policy::decode(policy);
    let state = State::decode(state);
    match (policy, state) {
        (Ok(policy), Ok(state)) => policy.decide(&state, now_ms, terminal),
        (Err(a), Err(b)) => Err(Error::validation(
            a.field_errors.into_iter().chain(b.field_errors).collect(),
        )),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(interval: f64, max_attempts: u32, timeout: f64) -> Policy {
        Policy {
            interval,
            max_attempts,
            timeout,
        }
    }

    /// Runs a whole poll against a sequence of fetched values (true = terminal), the way a
    /// driver would, and returns how many fetches were made and how it ended.
    fn run(policy: Policy, values: &[bool], step_ms: i64) -> (usize, Result<Decision>) {
        let mut state = State::new(0);
        let mut now = 0;
        for (i, terminal) in values.iter().enumerate() {
            match policy.decide(&state, now, *terminal) {
                Ok(Decision::Wait { until_ms, state: s }) => {
                    state = s;
                    now = until_ms.max(now + step_ms);
                }
                other => return (i + 1, other),
            }
        }
        (values.len(), Err(Error::new(ErrorCode::Unknown, "ran out")))
    }

    #[test]
    fn mirrors_poll_until() {
        // Terminal on the first call.
        let (n, d) = run(policy(1.0, 0, 600.0), &[true], 0);
        assert_eq!(n, 1);
        assert!(matches!(
            d,
            Ok(Decision::Stop {
                reason: StopReason::Terminal,
                ..
            })
        ));
        // Terminal after three calls.
        let (n, d) = run(policy(1.0, 0, 600.0), &[false, false, true], 0);
        assert_eq!(n, 3);
        assert!(d.is_ok());
        // Max attempts: the third non-terminal fetch ends it.
        let (n, d) = run(policy(1.0, 3, 600.0), &[false; 10], 0);
        assert_eq!(n, 3);
        assert_eq!(d.unwrap_err().code, ErrorCode::PollingTimeout);
        // Negative interval is single-shot.
        let (n, d) = run(policy(-1.0, 0, 600.0), &[false, false], 0);
        assert_eq!(n, 1);
        assert!(matches!(
            d,
            Ok(Decision::Stop {
                reason: StopReason::SingleShot,
                ..
            })
        ));
        // Timeout 0 stops after the first non-terminal fetch.
        let (n, d) = run(policy(1.0, 0, 0.0), &[false, false], 0);
        assert_eq!(n, 1);
        assert!(d.unwrap_err().message.contains("timeout (0s) reached"));
        // 2.5 s timeout with a 1 s interval: fetches at 0, 1, 2, 3 s; the one at 3 s times out.
        let (n, _) = run(policy(1.0, 0, 2.5), &[false; 10], 0);
        assert_eq!(n, 4);
    }

    proptest::proptest! {
        #[test]
        fn decide_never_panics(
            interval in proptest::num::f64::ANY,
            max_attempts in proptest::prelude::any::<u32>(),
            timeout in proptest::num::f64::ANY,
            started in proptest::prelude::any::<i64>(),
            attempts in proptest::prelude::any::<Option<u32>>(),
            not_before in proptest::prelude::any::<Option<i64>>(),
            now in proptest::prelude::any::<i64>(),
            terminal in proptest::prelude::any::<bool>(),
        ) {
            let mut state = State::new(started);
            state.attempts = attempts;
            state.not_before_ms = not_before;
            let _ = policy(interval, max_attempts, timeout).decide(&state, now, terminal);
        }
    }
}
