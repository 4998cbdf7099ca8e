//! The spend-request model and its lifecycle state machine.
//!
//! One table of legal transitions serves both sides of the wire: the client asks
//! [`next_action`] whether to keep polling, and the sandbox asks [`transition`] what may happen
//! next (and [`illegal_transition_status`] how to refuse), so the two can never disagree about
//! the lifecycle.
//!
//! | event              | from                                                   | to                 |
//! |--------------------|--------------------------------------------------------|--------------------|
//! | `request_approval` | created                                                | pending_approval   |
//! | `approve`          | pending_approval, created (delegated creation)         | approved           |
//! | `deny`             | pending_approval                                       | denied             |
//! | `cancel`           | created, pending_approval, approved                    | canceled           |
//! | `update`           | created                                                | created            |
//! | `expire`           | created, pending_approval, approved, requires_action   | expired            |
//! | `require_action`   | pending_approval, approved                             | requires_action    |
//! | `resume`           | requires_action                                        | approved           |
//! | `succeed`          | approved                                               | succeeded          |
//! | `fail`             | approved, requires_action                              | failed             |
//!
//! Anything else is `ILLEGAL_TRANSITION`. denied, expired, canceled, succeeded and failed are
//! final: no event leaves them.

use crate::record::Kind;
// The record machinery lives on the ground floor (`crate::record`); these re-exports keep the
// paths the driver and the bindings use.
pub(crate) use crate::record::{
    Decode, ToJson, check_root, decode_as_object, decode_root, record, serialize_as_json,
};
pub use crate::record::{Secret, Timestamp};

use crate::error::{Error, ErrorCode, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

/// How often an agent is told to poll a spend request (`--interval 2`).
pub const RETRIEVE_INTERVAL_S: u32 = 2;
/// How many polls an agent is told to allow (`--max-attempts 300`, 10 minutes at 2 s).
pub const RETRIEVE_MAX_ATTEMPTS: u32 = 300;

/// The status of a spend request, as the Link API spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Drafted by the agent; may still be updated.
    Created,
    /// Waiting for the person (10 minutes at most).
    PendingApproval,
    /// The network needs something from the person first (see `status_details`).
    RequiresAction,
    /// The credential can be retrieved and used.
    Approved,
    /// The person said no.
    Denied,
    /// Nobody acted in time, or the credential's validity ran out.
    Expired,
    /// The agent withdrew it.
    Canceled,
    /// The payment with the credential went through.
    Succeeded,
    /// The payment with the credential failed.
    Failed,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 9] = [
        Status::Created,
        Status::PendingApproval,
        Status::RequiresAction,
        Status::Approved,
        Status::Denied,
        Status::Expired,
        Status::Canceled,
        Status::Succeeded,
        Status::Failed,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::PendingApproval => "pending_approval",
            Status::RequiresAction => "requires_action",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Expired => "expired",
            Status::Canceled => "canceled",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
        }
    }

    /// Parses the wire spelling; anything else is a `VALIDATION_ERROR` at `status`.
    pub fn parse(s: &str) -> Result<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| unknown_name("status", s, Status::ALL.map(Status::as_str).as_slice()))
    }

    /// No event leaves this status: the request is over (`approved` is not final, it can
    /// still succeed, fail, be canceled or expire).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Denied
                | Status::Expired
                | Status::Canceled
                | Status::Succeeded
                | Status::Failed
        )
    }
}

impl ToJson for Status {
    fn to_json(&self) -> Value {
        Value::from(self.as_str())
    }
}

/// The [`Kind::Name`] check of a status from the API: a known one, or a name this client does
/// not know yet (the live API added `submitted` after link-cli 0.13.1). An unknown status
/// passes through as the server sent it and is not terminal (keep polling): a new server must
/// never break an old client. Only a non-name (empty, spaces, upper case) is refused.
fn check_status(s: &str) -> Result<()> {
    let name = !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if name {
        Ok(())
    } else {
        Status::parse(s).map(drop)
    }
}

impl Decode for Status {
    const KIND: Kind = Kind::Name(check_status);
    fn take(value: Option<&Value>) -> Self {
        let s = value.and_then(Value::as_str).unwrap_or_default();
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .unwrap_or(Status::Created)
    }
}

/// Something that happens to a spend request: the person, the agent, the clock or the
/// payment network acting on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The agent asks the person to approve (`POST …/request_approval`).
    RequestApproval,
    /// The person approves (or the request is created pre-approved, `create_delegated`).
    Approve,
    /// The person denies.
    Deny,
    /// The agent cancels (`POST …/cancel`).
    Cancel,
    /// The agent changes the request (`POST /spend_requests/{id}`).
    Update,
    /// The approval window or the credential's validity ran out.
    Expire,
    /// The network needs something from the person (3-D Secure, identity, …).
    RequireAction,
    /// The required action was completed and the request carries on (`auto_resume`).
    Resume,
    /// The credential was used and the payment went through.
    Succeed,
    /// The payment failed.
    Fail,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 10] = [
        Event::RequestApproval,
        Event::Approve,
        Event::Deny,
        Event::Cancel,
        Event::Update,
        Event::Expire,
        Event::RequireAction,
        Event::Resume,
        Event::Succeed,
        Event::Fail,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::RequestApproval => "request_approval",
            Event::Approve => "approve",
            Event::Deny => "deny",
            Event::Cancel => "cancel",
            Event::Update => "update",
            Event::Expire => "expire",
            Event::RequireAction => "require_action",
            Event::Resume => "resume",
            Event::Succeed => "succeed",
            Event::Fail => "fail",
        }
    }

    /// Parses the wire spelling; anything else is a `VALIDATION_ERROR` at `event`.
    pub fn parse(s: &str) -> Result<Event> {
        Event::ALL
            .into_iter()
            .find(|event| event.as_str() == s)
            .ok_or_else(|| unknown_name("event", s, Event::ALL.map(Event::as_str).as_slice()))
    }

    /// The verb phrase of `"Cannot <verb> a spend request in <status> status"`.
    fn verb(self) -> &'static str {
        match self {
            Event::RequestApproval => "request approval for",
            Event::Approve => "approve",
            Event::Deny => "deny",
            Event::Cancel => "cancel",
            Event::Update => "update",
            Event::Expire => "expire",
            Event::RequireAction => "require action on",
            Event::Resume => "resume",
            Event::Succeed => "mark as succeeded",
            Event::Fail => "mark as failed",
        }
    }
}

fn unknown_name(path: &str, got: &str, allowed: &[&str]) -> Error {
    Error::validation(vec![crate::error::FieldError::new(
        path,
        format!(
            "unknown {path} {got:?}; expected one of {}",
            allowed.join(", ")
        ),
    )])
}

/// The status `event` leads to, or `None` when the lifecycle does not allow it.
fn next_status(status: Status, event: Event) -> Option<Status> {
    use Event as E;
    use Status as S;
    match (event, status) {
        (E::RequestApproval, S::Created) => Some(S::PendingApproval),
        (E::Approve, S::PendingApproval | S::Created) => Some(S::Approved),
        (E::Deny, S::PendingApproval) => Some(S::Denied),
        (E::Cancel, S::Created | S::PendingApproval | S::Approved) => Some(S::Canceled),
        (E::Update, S::Created) => Some(S::Created),
        (E::Expire, S::Created | S::PendingApproval | S::Approved | S::RequiresAction) => {
            Some(S::Expired)
        }
        (E::RequireAction, S::PendingApproval | S::Approved) => Some(S::RequiresAction),
        (E::Resume, S::RequiresAction) => Some(S::Approved),
        (E::Succeed, S::Approved) => Some(S::Succeeded),
        (E::Fail, S::Approved | S::RequiresAction) => Some(S::Failed),
        _ => None,
    }
}

/// Applies `event` to a spend request in `status`.
///
/// `ILLEGAL_TRANSITION` names both ("Cannot cancel a spend request in expired status") and
/// carries `details: {event, status, http_status}` so the sandbox can answer with the status
/// code the real API uses.
pub fn transition(status: Status, event: Event) -> Result<Status> {
    next_status(status, event).ok_or_else(|| {
        let http_status = rejection_status(status, event);
        Error::new(
            ErrorCode::IllegalTransition,
            format!(
                "Cannot {} a spend request in {} status",
                event.verb(),
                status.as_str()
            ),
        )
        .with_details(object!({
            "event": event.as_str(),
            "status": status.as_str(),
            "http_status": http_status,
        }))
    })
}

/// The HTTP status the sandbox answers when `event` is not allowed in `status`, `None` when it
/// is allowed: 422 for canceling an expired request, 409 (conflict with the current state)
/// for everything else, as the Link API does.
pub fn illegal_transition_status(status: Status, event: Event) -> Option<u16> {
    match next_status(status, event) {
        Some(_) => None,
        None => Some(rejection_status(status, event)),
    }
}

fn rejection_status(status: Status, event: Event) -> u16 {
    match (event, status) {
        (Event::Cancel, Status::Expired) => 422,
        _ => 409,
    }
}

record! {
    /// A postal address attached to a card or a shared payment token.
    #[derive(Debug)]
    pub struct BillingAddress {
        pub name: Option<String>,
        pub line1: Option<String>,
        pub line2: Option<String>,
        pub city: Option<String>,
        pub state: Option<String>,
        pub postal_code: Option<String>,
        pub country: Option<String>,
    }
}

record! {
    /// The one-time virtual card (only with `include=card`, once approved). `Debug` never shows
    /// `number` or `cvc`.
    #[derive(Debug)]
    pub struct Card {
        pub id: Option<String>,
        pub brand: Option<String>,
        pub exp_month: Option<i64>,
        pub exp_year: Option<i64>,
        pub number: Option<Secret>,
        pub cvc: Option<Secret>,
        pub billing_address: Option<BillingAddress>,
        pub valid_until: Option<Timestamp>,
    }
}

record! {
    /// A Shared Payment Token for an MPP merchant. The API once sent it as a bare string; that
    /// form is read as `{id}`.
    #[derive(Debug)]
    pub struct SharedPaymentToken {
        pub id: String,
        pub billing_address: Option<BillingAddress>,
        pub valid_until: Option<Timestamp>,
    }
}

impl Decode for SharedPaymentToken {
    const KIND: Kind = Kind::RecordOrId(SharedPaymentToken::MEMBERS);
    fn take(value: Option<&Value>) -> Self {
        match value {
            Some(Value::Object(object)) => SharedPaymentToken::build(object),
            value => SharedPaymentToken {
                id: value
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                billing_address: None,
                valid_until: None,
                extra: Map::new(),
            },
        }
    }
}

record! {
    /// One amount line shown on the approval sheet (`subtotal`, `tax`, `total`, …).
    #[derive(Debug)]
    pub struct Total {
        pub kind ["type"]: Option<String>,
        pub display_text: Option<String>,
        pub amount: Option<i64>,
    }
}

record! {
    /// One purchased item shown on the approval sheet.
    #[derive(Debug)]
    pub struct LineItem {
        pub name: Option<String>,
        pub url: Option<String>,
        pub image_url: Option<String>,
        pub description: Option<String>,
        pub sku: Option<String>,
        pub totals: Option<Vec<Total>>,
        pub quantity: Option<i64>,
        pub unit_amount: Option<i64>,
        pub product_url: Option<String>,
    }
}

record! {
    /// A refund of a completed payment.
    #[derive(Debug)]
    pub struct RefundDetails {
        pub amount: Option<i64>,
        pub currency: Option<String>,
        pub state: Option<String>,
        pub created: Option<Timestamp>,
    }
}

record! {
    /// The outcome of the payment made with the credential.
    #[derive(Debug)]
    pub struct PaymentStatusDetails {
        pub outcome: Option<String>,
        pub code: Option<String>,
        pub decline_code: Option<String>,
        pub amount: Option<i64>,
        pub currency: Option<String>,
        pub created: Option<Timestamp>,
        pub refund_details: Option<RefundDetails>,
    }
}

record! {
    /// What the person must do for a `requires_action` request, and what happens afterwards.
    #[derive(Debug)]
    pub struct NextAction {
        /// `three_d_secure`, `identity_verification`, `add_payment_method`, ….
        pub kind ["type"]: Option<String>,
        /// `auto_resume`, `create_new_spend_request` or
        /// `create_new_spend_request_after_completion`.
        pub resolution: Option<String>,
        pub display_message: Option<String>,
        pub action_url: Option<String>,
        pub expires_at: Option<Timestamp>,
    }
}

impl NextAction {
    /// The same request carries on by itself once the action is done (3-D Secure): keep
    /// polling instead of creating a new request.
    pub fn is_auto_resume(&self) -> bool {
        self.resolution.as_deref() == Some("auto_resume")
    }
}

record! {
    /// Why a request is in `requires_action`.
    #[derive(Debug)]
    pub struct RequiresAction {
        pub failure_code: Option<String>,
        pub next_action: Option<NextAction>,
    }
}

record! {
    /// Status-specific details.
    #[derive(Debug)]
    pub struct StatusDetails {
        pub requires_action: Option<RequiresAction>,
    }
}

record! {
    /// A spend request as the Link API returns it. Only `id` and `status` are required;
    /// unknown members are kept in `extra`.
    #[derive(Debug)]
    pub struct SpendRequest {
        pub id: String,
        pub merchant_name: Option<String>,
        pub merchant_url: Option<String>,
        pub context: Option<String>,
        pub amount: Option<i64>,
        pub currency: Option<String>,
        pub line_items: Option<Vec<LineItem>>,
        pub totals: Option<Vec<Total>>,
        pub payment_method: Option<String>,
        pub payment_details: Option<String>,
        /// `card` or `shared_payment_token`.
        pub credential_type: Option<String>,
        pub network_id: Option<String>,
        pub card_brand: Option<String>,
        pub card_last4: Option<String>,
        pub status: Status,
        pub approval_url: Option<String>,
        pub card: Option<Card>,
        pub shared_payment_token: Option<SharedPaymentToken>,
        pub link_pay_token: Option<Secret>,
        pub payment_status_details: Option<PaymentStatusDetails>,
        pub status_details: Option<StatusDetails>,
        pub link_transaction_id: Option<String>,
        pub activity_url: Option<String>,
        pub metadata: Option<Map<String, Value>>,
        pub expires_at: Option<Timestamp>,
        pub created_at: Option<Timestamp>,
        pub updated_at: Option<Timestamp>,
        pub approval_link: Option<String>,
    }
}

decode_as_object!(
    BillingAddress,
    Card,
    Total,
    LineItem,
    RefundDetails,
    PaymentStatusDetails,
    NextAction,
    RequiresAction,
    StatusDetails,
    SpendRequest,
);

impl SpendRequest {
    /// Decodes a spend request from the API; `VALIDATION_ERROR` lists every broken member.
    pub fn decode(value: &Value) -> Result<SpendRequest> {
        decode_root(value, "")
    }

    /// `status_details.requires_action.next_action`, when there is one.
    pub fn next_action(&self) -> Option<&NextAction> {
        self.status_details
            .as_ref()?
            .requires_action
            .as_ref()?
            .next_action
            .as_ref()
    }

    /// Whether a poller stops here: approved, denied, expired, succeeded, failed, canceled,
    /// and `requires_action` unless it resumes by itself (`auto_resume`).
    pub fn is_terminal_for_polling(&self) -> bool {
        match self.status {
            Status::Created | Status::PendingApproval => false,
            Status::RequiresAction => !self.next_action().is_some_and(NextAction::is_auto_resume),
            _ => true,
        }
    }
}

/// A follow-up command for an agent (the reference's `_next`): run `command` until `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    /// The command line, without the program name.
    pub command: String,
    /// The condition that ends it, in words an agent follows.
    pub until: String,
}

/// The poll command an agent should run while a request waits in `status`.
pub fn retrieve_hint(id: &str, status: Status) -> Hint {
    Hint {
        command: format!(
            "spend-request retrieve {id} --interval {RETRIEVE_INTERVAL_S} --max-attempts {RETRIEVE_MAX_ATTEMPTS}"
        ),
        until: format!("status changes from {}", status.as_str()),
    }
}

/// The action a `requires_action` request waits for, flattened for display.
#[derive(Clone, Debug, PartialEq)]
pub struct RequiredAction {
    /// `next_action.type` (JSON `type`): `three_d_secure`, `identity_verification`, ….
    pub kind: Option<String>,
    /// `next_action.resolution`.
    pub resolution: Option<String>,
    /// What to tell the person (server text: sanitise before display).
    pub display_message: Option<String>,
    /// Where the person completes the action.
    pub action_url: Option<String>,
    /// When the action stops being possible.
    pub expires_at: Option<Timestamp>,
    /// `requires_action.failure_code`.
    pub failure_code: Option<String>,
    /// The request resumes by itself once the action is done: keep polling.
    pub auto_resume: bool,
}

/// What a poller does with a spend request it just fetched.
///
/// `instruction` and `_next` are exactly what the reference client merges into a
/// `requires_action` spend request for an agent (`{...spend_request, instruction, _next}`);
/// they are absent for every other status, whose hints depend on the command that ran.
#[derive(Clone, Debug, PartialEq)]
pub struct NextStep {
    /// The spend request's id.
    pub id: String,
    /// Its status (`Created` for one this client does not know: not terminal).
    pub status: Status,
    /// The status as the server spelled it (what `to_json` shows, a new one included).
    pub status_name: String,
    /// Stop polling: nothing more will happen without the person or the agent acting.
    pub terminal: bool,
    /// Present exactly when `status` is `requires_action`.
    pub requires_action: Option<RequiredAction>,
    /// The agent instruction for `requires_action`.
    pub instruction: Option<String>,
    /// The poll hint for an `auto_resume` `requires_action` (JSON `_next`).
    pub next: Option<Hint>,
}

/// Inserts `key: value` when the value is present.
fn put<T: ToJson>(map: &mut Map<String, Value>, key: &str, value: &Option<T>) {
    if let Some(value) = value {
        map.insert(key.to_string(), value.to_json());
    }
}

impl ToJson for Hint {
    fn to_json(&self) -> Value {
        object!({ "command": self.command.clone(), "until": self.until.clone() })
    }
}

impl ToJson for RequiredAction {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "type", &self.kind);
        put(&mut map, "resolution", &self.resolution);
        put(&mut map, "display_message", &self.display_message);
        put(&mut map, "action_url", &self.action_url);
        put(&mut map, "expires_at", &self.expires_at);
        put(&mut map, "failure_code", &self.failure_code);
        map.insert("auto_resume".into(), Value::Bool(self.auto_resume));
        Value::Object(map)
    }
}

impl ToJson for NextStep {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), self.id.to_json());
        map.insert("status".into(), self.status_name.to_json());
        map.insert("terminal".into(), Value::Bool(self.terminal));
        put(&mut map, "requires_action", &self.requires_action);
        put(&mut map, "instruction", &self.instruction);
        put(&mut map, "_next", &self.next);
        Value::Object(map)
    }
}

serialize_as_json!(Status, Hint, RequiredAction, NextStep);

impl NextStep {
    /// The next step for a decoded spend request.
    pub fn of(spend_request: &SpendRequest) -> NextStep {
        NextStep::read(&spend_request.to_json())
    }

    /// The next step for a spend request that passed the [`SpendRequest`] check, read from its
    /// JSON: the few members it needs, without building the whole typed model.
    fn read(spend_request: &Value) -> NextStep {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let status = Status::take(spend_request.get("status"));
        let requires = spend_request
            .get("status_details")
            .and_then(|d| d.get("requires_action"));
        let next_action = requires.and_then(|r| r.get("next_action"));
        let member = |key: &str| text(next_action.and_then(|a| a.get(key)));
        let auto_resume = member("resolution").as_deref() == Some("auto_resume");
        let mut step = NextStep {
            id: text(spend_request.get("id")).unwrap_or_default(),
            status,
            status_name: text(spend_request.get("status")).unwrap_or_default(),
            // `is_terminal_for_polling`, on the JSON.
            terminal: match status {
                Status::Created | Status::PendingApproval => false,
                Status::RequiresAction => !auto_resume,
                _ => true,
            },
            requires_action: None,
            instruction: None,
            next: None,
        };
        if status != Status::RequiresAction {
            return step;
        }
        let failure_code = text(requires.and_then(|r| r.get("failure_code")));
        let action_url = member("action_url");
        let kind = member("type");
        let display_message = member("display_message");
        let id = &step.id;
        if auto_resume {
            let hint = retrieve_hint(id, Status::RequiresAction);
            let present = match &action_url {
                Some(url) => format!("Present action_url ({url}) to the user"),
                None => "Ask the user to complete the verification".to_string(),
            };
            step.instruction = Some(format!(
                "The spend request requires 3D Secure verification. {present}, then call `{}` to poll until it resolves. Do not create a new spend request — this one resumes automatically once the challenge is completed.",
                hint.command
            ));
            step.next = Some(hint);
        } else {
            let kind = kind.as_deref().unwrap_or("unknown");
            let mut text = format!("The spend request requires action ({kind})");
            match display_message.as_deref() {
                Some(message) => {
                    text.push_str(": ");
                    text.push_str(message);
                }
                None => text.push('.'),
            }
            if let Some(url) = &action_url {
                text.push_str(" URL: ");
                text.push_str(url);
            }
            text.push_str(" Have the user complete this, then create a new spend request.");
            step.instruction = Some(text);
        }
        step.requires_action = Some(RequiredAction {
            kind,
            resolution: member("resolution"),
            display_message,
            action_url,
            expires_at: next_action
                .and_then(|a| a.get("expires_at"))
                .filter(|v| !v.is_null())
                .map(|v| Timestamp::take(Some(v))),
            failure_code,
            auto_resume,
        });
        step
    }
}

/// Tells a poller what to do with a spend request it just fetched (see [`NextStep`]).
pub fn next_action(spend_request: &Value) -> Result<NextStep> {
    check_root::<SpendRequest>(spend_request, "")?;
    Ok(NextStep::read(spend_request))
}

/// Checks a spend request from the API and normalises it: a string `shared_payment_token`
/// becomes `{id}`. Everything else, explicit `null`s and unknown members included, is
/// returned as it came, so printing the result shows what the API said.
pub fn normalize(spend_request: &Value) -> Result<Value> {
    check_root::<SpendRequest>(spend_request, "")?;
    let mut out = spend_request.clone();
    if let Some(object) = out.as_object_mut()
        && let Some(Value::String(id)) = object.get("shared_payment_token")
    {
        let token = object!({ "id": id.clone() });
        object.insert("shared_payment_token".to_string(), token);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn card_debug_redacts_number_and_cvc() {
        let sr = SpendRequest::decode(&json!({
            "id": "lsrq_1",
            "status": "approved",
            "card": {"id": "card_1", "brand": "visa", "number": "4242424242424242", "cvc": "123",
                     "exp_month": 12, "exp_year": 2030},
            "link_pay_token": "lpt_secret_value"
        }))
        .unwrap();
        let shown = format!("{sr:?}");
        assert!(!shown.contains("4242424242424242"), "{shown}");
        assert!(!shown.contains("\"123\""), "{shown}");
        assert!(!shown.contains("lpt_secret_value"), "{shown}");
        assert!(shown.contains("visa"));
        let card = sr.card.as_ref().unwrap();
        assert_eq!(card.number.as_ref().unwrap().expose(), "4242424242424242");
    }

    #[test]
    fn typed_round_trip_keeps_unknown_members_and_drops_nulls() {
        let input = json!({
            "id": "lsrq_1", "status": "pending_approval", "amount": 1000,
            "status_details": null, "future_field": {"x": 1},
            "line_items": [{"name": "Shoes", "quantity": 1, "unit_amount": 1000, "color": "red"}],
            "shared_payment_token": "spt_1"
        });
        let sr = SpendRequest::decode(&input).unwrap();
        let out = serde_json::to_value(&sr).unwrap();
        assert_eq!(
            out,
            json!({
                "id": "lsrq_1", "amount": 1000,
                "line_items": [{"name": "Shoes", "quantity": 1, "unit_amount": 1000, "color": "red"}],
                "status": "pending_approval",
                "shared_payment_token": {"id": "spt_1"},
                "future_field": {"x": 1}
            })
        );
        let back: SpendRequest = serde_json::from_value(out).unwrap();
        assert_eq!(back, sr);
    }

    #[test]
    fn decode_reports_every_broken_member_by_path() {
        let err = SpendRequest::decode(&json!({
            "status": "Not A Status",
            "amount": "10",
            "line_items": [{"quantity": 1}, {"quantity": "x"}],
            "card": {"exp_month": 1.5}
        }))
        .unwrap_err();
        let mut paths: Vec<_> = err.field_errors.iter().map(|f| f.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "amount",
                "card.exp_month",
                "id",
                "line_items[1].quantity",
                "status"
            ]
        );
    }

    #[test]
    fn every_pair_is_legal_xor_has_a_rejection_status() {
        for status in Status::ALL {
            for event in Event::ALL {
                let legal = transition(status, event).is_ok();
                assert_eq!(
                    legal,
                    illegal_transition_status(status, event).is_none(),
                    "{status:?} {event:?}"
                );
                if status.is_final() {
                    assert!(!legal, "{status:?} is final but {event:?} leaves it");
                }
            }
        }
        assert_eq!(
            illegal_transition_status(Status::Expired, Event::Cancel),
            Some(422)
        );
        assert_eq!(
            illegal_transition_status(Status::Succeeded, Event::Cancel),
            Some(409)
        );
    }
}
