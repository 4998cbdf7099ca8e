//! Spend-request create and update rules.
//!
//! One rule set serves three inputs: the create input (the API's snake_case vocabulary with
//! `payment_method_id` and `approve`), the create wire body the Link API receives (the sandbox
//! checks it with [`validate_create_body`]: `payment_details`, no `approve`), and the update
//! input (a field subset). The rules are the reference client's (`link-cli.md` §1.2) plus the
//! documented limits it leaves to the server (§2.6): the $500 per-request cap, metadata limits,
//! the `expires_at` window, the totals `type` vocabulary and the approval-details fields.

use super::{
    MAX_SAFE_INTEGER, boolean, field, finish, http_url, index_path, int_any, int_in, key_path,
    non_blank, one_of, split_pairs, string, trimmed_id, unknown_key_message,
};
use crate::error::{FieldErrors, Result};
use crate::record::{ToJson, serialize_as_json};
use serde::Serialize;
use serde_json::{Map, Value};

/// The largest amount, in cents, of one spend request: the documented $500 limit.
pub const MAX_AMOUNT: i64 = 50_000;
/// The shortest `context` accepted, in characters (after trimming).
pub const MIN_CONTEXT_CHARS: usize = 100;
/// The longest `context` accepted, in characters (as sent). Link documents no maximum; this is
/// the bound Stripe's API puts on its free-text string parameters (5,000 characters), and the
/// text is read by a person on a phone before approving: enough for any honest explanation,
/// and an agent's runaway prompt or a pasted page is refused here instead of sent.
pub const MAX_CONTEXT_CHARS: usize = 5_000;
/// `expires_at` may be no sooner than this many seconds from now (3 hours)…
pub const MIN_EXPIRY_SECS: i64 = 3 * 3600;
/// …and no later than this many (7 days).
pub const MAX_EXPIRY_SECS: i64 = 7 * 86_400;
/// Metadata limits (documented by Link, enforced here so they fail before a request): keys per
/// request…
pub const METADATA_MAX_KEYS: usize = 50;
/// …characters per key…
pub const METADATA_MAX_KEY_CHARS: usize = 40;
/// …characters per value.
pub const METADATA_MAX_VALUE_CHARS: usize = 500;

/// Top-level keys of a create input, in wire-body order (plus `approve` and
/// `idempotency_key`, which pick the endpoint and the header, never the body).
pub const CREATE_KEYS: [&str; 19] = [
    "payment_method_id",
    "credential_type",
    "network_id",
    "execution_method",
    "merchant_account_id",
    "amount",
    "currency",
    "merchant_name",
    "merchant_url",
    "context",
    "line_items",
    "totals",
    "request_approval",
    "test",
    "approve",
    "approval_details",
    "metadata",
    "expires_at",
    "idempotency_key",
];

/// Top-level keys of a create wire body, in the order the reference client sends them.
pub const CREATE_BODY_KEYS: [&str; 17] = [
    "payment_details",
    "credential_type",
    "network_id",
    "execution_method",
    "merchant_account_id",
    "amount",
    "currency",
    "merchant_name",
    "merchant_url",
    "context",
    "line_items",
    "totals",
    "request_approval",
    "test",
    "approval_details",
    "metadata",
    "expires_at",
];

/// Keys of an update input.
pub const UPDATE_KEYS: [&str; 8] = [
    "payment_method_id",
    "amount",
    "merchant_url",
    "profile_id",
    "merchant_id",
    "currency",
    "line_items",
    "totals",
];

/// Line-item keys, in the order the reference client lists them in its unknown-key message.
pub const LINE_ITEM_KEYS: [&str; 8] = [
    "name",
    "url",
    "image_url",
    "description",
    "sku",
    "quantity",
    "unit_amount",
    "product_url",
];

/// Total keys.
pub const TOTAL_KEYS: [&str; 3] = ["type", "display_text", "amount"];

/// The documented totals `type` vocabulary.
pub const TOTAL_TYPES: [&str; 12] = [
    "subtotal",
    "tax",
    "total",
    "items_base_amount",
    "items_discount",
    "discount",
    "fulfillment",
    "shipping",
    "fee",
    "gift_wrap",
    "tip",
    "store_credit",
];

/// Approval-details keys: the first four are required.
pub const APPROVAL_DETAILS_KEYS: [&str; 11] = [
    "approved_at",
    "approval_method",
    "app_name",
    "external_user_id",
    "ip_address",
    "user_agent",
    "device_type",
    "agent_log_id",
    "external_user_name",
    "external_session_id",
    "authentication_method",
];

const CREDENTIAL_TYPES: [&str; 2] = ["card", "shared_payment_token"];
const EXECUTION_METHODS: [&str; 1] = ["link_pay_token"];
const APPROVAL_METHODS: [&str; 3] = ["click", "programmatic", "voice"];
const DEVICE_TYPES: [&str; 2] = ["mobile", "web"];
const AUTHENTICATION_METHODS: [&str; 3] = ["biometric_face", "biometric_fingerprint", "passkey"];

// The reference client's cross-field messages, verbatim (link-cli.md §1.2).
const LPT_NEEDS_EXECUTION_METHOD: &str =
    "execution-method link_pay_token is required when merchant-account-id is provided";
const LPT_NEEDS_MERCHANT_ACCOUNT: &str =
    "merchant-account-id is required when execution-method is link_pay_token";
const LPT_NEEDS_CARD: &str = "credential-type must be card when execution-method is link_pay_token";
const LPT_NO_NETWORK_ID: &str = "network-id cannot be used when execution-method is link_pay_token";
const LPT_NO_TEST: &str = "test cannot be used when execution-method is link_pay_token";
const LPT_NO_APPROVE: &str =
    "approve cannot be used when execution-method is link_pay_token; use request-approval instead";
const LPT_NO_MERCHANT: &str = "merchant-name and merchant-url cannot be used when execution-method is link_pay_token; Link resolves the merchant identity from merchant-account-id";
const SPT_NEEDS_NETWORK_ID: &str =
    "network-id is required when credential-type is shared_payment_token";
const NETWORK_ID_ONLY_SPT: &str =
    "network-id can only be used when credential-type is shared_payment_token";
const CARD_NEEDS_MERCHANT_NAME: &str = "merchant-name is required when credential-type is card";
const CARD_NEEDS_MERCHANT_URL: &str = "merchant-url is required when credential-type is card";
// Ours, in the same style: the reference only documents that SPT requests omit these.
const SPT_NO_MERCHANT_NAME: &str =
    "merchant-name cannot be used when credential-type is shared_payment_token";
const SPT_NO_MERCHANT_URL: &str =
    "merchant-url cannot be used when credential-type is shared_payment_token";

/// What kind of credential the spend request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    /// A one-time virtual card (PAN, CVC, expiry).
    Card,
    /// A Shared Payment Token for an MPP merchant (needs `network_id`).
    SharedPaymentToken,
}

impl CredentialType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::Card => "card",
            CredentialType::SharedPaymentToken => "shared_payment_token",
        }
    }
}

/// How the credential is executed; only Link Pay Token exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionMethod {
    /// Link Pay Token: Link resolves the merchant from `merchant_account_id`.
    LinkPayToken,
}

impl ExecutionMethod {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionMethod::LinkPayToken => "link_pay_token",
        }
    }
}

/// Declares a validated object whose keys keep the order the caller gave them (the reference
/// client sends line items, totals, approval details and metadata as given).
macro_rules! ordered_object {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize)]
        #[serde(transparent)]
        pub struct $name(Map<String, Value>);

        impl $name {
            /// The validated fields, in the order given.
            pub fn as_map(&self) -> &Map<String, Value> {
                &self.0
            }

            /// The validated fields, by value.
            pub fn into_map(self) -> Map<String, Value> {
                self.0
            }

            fn str_field(&self, key: &str) -> Option<&str> {
                self.0.get(key).and_then(Value::as_str)
            }

            #[allow(dead_code)]
            fn int_field(&self, key: &str) -> Option<i64> {
                self.0.get(key).and_then(Value::as_i64)
            }
        }
    };
}

ordered_object!(
    /// One validated line item; integers are coerced (`"2"` → `2`).
    LineItem
);
ordered_object!(
    /// One validated total; `amount` is coerced to an integer.
    Total
);
ordered_object!(
    /// Validated approval details (the record of a human approval given outside Link).
    ApprovalDetails
);
ordered_object!(
    /// Validated metadata: string values, at most 50 keys, merged in the order given.
    Metadata
);

impl LineItem {
    /// The item's name (always present).
    pub fn name(&self) -> &str {
        self.str_field("name").unwrap_or_default()
    }
    /// How many, when given.
    pub fn quantity(&self) -> Option<i64> {
        self.int_field("quantity")
    }
    /// Cents per unit, when given.
    pub fn unit_amount(&self) -> Option<i64> {
        self.int_field("unit_amount")
    }
}

impl Total {
    /// The total's `type` (`subtotal`, `tax`, `total`, …).
    pub fn kind(&self) -> &str {
        self.str_field("type").unwrap_or_default()
    }
    /// The label shown to the person approving.
    pub fn display_text(&self) -> &str {
        self.str_field("display_text").unwrap_or_default()
    }
    /// The amount in cents.
    pub fn amount(&self) -> i64 {
        self.int_field("amount").unwrap_or_default()
    }
}

impl ApprovalDetails {
    /// When the human approved, unix seconds.
    pub fn approved_at(&self) -> i64 {
        self.int_field("approved_at").unwrap_or_default()
    }
    /// `click`, `programmatic` or `voice`.
    pub fn approval_method(&self) -> &str {
        self.str_field("approval_method").unwrap_or_default()
    }
}

impl Metadata {
    /// The value of one key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.str_field(key)
    }
    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A validated spend-request create input, defaults applied. Only [`validate_create`] and
/// [`validate_create_body`] build one, so every value here already passed every rule.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CreateSpendRequest {
    /// The wallet payment method (`csmrpd_…`); `None` lets Link pick the default.
    pub payment_method_id: Option<String>,
    /// `card` unless asked otherwise.
    pub credential_type: CredentialType,
    /// The MPP merchant's network (from `mpp decode`); SPT only.
    pub network_id: Option<String>,
    /// Set for Link Pay Token requests.
    pub execution_method: Option<ExecutionMethod>,
    /// The merchant's `acct_…` (trimmed); Link Pay Token only.
    pub merchant_account_id: Option<String>,
    /// Cents, `1..=50000`.
    pub amount: i64,
    /// Lowercase ISO 4217 code.
    pub currency: String,
    /// Shown to the approver; card requests only.
    pub merchant_name: Option<String>,
    /// Absolute http(s) URL of the checkout; card requests only.
    pub merchant_url: Option<String>,
    /// Why the agent is buying, shown to the approver (≥ 100 characters).
    pub context: String,
    /// What is bought, in the order given.
    pub line_items: Option<Vec<LineItem>>,
    /// The checkout's totals, in the order given.
    pub totals: Option<Vec<Total>>,
    /// Ask the person to approve now (default true for input, false for a wire body).
    pub request_approval: bool,
    /// Testmode credentials.
    pub test: bool,
    /// Pre-approved (delegated) creation; never sent, it picks the endpoint.
    pub approve: bool,
    /// A record of an approval the person gave outside Link.
    pub approval_details: Option<ApprovalDetails>,
    /// The caller's own key/value pairs, merged in the order given.
    pub metadata: Option<Metadata>,
    /// Unix seconds, 3 hours to 7 days after `now`.
    pub expires_at: Option<i64>,
    /// The `Idempotency-Key` to send, given to retry a create whose answer was lost (the key
    /// its `TRANSPORT_ERROR` reported); `None` makes a fresh one. Never in the body.
    pub idempotency_key: Option<String>,
}

impl CreateSpendRequest {
    /// The exact JSON body of `POST /spend_requests`, key for key as the reference client sends
    /// it: `payment_details` for the payment method, `request_approval` and `test` only when
    /// true, `approve` never, absent values omitted.
    pub fn to_wire_body(&self) -> Value {
        Value::Object(self.wire_map(Shape::Wire))
    }

    /// Whether to create through `POST /spend_requests/create_delegated` (pre-approved).
    pub fn is_delegated(&self) -> bool {
        self.approve
    }

    /// Whether this is a Link Pay Token request.
    pub fn is_link_pay_token(&self) -> bool {
        self.execution_method.is_some()
    }

    fn wire_map(&self, shape: Shape) -> Map<String, Value> {
        let explicit_flags = shape != Shape::Wire;
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        let s = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        let payment_key = match shape {
            Shape::Input => "payment_method_id",
            _ => "payment_details",
        };
        put(payment_key, s(&self.payment_method_id));
        put(
            "credential_type",
            Some(self.credential_type.as_str().into()),
        );
        put("network_id", s(&self.network_id));
        put(
            "execution_method",
            self.execution_method.map(|e| e.as_str().into()),
        );
        put("merchant_account_id", s(&self.merchant_account_id));
        put("amount", Some(self.amount.into()));
        put("currency", Some(self.currency.clone().into()));
        put("merchant_name", s(&self.merchant_name));
        put("merchant_url", s(&self.merchant_url));
        put("context", Some(self.context.clone().into()));
        put(
            "line_items",
            self.line_items.as_ref().map(|l| objects(l, |i| &i.0)),
        );
        put("totals", self.totals.as_ref().map(|t| objects(t, |i| &i.0)));
        put(
            "request_approval",
            (explicit_flags || self.request_approval).then_some(self.request_approval.into()),
        );
        put(
            "test",
            (explicit_flags || self.test).then_some(self.test.into()),
        );
        put(
            "approve",
            (shape == Shape::Input).then_some(self.approve.into()),
        );
        put(
            "approval_details",
            self.approval_details
                .as_ref()
                .map(|a| Value::Object(a.0.clone())),
        );
        put(
            "metadata",
            self.metadata.as_ref().map(|m| Value::Object(m.0.clone())),
        );
        put("expires_at", self.expires_at.map(Value::from));
        if shape == Shape::Input {
            put("idempotency_key", s(&self.idempotency_key));
        }
        m
    }
}

/// Which JSON a [`CreateSpendRequest`] becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The request body: `payment_details`, `request_approval` and `test` only when true.
    Wire,
    /// A validated body for the sandbox: every default spelled out.
    Body,
    /// The validated input (its `Serialize`): `payment_method_id`, `approve`, every default.
    Input,
}

/// JSON of the validated input, in field order: optional members only when present,
/// `request_approval`, `test` and `approve` always.
impl ToJson for CreateSpendRequest {
    fn to_json(&self) -> Value {
        Value::Object(self.wire_map(Shape::Input))
    }
}

fn objects<T>(items: &[T], map: impl Fn(&T) -> &Map<String, Value>) -> Value {
    Value::Array(
        items
            .iter()
            .map(|i| Value::Object(map(i).clone()))
            .collect(),
    )
}

/// A validated create wire body (what [`validate_create_body`] returns). It serialises in the
/// wire vocabulary with every default spelled out (`request_approval` and `test` always
/// present), so the sandbox sees what the request means, not just what was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateSpendRequestBody(pub CreateSpendRequest);

impl ToJson for CreateSpendRequestBody {
    fn to_json(&self) -> Value {
        Value::Object(self.0.wire_map(Shape::Body))
    }
}

/// A validated spend-request update: only the fields given.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct UpdateSpendRequest {
    /// Switch the payment method (sent as `payment_details`).
    pub payment_method_id: Option<String>,
    /// Cents, `1..=50000`.
    pub amount: Option<i64>,
    /// Absolute http(s) URL.
    pub merchant_url: Option<String>,
    /// Sent as `profile_id` (trimmed); the reference client passes it through unchecked.
    pub profile_id: Option<String>,
    /// Sent as `merchant_id` (trimmed); likewise passed through.
    pub merchant_id: Option<String>,
    /// Lowercase ISO 4217 code.
    pub currency: Option<String>,
    /// Replacement line items.
    pub line_items: Option<Vec<LineItem>>,
    /// Replacement totals.
    pub totals: Option<Vec<Total>>,
}

impl UpdateSpendRequest {
    /// The JSON body of `POST /spend_requests/{id}`: only the given fields, with
    /// `payment_method_id` sent as `payment_details`.
    pub fn to_wire_body(&self) -> Value {
        Value::Object(self.map("payment_details"))
    }

    /// The given fields in order, the payment method under `payment_key`.
    fn map(&self, payment_key: &str) -> Map<String, Value> {
        let mut m = Map::new();
        let s = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        let fields = [
            (payment_key, s(&self.payment_method_id)),
            ("amount", self.amount.map(Value::from)),
            ("merchant_url", s(&self.merchant_url)),
            ("profile_id", s(&self.profile_id)),
            ("merchant_id", s(&self.merchant_id)),
            ("currency", s(&self.currency)),
            (
                "line_items",
                self.line_items.as_ref().map(|l| objects(l, |i| &i.0)),
            ),
            ("totals", self.totals.as_ref().map(|t| objects(t, |i| &i.0))),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        }
        m
    }
}

/// JSON of the validated input: the given fields only, in field order.
impl ToJson for UpdateSpendRequest {
    fn to_json(&self) -> Value {
        Value::Object(self.map("payment_method_id"))
    }
}

serialize_as_json!(
    CreateSpendRequest,
    CreateSpendRequestBody,
    UpdateSpendRequest
);

/// The vocabulary the create rules read: the caller's input or the API's wire body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Input,
    Wire,
}

impl Dialect {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Dialect::Input => &CREATE_KEYS,
            Dialect::Wire => &CREATE_BODY_KEYS,
        }
    }

    fn payment_key(self) -> &'static str {
        match self {
            Dialect::Input => "payment_method_id",
            Dialect::Wire => "payment_details",
        }
    }

    /// The client asks for approval unless told not to; a body without `request_approval`
    /// means the client did not ask (it sends the key only when true).
    fn default_request_approval(self) -> bool {
        self == Dialect::Input
    }
}

/// Validates and normalises a spend-request create input, reporting every broken rule at once.
/// `now_s` (unix seconds) anchors the `expires_at` window; the core has no clock.
pub fn validate_create(input: &Value, now_s: i64) -> Result<CreateSpendRequest> {
    create(input, now_s, Dialect::Input)
}

/// The same rules applied to the wire body the Link API receives (`payment_details` instead of
/// `payment_method_id`, no `approve`), so the sandbox enforces exactly what the client does.
pub fn validate_create_body(body: &Value, now_s: i64) -> Result<CreateSpendRequestBody> {
    create(body, now_s, Dialect::Wire).map(CreateSpendRequestBody)
}

/// Validates a spend-request update input: at least one of [`UPDATE_KEYS`], each checked with
/// the create rule of the same field.
pub fn validate_update(input: &Value) -> Result<UpdateSpendRequest> {
    let mut errs = FieldErrors::new();
    let Some(obj) = root_object(input, &mut errs) else {
        return finish(None, errs, "input");
    };
    reject_unknown(obj, "", "", &UPDATE_KEYS, &mut errs);
    let update = UpdateSpendRequest {
        payment_method_id: optional(obj, "payment_method_id", &mut errs, trimmed_id),
        amount: optional(obj, "amount", &mut errs, amount),
        merchant_url: optional(obj, "merchant_url", &mut errs, http_url),
        profile_id: optional(obj, "profile_id", &mut errs, trimmed_id),
        merchant_id: optional(obj, "merchant_id", &mut errs, trimmed_id),
        currency: optional(obj, "currency", &mut errs, currency),
        line_items: list(obj, "line_items", &mut errs, line_item),
        totals: list(obj, "totals", &mut errs, total),
    };
    if !UPDATE_KEYS.iter().any(|k| field(obj, k).is_some()) {
        errs.push(
            "input",
            format!("at least one of {} is required", UPDATE_KEYS.join(", ")),
        );
    }
    errs.finish(update)
}

fn create(input: &Value, now_s: i64, dialect: Dialect) -> Result<CreateSpendRequest> {
    let mut errs = FieldErrors::new();
    let Some(obj) = root_object(input, &mut errs) else {
        return finish(None, errs, "input");
    };
    reject_unknown(obj, "", "", dialect.keys(), &mut errs);
    let e = &mut errs;

    let payment_method_id = optional(obj, dialect.payment_key(), e, trimmed_id);
    let credential_type = match field(obj, "credential_type") {
        None => Some(CredentialType::Card),
        Some(_) => optional(obj, "credential_type", e, |v| {
            one_of(v, &CREDENTIAL_TYPES).map(|s| match s {
                "shared_payment_token" => CredentialType::SharedPaymentToken,
                _ => CredentialType::Card,
            })
        }),
    };
    let network_id = optional(obj, "network_id", e, trimmed_id);
    let execution_method = optional(obj, "execution_method", e, |v| {
        one_of(v, &EXECUTION_METHODS).map(|_| ExecutionMethod::LinkPayToken)
    });
    // Blank counts as missing: the LPT rule below reports it in the reference's words.
    let merchant_account_id = optional(obj, "merchant_account_id", e, |v| {
        string(v).map(|s| s.trim().to_string())
    })
    .filter(|s| !s.is_empty());
    let merchant_account_id_is_string =
        field(obj, "merchant_account_id").is_none_or(Value::is_string);
    let amount = required(obj, "amount", e, amount);
    let currency = optional(obj, "currency", e, currency);
    let merchant_name = optional(obj, "merchant_name", e, |v| {
        non_blank(v).map(str::to_string)
    });
    let merchant_url = optional(obj, "merchant_url", e, http_url);
    let context = required(obj, "context", e, context);
    let line_items = list(obj, "line_items", e, line_item);
    let totals = list(obj, "totals", e, total);
    let request_approval = optional(obj, "request_approval", e, boolean);
    let test = optional(obj, "test", e, boolean);
    let approve = optional(obj, "approve", e, boolean);
    let approval_details = match field(obj, "approval_details") {
        Some(v) => approval_details(v, "approval_details", e),
        None => None,
    };
    let metadata = match field(obj, "metadata") {
        Some(v) => metadata(v, "metadata", e),
        None => None,
    };
    let expires_at = optional(obj, "expires_at", e, |v| expires_at(v, now_s));
    let idempotency_key = optional(obj, "idempotency_key", e, idempotency_key);

    // Cross-field rules, in the reference client's order. Presence is what the caller gave,
    // even when the value itself broke a rule above.
    let given = |k: &str| field(obj, k).is_some();
    let link_pay_token = given("execution_method") || given("merchant_account_id");
    if link_pay_token {
        if !given("execution_method") {
            e.push("execution_method", LPT_NEEDS_EXECUTION_METHOD);
        }
        if merchant_account_id.is_none() && merchant_account_id_is_string {
            e.push("merchant_account_id", LPT_NEEDS_MERCHANT_ACCOUNT);
        }
        if given("credential_type") && credential_type == Some(CredentialType::SharedPaymentToken) {
            e.push("credential_type", LPT_NEEDS_CARD);
        }
        if given("network_id") {
            e.push("network_id", LPT_NO_NETWORK_ID);
        }
        if test == Some(true) {
            e.push("test", LPT_NO_TEST);
        }
        if approve == Some(true) {
            e.push("approve", LPT_NO_APPROVE);
        }
        for key in ["merchant_name", "merchant_url"] {
            if given(key) {
                e.push(key, LPT_NO_MERCHANT);
            }
        }
    } else {
        match credential_type {
            Some(CredentialType::SharedPaymentToken) => {
                if !given("network_id") {
                    e.push("network_id", SPT_NEEDS_NETWORK_ID);
                }
                if given("merchant_name") {
                    e.push("merchant_name", SPT_NO_MERCHANT_NAME);
                }
                if given("merchant_url") {
                    e.push("merchant_url", SPT_NO_MERCHANT_URL);
                }
            }
            Some(CredentialType::Card) => {
                if given("network_id") {
                    e.push("network_id", NETWORK_ID_ONLY_SPT);
                }
                if !given("merchant_name") {
                    e.push("merchant_name", CARD_NEEDS_MERCHANT_NAME);
                }
                if !given("merchant_url") {
                    e.push("merchant_url", CARD_NEEDS_MERCHANT_URL);
                }
            }
            // An unknown credential type was already reported; its cross rules would be noise.
            None => {}
        }
    }

    let built = match (credential_type, amount, context) {
        (Some(credential_type), Some(amount), Some(context)) => Some(CreateSpendRequest {
            payment_method_id,
            credential_type,
            network_id,
            execution_method,
            merchant_account_id,
            amount,
            currency: currency.unwrap_or_else(|| "usd".to_string()),
            merchant_name,
            merchant_url,
            context,
            line_items,
            totals,
            request_approval: request_approval.unwrap_or(dialect.default_request_approval()),
            test: test.unwrap_or(false),
            approve: approve.unwrap_or(false),
            approval_details,
            metadata,
            expires_at,
            idempotency_key,
        }),
        _ => None,
    };
    finish(built, errs, "input")
}

fn root_object<'a>(input: &'a Value, errs: &mut FieldErrors) -> Option<&'a Map<String, Value>> {
    let obj = input.as_object();
    if obj.is_none() {
        errs.push("input", "must be a JSON object");
    }
    obj
}

/// Reports every key of `obj` not in `allowed`, at its own path.
fn reject_unknown(
    obj: &Map<String, Value>,
    base: &str,
    prefix: &str,
    allowed: &[&str],
    errs: &mut FieldErrors,
) {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            errs.push(
                key_path(base, key),
                unknown_key_message(prefix, key, allowed),
            );
        }
    }
}

/// Applies `rule` to a given field; its message goes to the field's path.
fn optional<T>(
    obj: &Map<String, Value>,
    key: &str,
    errs: &mut FieldErrors,
    rule: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<T> {
    let v = field(obj, key)?;
    rule(v).map_err(|m| errs.push(key, m)).ok()
}

/// Like [`optional`], and a missing field is an error.
fn required<T>(
    obj: &Map<String, Value>,
    key: &str,
    errs: &mut FieldErrors,
    rule: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<T> {
    if field(obj, key).is_none() {
        errs.push(key, "is required");
        return None;
    }
    optional(obj, key, errs, rule)
}

/// An array field whose elements each go through `item` (at `key[i]`). `None` when absent or
/// when any element is broken.
fn list<T>(
    obj: &Map<String, Value>,
    key: &str,
    errs: &mut FieldErrors,
    item: impl Fn(&Value, &str, &mut FieldErrors) -> Option<T>,
) -> Option<Vec<T>> {
    let v = field(obj, key)?;
    let Some(items) = v.as_array() else {
        errs.push(key, "must be an array");
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut broken = false;
    for (i, v) in items.iter().enumerate() {
        match item(v, &index_path(key, i), errs) {
            Some(t) => out.push(t),
            None => broken = true,
        }
    }
    (!broken).then_some(out)
}

fn amount(v: &Value) -> Result<i64, String> {
    int_in(v, 1, MAX_AMOUNT).map_err(|m| {
        if m.starts_with("must be at most") {
            format!("{m} (the $500 per-request limit)")
        } else {
            m
        }
    })
}

/// Three ASCII letters, lowercased (`USD` → `usd`).
fn currency(v: &Value) -> Result<String, String> {
    let s = string(v)?;
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err("must be a 3-letter ISO 4217 currency code (e.g. usd)".to_string())
    }
}

/// At least [`MIN_CONTEXT_CHARS`] characters once trimmed, so padding cannot fake a reason,
/// and at most [`MAX_CONTEXT_CHARS`] as sent. Also `mpp pay`'s rule for its `context`.
pub(super) fn context(v: &Value) -> Result<String, String> {
    let s = string(v)?;
    let n = s.trim().chars().count();
    if n < MIN_CONTEXT_CHARS {
        return Err(format!(
            "must be at least {MIN_CONTEXT_CHARS} characters (got {n})"
        ));
    }
    let sent = s.chars().count();
    if sent > MAX_CONTEXT_CHARS {
        return Err(format!(
            "must be at most {MAX_CONTEXT_CHARS} characters (got {sent}): the person approving reads it on their phone"
        ));
    }
    Ok(s.to_string())
}

/// The longest `Idempotency-Key` Stripe's API accepts.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// 1 to 255 visible ASCII characters: it goes into an HTTP header as is.
fn idempotency_key(v: &Value) -> Result<String, String> {
    let s = string(v)?;
    if s.is_empty()
        || s.len() > MAX_IDEMPOTENCY_KEY_CHARS
        || !s.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(format!(
            "must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters (no spaces)"
        ));
    }
    Ok(s.to_string())
}

fn expires_at(v: &Value, now_s: i64) -> Result<i64, String> {
    let n = super::coerce_int(v).ok_or_else(|| "must be an integer (unix seconds)".to_string())?;
    let min = i128::from(now_s) + i128::from(MIN_EXPIRY_SECS);
    let max = i128::from(now_s) + i128::from(MAX_EXPIRY_SECS);
    if n < min {
        return Err(format!(
            "must be at least 3 hours from now (>= {})",
            offset(now_s, MIN_EXPIRY_SECS)
        ));
    }
    let too_late = || {
        format!(
            "must be at most 7 days from now (<= {})",
            offset(now_s, MAX_EXPIRY_SECS)
        )
    };
    if n > max {
        return Err(too_late());
    }
    i64::try_from(n).map_err(|_| too_late())
}

/// `now_s + secs` in decimal, also past `i64::MAX`.
fn offset(now_s: i64, secs: i64) -> String {
    (i128::from(now_s) + i128::from(secs)).to_string()
}

/// An object, or (for line items, totals and metadata) a `key:value,…` flag string.
fn object_or_pairs(v: &Value, path: &str, errs: &mut FieldErrors) -> Option<Map<String, Value>> {
    match v {
        Value::Object(o) => Some(o.clone()),
        Value::String(s) => Some(split_pairs(s, path, errs)),
        _ => {
            errs.push(path, "must be an object or a \"key:value,…\" string");
            None
        }
    }
}

fn line_item(v: &Value, path: &str, errs: &mut FieldErrors) -> Option<LineItem> {
    let mut local = FieldErrors::new();
    let item =
        object_or_pairs(v, path, &mut local).and_then(|o| line_item_fields(&o, path, &mut local));
    let ok = local.is_empty();
    errs.extend(local);
    item.filter(|_| ok)
}

fn total(v: &Value, path: &str, errs: &mut FieldErrors) -> Option<Total> {
    let mut local = FieldErrors::new();
    let item =
        object_or_pairs(v, path, &mut local).and_then(|o| total_fields(&o, path, &mut local));
    let ok = local.is_empty();
    errs.extend(local);
    item.filter(|_| ok)
}

/// Checks the fields of an object against a schema: each key's rule in the order given, unknown
/// keys rejected, required keys present; the result has the schema's key order. Messages carry `prefix` and the key, as the reference
/// client's do (`Line item quantity: must be at least 1`). `null` values are dropped.
fn schema_fields(
    obj: &Map<String, Value>,
    base: &str,
    prefix: &str,
    allowed: &[&str],
    required_keys: &[&str],
    rule: impl Fn(&str, &Value) -> Result<Value, String>,
    errs: &mut FieldErrors,
) -> Option<Map<String, Value>> {
    let mut local = FieldErrors::new();
    let mut out = Map::new();
    reject_unknown(obj, base, &format!("{prefix}: "), allowed, &mut local);
    // In the schema's order, not the caller's: the reference's zod schema parses into its own
    // key order, so `quantity:1,name:A` goes out as `{name, quantity}` (wire-identical).
    for key in allowed {
        let Some(v) = obj.get(*key).filter(|v| !v.is_null()) else {
            continue;
        };
        match rule(key, v) {
            Ok(norm) => {
                out.insert((*key).to_string(), norm);
            }
            Err(m) => local.push(key_path(base, key), format!("{prefix} {key}: {m}")),
        }
    }
    for key in required_keys {
        if field(obj, key).is_none() {
            local.push(key_path(base, key), format!("{prefix} {key}: is required"));
        }
    }
    let ok = local.is_empty();
    errs.extend(local);
    ok.then_some(out)
}

/// The line-item rules on an already-split object (`base` is its path, `""` for a lone flag).
pub(crate) fn line_item_fields(
    obj: &Map<String, Value>,
    base: &str,
    errs: &mut FieldErrors,
) -> Option<LineItem> {
    schema_fields(
        obj,
        base,
        "Line item",
        &LINE_ITEM_KEYS,
        &["name"],
        |key, v| match key {
            "name" => non_blank(v).map(Value::from),
            "quantity" => int_in(v, 1, MAX_SAFE_INTEGER)
                .map(Value::from)
                .map_err(|m| match m.as_str() {
                    "must be at least 1" | "must be an integer" => {
                        "must be a positive integer".to_string()
                    }
                    _ => m,
                }),
            "unit_amount" => int_in(v, 0, MAX_SAFE_INTEGER)
                .map(Value::from)
                .map_err(|m| match m.as_str() {
                    "must be at least 0" | "must be an integer" => {
                        "must be a non-negative integer".to_string()
                    }
                    _ => m,
                }),
            "url" | "image_url" | "product_url" => http_url(v).map(Value::from),
            _ => string(v).map(Value::from),
        },
        errs,
    )
    .map(LineItem)
}

/// The total rules on an already-split object.
pub(crate) fn total_fields(
    obj: &Map<String, Value>,
    base: &str,
    errs: &mut FieldErrors,
) -> Option<Total> {
    schema_fields(
        obj,
        base,
        "Total",
        &TOTAL_KEYS,
        &TOTAL_KEYS,
        |key, v| match key {
            "type" => one_of(v, &TOTAL_TYPES).map(Value::from),
            "amount" => int_any(v).map(Value::from),
            _ => non_blank(v).map(Value::from),
        },
        errs,
    )
    .map(Total)
}

/// Approval details: an object, or a JSON string holding one (the CLI's `--approval-detail`).
fn approval_details(v: &Value, path: &str, errs: &mut FieldErrors) -> Option<ApprovalDetails> {
    let parsed;
    let obj = match v {
        Value::Object(o) => o,
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => {
                parsed = o;
                &parsed
            }
            Ok(_) => {
                errs.push(path, "must be a JSON object");
                return None;
            }
            Err(_) => {
                errs.push(path, "approval-detail must be valid JSON");
                return None;
            }
        },
        _ => {
            errs.push(path, "must be a JSON object");
            return None;
        }
    };
    let mut local = FieldErrors::new();
    let mut out = Map::new();
    reject_unknown(obj, path, "", &APPROVAL_DETAILS_KEYS, &mut local);
    for (key, v) in obj {
        if v.is_null() || !APPROVAL_DETAILS_KEYS.contains(&key.as_str()) {
            continue;
        }
        let norm = match key.as_str() {
            "approved_at" => int_in(v, 0, MAX_SAFE_INTEGER).map(Value::from),
            "approval_method" => one_of(v, &APPROVAL_METHODS).map(Value::from),
            "device_type" => one_of(v, &DEVICE_TYPES).map(Value::from),
            "authentication_method" => one_of(v, &AUTHENTICATION_METHODS).map(Value::from),
            "app_name" | "external_user_id" => non_blank(v).map(Value::from),
            _ => string(v).map(Value::from),
        };
        match norm {
            Ok(n) => {
                out.insert(key.clone(), n);
            }
            Err(m) => local.push(key_path(path, key), m),
        }
    }
    for key in APPROVAL_DETAILS_KEYS.iter().take(4) {
        if field(obj, key).is_none() {
            local.push(key_path(path, key), "is required");
        }
    }
    let ok = local.is_empty();
    errs.extend(local);
    ok.then_some(ApprovalDetails(out))
}

/// Metadata: an object, a `k:v,k:v` string, or an array of either, merged in order (a later
/// key overrides an earlier one in place, like `Object.assign`).
fn metadata(v: &Value, path: &str, errs: &mut FieldErrors) -> Option<Metadata> {
    let mut merged = Map::new();
    let mut local = FieldErrors::new();
    match v {
        Value::Array(parts) => {
            for (i, part) in parts.iter().enumerate() {
                if let Some(o) = object_or_pairs(part, &index_path(path, i), &mut local) {
                    merged.extend(o);
                }
            }
        }
        _ => {
            if let Some(o) = object_or_pairs(v, path, &mut local) {
                merged.extend(o);
            }
        }
    }
    let ok = local.is_empty();
    errs.extend(local);
    metadata_checked(merged, path, path, errs).filter(|_| ok)
}

/// The metadata limits on merged pairs: keys at `base.<key>`, the key count at `whole_path`.
pub(crate) fn metadata_checked(
    merged: Map<String, Value>,
    base: &str,
    whole_path: &str,
    errs: &mut FieldErrors,
) -> Option<Metadata> {
    let mut local = FieldErrors::new();
    if merged.len() > METADATA_MAX_KEYS {
        local.push(
            whole_path,
            format!(
                "must have at most {METADATA_MAX_KEYS} keys (got {})",
                merged.len()
            ),
        );
    }
    for (key, v) in &merged {
        let path = key_path(base, key);
        let chars = key.chars().count();
        if chars == 0 {
            local.push(&path, "key must not be empty");
        } else if chars > METADATA_MAX_KEY_CHARS {
            local.push(
                &path,
                format!("key must be at most {METADATA_MAX_KEY_CHARS} characters (got {chars})"),
            );
        }
        match v.as_str() {
            None => local.push(&path, "value must be a string"),
            Some(s) if s.chars().count() > METADATA_MAX_VALUE_CHARS => local.push(
                &path,
                format!(
                    "value must be at most {METADATA_MAX_VALUE_CHARS} characters (got {})",
                    s.chars().count()
                ),
            ),
            Some(_) => {}
        }
    }
    let ok = local.is_empty();
    errs.extend(local);
    ok.then_some(Metadata(merged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn context() -> String {
        "Buying running shoes for the user, who asked for a size 42 pair in blue from Example Store today."
            .repeat(2)
    }

    fn card_input() -> Value {
        json!({
            "payment_method_id": "csmrpd_mock_1",
            "amount": "1000",
            "currency": "USD",
            "merchant_name": "Example Store",
            "merchant_url": "https://shop.example",
            "context": context(),
            "line_items": ["name:Shoes,unit_amount:1000,quantity:1"],
            "totals": ["type:total,display_text:Total,amount:1000"],
            "metadata": ["order_id:ord_1"],
        })
    }

    fn paths(e: &crate::error::Error) -> Vec<&str> {
        e.field_errors.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn wire_body_matches_the_reference_byte_for_byte() {
        // link-cli-wire.md: the flag `name:Shoes,unit_amount:1000,quantity:1` goes out in the
        // reference schema's key order, `{name, quantity, unit_amount}`.
        let req = validate_create(&card_input(), NOW).unwrap();
        let want = format!(
            r#"{{"payment_details":"csmrpd_mock_1","credential_type":"card","amount":1000,"currency":"usd","merchant_name":"Example Store","merchant_url":"https://shop.example","context":"{}","line_items":[{{"name":"Shoes","quantity":1,"unit_amount":1000}}],"totals":[{{"type":"total","display_text":"Total","amount":1000}}],"request_approval":true,"metadata":{{"order_id":"ord_1"}}}}"#,
            context()
        );
        assert_eq!(serde_json::to_string(&req.to_wire_body()).unwrap(), want);
        assert!(!req.is_delegated());
    }

    #[test]
    fn body_rules_accept_what_the_client_sends() {
        let mut input = card_input();
        input["approve"] = json!(true);
        input["test"] = json!(true);
        input["request_approval"] = json!(false);
        let req = validate_create(&input, NOW).unwrap();
        assert!(req.is_delegated());
        let wire = req.to_wire_body();
        assert!(wire.get("approve").is_none() && wire.get("request_approval").is_none());
        let body = validate_create_body(&wire, NOW).unwrap();
        assert_eq!(body.0.to_wire_body(), wire);
        assert!(!body.0.request_approval && body.0.test && !body.0.approve);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["request_approval"], json!(false));
        assert_eq!(json["payment_details"], json!("csmrpd_mock_1"));
    }

    #[test]
    fn body_rules_speak_the_wire_vocabulary() {
        let e = validate_create_body(
            &json!({"payment_details": "", "approve": true, "amount": 1}),
            NOW,
        )
        .unwrap_err();
        let p = paths(&e);
        assert!(p.contains(&"payment_details") && p.contains(&"approve"));
        let unknown = e.field_errors.iter().find(|f| f.path == "approve").unwrap();
        assert!(
            unknown
                .message
                .starts_with("unrecognized key \"approve\". Allowed keys: payment_details,")
        );
        let e = validate_create(&json!({"payment_details": "x"}), NOW).unwrap_err();
        assert!(paths(&e).contains(&"payment_details"));
    }

    #[test]
    fn link_pay_token_rules_all_fire_together() {
        let e = validate_create(
            &json!({
                "merchant_account_id": "  ",
                "credential_type": "shared_payment_token",
                "network_id": "net_1",
                "test": true,
                "approve": true,
                "merchant_name": "A",
                "merchant_url": "https://a.example",
                "amount": 100,
                "context": context(),
            }),
            NOW,
        )
        .unwrap_err();
        let mut p = paths(&e);
        p.sort_unstable();
        assert_eq!(
            p,
            [
                "approve",
                "credential_type",
                "execution_method",
                "merchant_account_id",
                "merchant_name",
                "merchant_url",
                "network_id",
                "test"
            ]
        );
    }

    #[test]
    fn link_pay_token_request_builds_without_merchant() {
        let req = validate_create(
            &json!({
                "execution_method": "link_pay_token",
                "merchant_account_id": " acct_123 ",
                "amount": 2500,
                "context": context(),
            }),
            NOW,
        )
        .unwrap();
        assert!(req.is_link_pay_token());
        let wire = req.to_wire_body();
        assert_eq!(wire["merchant_account_id"], "acct_123");
        assert_eq!(wire["execution_method"], "link_pay_token");
        assert_eq!(wire["credential_type"], "card");
    }

    #[test]
    fn expiry_window_is_inclusive_and_overflow_safe() {
        let mut input = card_input();
        for (at, ok) in [
            (NOW + MIN_EXPIRY_SECS, true),
            (NOW + MAX_EXPIRY_SECS, true),
            (NOW + MIN_EXPIRY_SECS - 1, false),
            (NOW + MAX_EXPIRY_SECS + 1, false),
        ] {
            input["expires_at"] = json!(at);
            assert_eq!(validate_create(&input, NOW).is_ok(), ok, "{at}");
        }
        input["expires_at"] = json!(i64::MAX);
        assert!(validate_create(&input, i64::MAX).is_err());
        assert!(validate_create(&input, i64::MIN).is_err());
    }

    #[test]
    fn update_maps_payment_method_and_keeps_only_given_fields() {
        let u =
            validate_update(&json!({"payment_method_id": "csmrpd_2", "currency": "EUR"})).unwrap();
        assert_eq!(
            serde_json::to_string(&u.to_wire_body()).unwrap(),
            r#"{"payment_details":"csmrpd_2","currency":"eur"}"#
        );
        let e = validate_update(&json!({})).unwrap_err();
        assert_eq!(paths(&e), ["input"]);
    }

    #[test]
    fn context_is_bounded_both_ways_in_characters() {
        let mut input = card_input();
        // 5,000 characters, multi-byte ones counted once, is the most accepted.
        for (text, ok) in [
            ("é".repeat(MAX_CONTEXT_CHARS), true),
            ("x".repeat(MAX_CONTEXT_CHARS + 1), false),
            ("x".repeat(131_000), false),
        ] {
            input["context"] = json!(text);
            assert_eq!(validate_create(&input, NOW).is_ok(), ok);
            let mut body = validate_create(&card_input(), NOW).unwrap().to_wire_body();
            body["context"] = json!(text);
            assert_eq!(
                validate_create_body(&body, NOW).is_ok(),
                ok,
                "the sandbox too"
            );
        }
        input["context"] = json!("x".repeat(131_000));
        let e = validate_create(&input, NOW).unwrap_err();
        assert_eq!(paths(&e), ["context"]);
        assert_eq!(
            e.field_errors[0].message,
            "must be at most 5000 characters (got 131000): the person approving reads it on their phone"
        );
    }

    #[test]
    fn expiry_bounds_are_exact_past_i64() {
        for now in [
            i64::MAX,
            i64::MAX - MIN_EXPIRY_SECS,
            i64::MIN,
            1_700_000_000,
        ] {
            let min = i128::from(now) + i128::from(MIN_EXPIRY_SECS);
            let max = i128::from(now) + i128::from(MAX_EXPIRY_SECS);
            assert_eq!(
                expires_at(&json!(i64::MIN), now),
                Err(format!("must be at least 3 hours from now (>= {min})"))
            );
            assert_eq!(
                expires_at(&json!("9".repeat(40)), now),
                Err(format!("must be at most 7 days from now (<= {max})"))
            );
        }
        assert_eq!(
            expires_at(&json!(i64::MAX), i64::MAX - MIN_EXPIRY_SECS),
            Ok(i64::MAX)
        );
    }
}
