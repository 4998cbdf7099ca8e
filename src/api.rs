//! The Link API, sans-IO: every request the client sends, built as data, and every answer
//! read into a value or a stable error. Wire-identical to the reference client
//! (`shared/reference/link-cli-wire.md` §4): paths, methods, bodies, content types.

use crate::auth::{self, DeviceCodeRequest};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::spend_request::Secret;
use crate::validate::options::Include;
use crate::validate::spend_request::{CreateSpendRequest, UpdateSpendRequest};
use serde_json::Value;

/// The real Link API (`LINK_API_BASE_URL` overrides it).
pub const DEFAULT_API_BASE_URL: &str = "https://api.link.com";

/// Where requests go; both bases without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub api_base: String,
    pub auth_base: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            api_base: DEFAULT_API_BASE_URL.to_string(),
            auth_base: auth::DEFAULT_AUTH_BASE_URL.to_string(),
        }
    }
}

impl Endpoints {
    /// Bases as given (e.g. from `LINK_API_BASE_URL`), trailing slashes dropped; an empty value
    /// means the default.
    pub fn new(api_base: Option<&str>, auth_base: Option<&str>) -> Endpoints {
        let clean = |s: Option<&str>, default: &str| {
            let s = s
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(default);
            s.trim_end_matches('/').to_string()
        };
        Endpoints {
            api_base: clean(api_base, DEFAULT_API_BASE_URL),
            auth_base: clean(auth_base, auth::DEFAULT_AUTH_BASE_URL),
        }
    }
}

/// `User-Agent` of every Link request.
pub fn user_agent() -> String {
    format!("linkpay/{}", crate::VERSION)
}

/// The Link API operations, for error messages and retry decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    ListPaymentMethods,
    CreateSpendRequest,
    UpdateSpendRequest,
    RetrieveSpendRequest,
    RequestApproval,
    CancelSpendRequest,
    ListSpendRequests,
    ListShippingAddresses,
    RetrieveUserInfo,
    Report,
    ListTransactions,
    ListSources,
    ListBalances,
}

impl Operation {
    /// The verb of "Failed to <verb> (<status>): <message>", as the reference words it.
    pub fn verb(self) -> &'static str {
        match self {
            Operation::ListPaymentMethods => "list payment methods",
            Operation::CreateSpendRequest => "create spend request",
            Operation::UpdateSpendRequest => "update spend request",
            Operation::RetrieveSpendRequest => "retrieve spend request",
            Operation::RequestApproval => "request approval",
            Operation::CancelSpendRequest => "cancel spend request",
            Operation::ListSpendRequests => "list spend requests",
            Operation::ListShippingAddresses => "list shipping addresses",
            Operation::RetrieveUserInfo => "retrieve user info",
            Operation::Report => "report",
            Operation::ListTransactions => "list transactions",
            Operation::ListSources => "list sources",
            Operation::ListBalances => "list balances",
        }
    }

    /// Safe to send again after a transport error or a 5xx: reads, and creates (they carry an
    /// `Idempotency-Key`, so the server returns the first request instead of making a second).
    pub fn is_retry_safe(self) -> bool {
        matches!(
            self,
            Operation::ListPaymentMethods
                | Operation::RetrieveSpendRequest
                | Operation::ListSpendRequests
                | Operation::ListShippingAddresses
                | Operation::RetrieveUserInfo
                | Operation::ListTransactions
                | Operation::ListSources
                | Operation::ListBalances
                | Operation::CreateSpendRequest
        )
    }
}

/// Spend-request ids go into URL paths: only `[A-Za-z0-9_-]` is accepted, so an id can never
/// change the path or the query.
pub fn validate_id(id: &str) -> Result<&str> {
    let trimmed = id.trim();
    if crate::validate::is_spend_request_id(trimmed) {
        Ok(trimmed)
    } else {
        Err(Error::validation(vec![FieldError::new(
            "id",
            "must be a spend request id (letters, digits, _ and -)",
        )]))
    }
}

fn api_get(endpoints: &Endpoints, path: &str) -> HttpRequest {
    HttpRequest::new("GET", format!("{}{path}", endpoints.api_base))
        .header("User-Agent", user_agent())
}

fn api_post(endpoints: &Endpoints, path: &str, body: Option<&Value>) -> HttpRequest {
    let request = HttpRequest::new("POST", format!("{}{path}", endpoints.api_base))
        .header("User-Agent", user_agent());
    match body {
        Some(body) => request.body("application/json", crate::json_text(body)),
        None => request,
    }
}

/// `GET /payment-details` (the hyphen is the real path).
pub fn list_payment_methods(endpoints: &Endpoints) -> HttpRequest {
    api_get(endpoints, "/payment-details")
}

/// `GET /shipping_addresses`.
pub fn list_shipping_addresses(endpoints: &Endpoints) -> HttpRequest {
    api_get(endpoints, "/shipping_addresses")
}

/// `POST /agent_observations` with the report's wire body.
pub fn report(endpoints: &Endpoints, report: &crate::validate::report::Report) -> HttpRequest {
    api_post(
        endpoints,
        "/agent_observations",
        Some(&crate::record::ToJson::to_json(report)),
    )
}

/// Reads the recorded observation (`{object, created_at, domain, outcome, spend_request_id,
/// status}` and anything else the server sent), sanitized.
pub fn read_report(response: &HttpResponse) -> Result<Value> {
    let body = json_body(Operation::Report, response)?;
    Ok(crate::sanitize::sanitize_json(&body))
}

/// `GET /userinfo`.
pub fn retrieve_user_info(endpoints: &Endpoints) -> HttpRequest {
    api_get(endpoints, "/userinfo")
}

/// The query of a financial-insights list (`transactions list`, `sources list`, `balances
/// list`): cursor pagination and filters, already checked by the command table. A list sends
/// only the parameters it takes, in the reference's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// 1 to 100.
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
    /// `--start-date`, `YYYY-MM-DD`: sent as `date_start`.
    pub start_date: Option<String>,
    /// `--end-date`, `YYYY-MM-DD`: sent as `date_end`.
    pub end_date: Option<String>,
    pub category: Option<String>,
    /// `link` or `external_connection`.
    pub origin: Option<String>,
    /// Source ids, each sent as `sources[]` (`sources%5B%5D`).
    pub sources: Vec<String>,
}

impl PageQuery {
    /// `GET {path}?…` with the parameters named in `params`, in that order, encoded as
    /// `URLSearchParams` does: `sources` as one `sources[]` per id, `start_date`/`end_date`
    /// renamed `date_start`/`date_end`, unset ones left out.
    fn request(&self, endpoints: &Endpoints, path: &str, params: &[&str]) -> HttpRequest {
        let mut form = auth::Form::new();
        let limit = self.limit.map(|n| n.to_string());
        for param in params {
            let (name, value) = match *param {
                "limit" => ("limit", &limit),
                "starting_after" => ("starting_after", &self.starting_after),
                "ending_before" => ("ending_before", &self.ending_before),
                "start_date" => ("date_start", &self.start_date),
                "end_date" => ("date_end", &self.end_date),
                "category" => ("category", &self.category),
                "origin" => ("origin", &self.origin),
                _ => {
                    for source in &self.sources {
                        form.push(("sources[]".into(), source.clone()));
                    }
                    continue;
                }
            };
            if let Some(value) = value {
                form.push((name.into(), value.clone()));
            }
        }
        if form.is_empty() {
            api_get(endpoints, path)
        } else {
            api_get(endpoints, &format!("{path}?{}", auth::encode_form(&form)))
        }
    }
}

/// `GET /transactions?limit=&starting_after=&ending_before=&date_start=&date_end=&category=
/// &origin=&sources%5B%5D=…` (the dates renamed, as the reference sends them).
pub fn list_transactions(endpoints: &Endpoints, query: &PageQuery) -> HttpRequest {
    query.request(
        endpoints,
        "/transactions",
        &[
            "limit",
            "starting_after",
            "ending_before",
            "start_date",
            "end_date",
            "category",
            "origin",
            "sources",
        ],
    )
}

/// `GET /sources?limit=&starting_after=&ending_before=`.
pub fn list_sources(endpoints: &Endpoints, query: &PageQuery) -> HttpRequest {
    query.request(
        endpoints,
        "/sources",
        &["limit", "starting_after", "ending_before"],
    )
}

/// `GET /balances?sources%5B%5D=…&limit=&starting_after=&ending_before=` (sources first, as
/// the reference sends them).
pub fn list_balances(endpoints: &Endpoints, query: &PageQuery) -> HttpRequest {
    query.request(
        endpoints,
        "/balances",
        &["sources", "limit", "starting_after", "ending_before"],
    )
}

/// `POST /spend_requests` (or `/spend_requests/create_delegated` for `approve`) with the wire
/// body and an `Idempotency-Key`.
pub fn create_spend_request(
    endpoints: &Endpoints,
    request: &CreateSpendRequest,
    idempotency_key: &str,
) -> HttpRequest {
    let path = if request.is_delegated() {
        "/spend_requests/create_delegated"
    } else {
        "/spend_requests"
    };
    api_post(endpoints, path, Some(&request.to_wire_body()))
        .header("Idempotency-Key", idempotency_key)
}

/// `POST /spend_requests/{id}` with only the given fields.
pub fn update_spend_request(
    endpoints: &Endpoints,
    id: &str,
    update: &UpdateSpendRequest,
) -> Result<HttpRequest> {
    let id = validate_id(id)?;
    Ok(api_post(
        endpoints,
        &format!("/spend_requests/{id}"),
        Some(&update.to_wire_body()),
    ))
}

/// `GET /spend_requests/{id}[?include=a%2Cb]` (the comma encoded as `URLSearchParams` does).
pub fn retrieve_spend_request(
    endpoints: &Endpoints,
    id: &str,
    include: &[Include],
) -> Result<HttpRequest> {
    let id = validate_id(id)?;
    let query = if include.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = include.iter().map(|i| i.as_str()).collect();
        format!("?include={}", names.join("%2C"))
    };
    Ok(api_get(endpoints, &format!("/spend_requests/{id}{query}")))
}

/// `POST /spend_requests/{id}/request_approval`, no body.
pub fn request_approval(endpoints: &Endpoints, id: &str) -> Result<HttpRequest> {
    let id = validate_id(id)?;
    Ok(api_post(
        endpoints,
        &format!("/spend_requests/{id}/request_approval"),
        None,
    ))
}

/// `POST /spend_requests/{id}/cancel`, no body.
pub fn cancel_spend_request(endpoints: &Endpoints, id: &str) -> Result<HttpRequest> {
    let id = validate_id(id)?;
    Ok(api_post(
        endpoints,
        &format!("/spend_requests/{id}/cancel"),
        None,
    ))
}

/// `GET /spend_requests[?include_history=true]`.
pub fn list_spend_requests(endpoints: &Endpoints, include_history: bool) -> HttpRequest {
    let query = if include_history {
        "?include_history=true"
    } else {
        ""
    };
    api_get(endpoints, &format!("/spend_requests{query}"))
}

fn auth_post(endpoints: &Endpoints, path: &str, form: &auth::Form) -> HttpRequest {
    HttpRequest::new("POST", format!("{}{path}", endpoints.auth_base))
        .header("User-Agent", user_agent())
        .body("application/x-www-form-urlencoded", auth::encode_form(form))
}

/// `POST /device/code`.
pub fn device_code(endpoints: &Endpoints, request: &DeviceCodeRequest) -> HttpRequest {
    auth_post(endpoints, auth::DEVICE_CODE_PATH, &request.form())
}

/// `POST /device/token` with the device-code grant.
pub fn device_token(endpoints: &Endpoints, device_code: &Secret) -> HttpRequest {
    auth_post(
        endpoints,
        auth::DEVICE_TOKEN_PATH,
        &auth::device_token_form(device_code),
    )
}

/// `POST /device/token` with the refresh-token grant.
pub fn refresh(endpoints: &Endpoints, refresh_token: &Secret) -> HttpRequest {
    auth_post(
        endpoints,
        auth::DEVICE_TOKEN_PATH,
        &auth::refresh_form(refresh_token),
    )
}

/// `POST /device/revoke` with the refresh token.
pub fn revoke(endpoints: &Endpoints, refresh_token: &Secret) -> HttpRequest {
    auth_post(
        endpoints,
        auth::DEVICE_REVOKE_PATH,
        &auth::revoke_form(refresh_token),
    )
}

/// The message of an error body, in the reference's precedence: `error` as a string,
/// `error.message`, `error.code`, `message`, the raw body, "unknown error".
fn error_message(body: &Value, raw: &str) -> String {
    let error = body.get("error");
    error
        .and_then(Value::as_str)
        .or_else(|| error.and_then(|e| e.get("message")).and_then(Value::as_str))
        .or_else(|| error.and_then(|e| e.get("code")).and_then(Value::as_str))
        .or_else(|| body.get("message").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let raw = raw.trim();
            if raw.is_empty() {
                "unknown error".to_string()
            } else {
                raw.chars().take(500).collect()
            }
        })
}

/// Maps an error answer to a stable error: 404 on a retrieve is `NOT_FOUND`; a 429 duplicate is
/// `spend_request_rate_limited` naming the existing request (in `details.duplicate_spend_request`);
/// a step-up answer appends its verification or support URL; anything else is `API_ERROR`
/// "Failed to <verb> (<status>): <message>" with `details: {status, body}`.
pub fn api_error(operation: Operation, response: &HttpResponse) -> Error {
    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    let message = crate::sanitize::for_display(&error_message(&body, &response.body));
    let status = response.status;
    let error = body.get("error").filter(|e| e.is_object());
    let code_text = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    let details_body = if body.is_null() {
        Value::String(response.body.chars().take(2000).collect())
    } else {
        crate::sanitize::sanitize_json(&body)
    };
    let mut details = object!({ "status": status, "body": details_body });

    if status == 404 && operation == Operation::RetrieveSpendRequest {
        return Error::new(ErrorCode::NotFound, "Spend request not found").with_details(details);
    }
    let mut text = format!(
        "Failed to {} ({}): {message}",
        operation.verb(),
        u32::from(status)
    );
    let url_of = |key: &str| {
        error
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(crate::sanitize::for_display)
    };
    if let Some(url) = url_of("verification_url") {
        text.push_str(&format!(" Verification URL: {url}"));
    } else if let Some(url) = url_of("support_url") {
        text.push_str(&format!(" Support URL: {url}"));
    }
    let duplicate = error.and_then(|e| e.get("duplicate_spend_request"));
    if status == 429 || code_text == Some("spend_request_rate_limited") {
        if let Some(dup) = duplicate {
            let dup = crate::spend_request::normalize(dup).unwrap_or_else(|_| dup.clone());
            let dup = crate::sanitize::sanitize_json(&dup);
            let id = dup.get("id").and_then(Value::as_str).unwrap_or("unknown");
            let dup_status = dup
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            text.push_str(&format!(
                " A matching spend request already exists: {id} (status: {dup_status}). Retrieve it to resume instead of creating a new one."
            ));
            if let Some(map) = details.as_object_mut() {
                map.insert("duplicate_spend_request".into(), dup);
            }
        }
        if let Some(retry_after) = error.and_then(|e| e.get("retry_after"))
            && let Some(map) = details.as_object_mut()
        {
            map.insert("retry_after".into(), retry_after.clone());
        }
        return Error::new(ErrorCode::SpendRequestRateLimited, text).with_details(details);
    }
    if status == 401 {
        return Error::new(
            ErrorCode::NotAuthenticated,
            format!("{text}. Run \"linkpay auth login\" to sign in again."),
        )
        .with_details(details);
    }
    Error::new(ErrorCode::ApiError, text).with_details(details)
}

fn json_body(operation: Operation, response: &HttpResponse) -> Result<Value> {
    if !response.is_success() {
        return Err(api_error(operation, response));
    }
    serde_json::from_str(&response.body).map_err(|_| {
        Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "Failed to {} ({}): the response is not JSON",
                operation.verb(),
                u32::from(response.status)
            ),
        )
    })
}

/// Reads a spend request answer: normalised (a string SPT becomes `{id}`) and sanitized.
pub fn read_spend_request(operation: Operation, response: &HttpResponse) -> Result<Value> {
    let body = json_body(operation, response)?;
    let normalized = crate::spend_request::normalize(&body).map_err(|e| {
        Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "Failed to {}: unexpected response: {}",
                operation.verb(),
                e.message
            ),
        )
    })?;
    Ok(crate::sanitize::sanitize_json(&normalized))
}

/// Reads `{payment_details: [...]}` into the array (a missing key is `[]`).
pub fn read_payment_methods(response: &HttpResponse) -> Result<Value> {
    let body = json_body(Operation::ListPaymentMethods, response)?;
    let list = body
        .get("payment_details")
        .cloned()
        .unwrap_or_else(|| Value::Array(Vec::new()));
    Ok(crate::sanitize::sanitize_json(&list))
}

/// Reads `{data: [...]}` (or a bare array) into a flat array of normalised spend requests.
pub fn read_spend_request_list(response: &HttpResponse) -> Result<Value> {
    let body = json_body(Operation::ListSpendRequests, response)?;
    let items = match &body {
        Value::Array(items) => items.clone(),
        other => other
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    let normalized: Vec<Value> = items
        .iter()
        .map(|item| crate::spend_request::normalize(item).unwrap_or_else(|_| item.clone()))
        .collect();
    Ok(crate::sanitize::sanitize_json(&Value::Array(normalized)))
}

/// Reads `{shipping_addresses: [...]}` into the array, as sent (nulls kept, fields this client
/// does not know passed through), sanitized; `[]` when absent.
pub fn read_shipping_addresses(response: &HttpResponse) -> Result<Value> {
    let body = json_body(Operation::ListShippingAddresses, response)?;
    let list = match body.get("shipping_addresses") {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(list @ Value::Array(_)) => list.clone(),
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                "List shipping addresses returned an unusable body: shipping_addresses must be an array",
            ));
        }
    };
    Ok(crate::sanitize::sanitize_json(&list))
}

/// The keys of `user-info retrieve`, each `null` when the server leaves it out.
pub const USER_INFO_KEYS: [&str; 5] = ["email", "name", "first_name", "last_name", "phone"];

/// Reads `GET /userinfo`: [`USER_INFO_KEYS`] first (missing ones `null`, as the reference
/// normalises them), then anything else the server sent, sanitized.
pub fn read_user_info(response: &HttpResponse) -> Result<Value> {
    let body = json_body(Operation::RetrieveUserInfo, response)?;
    let Value::Object(sent) = body else {
        return Err(Error::new(
            ErrorCode::InvalidResponse,
            "Retrieve user info returned an unusable body: expected an object",
        ));
    };
    let mut out = serde_json::Map::new();
    for key in USER_INFO_KEYS {
        out.insert(key.into(), sent.get(key).cloned().unwrap_or(Value::Null));
    }
    for (key, value) in sent {
        if !out.contains_key(&key) {
            out.insert(key, value);
        }
    }
    Ok(crate::sanitize::sanitize_json(&Value::Object(out)))
}

/// `INVALID_RESPONSE` "Failed to <verb> (<status>): invalid response shape: <why>", as the
/// reference words a page it cannot read.
fn bad_shape(operation: Operation, response: &HttpResponse, why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidResponse,
        format!(
            "Failed to {} ({}): invalid response shape: {why}",
            operation.verb(),
            u32::from(response.status)
        ),
    )
}

/// Reads a financial-insights page `{data, has_more?, …}`: the fields this client does not know
/// first, as sent, then `data` (each item checked by `item`, which names its problem), then
/// `has_more` when sent (a boolean); sanitized. `bare_array` accepts a bare array as `{data}`
/// (transactions, as the reference does). `items` names the list in messages.
fn read_page(
    operation: Operation,
    response: &HttpResponse,
    items: &str,
    bare_array: bool,
    item: fn(&str, &serde_json::Map<String, Value>) -> std::result::Result<Value, String>,
) -> Result<Value> {
    let body = json_body(operation, response)?;
    let bad = |why: String| bad_shape(operation, response, &why);
    let (mut rest, data, has_more) = match body {
        Value::Array(list) if bare_array => (serde_json::Map::new(), Value::Array(list), None),
        Value::Object(mut map) => {
            let data = map.shift_remove("data").unwrap_or(Value::Null);
            let has_more = map.shift_remove("has_more");
            (map, data, has_more)
        }
        _ => return Err(bad("Expected response body to be an object".into())),
    };
    let Value::Array(list) = data else {
        return Err(bad(format!("Expected {items} to be an array")));
    };
    let mut checked = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let path = format!("{items}[{i}]");
        let Value::Object(map) = value else {
            return Err(bad(format!("Expected {path} to be an object")));
        };
        checked.push(item(&path, map).map_err(bad)?);
    }
    rest.insert("data".into(), Value::Array(checked));
    if let Some(has_more) = has_more {
        if !has_more.is_boolean() {
            return Err(bad("Expected has_more to be a boolean".into()));
        }
        rest.insert("has_more".into(), has_more);
    }
    Ok(crate::sanitize::sanitize_json(&Value::Object(rest)))
}

/// The keys of a transaction the reference checks, in its order.
pub const TRANSACTION_KEYS: [&str; 9] = [
    "id",
    "source_id",
    "amount",
    "currency",
    "created_date",
    "description",
    "origin",
    "category",
    "status",
];

/// One transaction, checked as the reference checks it (`amount` a finite number, negative for
/// money out; `origin` `link` or `external_connection`; `source_id` and `category` may be
/// null): [`TRANSACTION_KEYS`] first, then any field this client does not know, as sent.
fn transaction(
    path: &str,
    map: &serde_json::Map<String, Value>,
) -> std::result::Result<Value, String> {
    let mut out = serde_json::Map::new();
    for key in TRANSACTION_KEYS {
        // A missing key is wrong even where null is allowed (the reference checks `undefined`);
        // a JSON number is always finite.
        let v = map.get(key);
        let (ok, expected) = match key {
            "source_id" | "category" => (
                v.is_some_and(|v| v.is_string() || v.is_null()),
                "a string or null",
            ),
            "amount" => (v.is_some_and(Value::is_number), "a finite number"),
            "origin" => (
                matches!(
                    v.and_then(Value::as_str),
                    Some("link" | "external_connection")
                ),
                "a transaction origin",
            ),
            _ => (v.is_some_and(Value::is_string), "a string"),
        };
        if !ok {
            return Err(format!("Expected {path}.{key} to be {expected}"));
        }
        out.insert(key.into(), v.cloned().unwrap_or(Value::Null));
    }
    for (key, value) in map {
        if !out.contains_key(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    Ok(Value::Object(out))
}

/// A source or a balance: any object, passed through as sent.
fn passthrough(
    _: &str,
    map: &serde_json::Map<String, Value>,
) -> std::result::Result<Value, String> {
    Ok(Value::Object(map.clone()))
}

/// Reads `GET /transactions`: the page object (not unwrapped), each transaction checked (see
/// [`read_page`]); a bare array is read as `{data}`.
pub fn read_transactions(response: &HttpResponse) -> Result<Value> {
    read_page(
        Operation::ListTransactions,
        response,
        "transactions",
        true,
        transaction,
    )
}

/// Reads `GET /sources`: the page object, each source as sent.
pub fn read_sources(response: &HttpResponse) -> Result<Value> {
    read_page(
        Operation::ListSources,
        response,
        "sources",
        false,
        passthrough,
    )
}

/// Reads `GET /balances`: the page object, each balance as sent.
pub fn read_balances(response: &HttpResponse) -> Result<Value> {
    read_page(
        Operation::ListBalances,
        response,
        "balances",
        false,
        passthrough,
    )
}

/// Reads `{id, approval_link}` of a request-approval answer.
pub fn read_request_approval(response: &HttpResponse) -> Result<Value> {
    let body = json_body(Operation::RequestApproval, response)?;
    Ok(crate::sanitize::sanitize_json(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints::new(Some("http://127.0.0.1:1/"), Some("http://127.0.0.1:2"))
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            body_truncated: false,
            status,
            headers: vec![],
            body: body.into(),
        }
    }

    #[test]
    fn bases_drop_trailing_slashes_and_default() {
        assert_eq!(endpoints().api_base, "http://127.0.0.1:1");
        assert_eq!(
            Endpoints::new(None, Some(" ")).auth_base,
            "https://login.link.com"
        );
    }

    #[test]
    fn ids_cannot_escape_the_path() {
        assert!(validate_id("lsrq_123-abc").is_ok());
        for bad in ["", "../x", "a/b", "a?b", "a b", "a%2F"] {
            assert_eq!(
                validate_id(bad).unwrap_err().code,
                ErrorCode::ValidationError,
                "{bad}"
            );
        }
    }

    #[test]
    fn retrieve_encodes_include_like_url_search_params() {
        let r = retrieve_spend_request(
            &endpoints(),
            "lsrq_1",
            &[Include::Card, Include::SharedPaymentToken],
        )
        .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.url,
            "http://127.0.0.1:1/spend_requests/lsrq_1?include=card%2Cshared_payment_token"
        );
        assert_eq!(r.body, None);
    }

    #[test]
    fn request_approval_and_cancel_have_no_body_and_no_content_type() {
        for r in [
            request_approval(&endpoints(), "lsrq_1").unwrap(),
            cancel_spend_request(&endpoints(), "lsrq_1").unwrap(),
        ] {
            assert_eq!(r.method, "POST");
            assert_eq!(r.body, None);
            assert_eq!(r.header_value("content-type"), None);
        }
    }

    #[test]
    fn duplicate_429_names_the_existing_request() {
        let e = api_error(
            Operation::CreateSpendRequest,
            &response(
                429,
                r#"{"error":{"code":"spend_request_rate_limited","message":"Too many similar spend requests","duplicate_spend_request":{"id":"lsrq_dup_1","status":"pending_approval"}}}"#,
            ),
        );
        assert_eq!(e.code, ErrorCode::SpendRequestRateLimited);
        assert_eq!(
            e.message,
            "Failed to create spend request (429): Too many similar spend requests A matching spend request already exists: lsrq_dup_1 (status: pending_approval). Retrieve it to resume instead of creating a new one."
        );
        let details = e.details.unwrap();
        assert_eq!(details["duplicate_spend_request"]["id"], "lsrq_dup_1");
    }

    #[test]
    fn error_messages_follow_the_reference_precedence() {
        let e = api_error(
            Operation::CreateSpendRequest,
            &response(
                400,
                r#"{"error":{"message":"amount must be positive","code":"parameter_invalid"}}"#,
            ),
        );
        assert_eq!(e.code, ErrorCode::ApiError);
        assert_eq!(
            e.message,
            "Failed to create spend request (400): amount must be positive"
        );
        let e = api_error(
            Operation::ListPaymentMethods,
            &response(502, "<html>bad gateway</html>"),
        );
        assert_eq!(
            e.message,
            "Failed to list payment methods (502): <html>bad gateway</html>"
        );
        let e = api_error(
            Operation::CreateSpendRequest,
            &response(
                403,
                r#"{"error":{"code":"identity_verification_failed","message":"Verify","support_url":"https://support.link.com/x"}}"#,
            ),
        );
        assert!(
            e.message
                .ends_with("Verify Support URL: https://support.link.com/x")
        );
        let e = api_error(Operation::RetrieveSpendRequest, &response(404, "{}"));
        assert_eq!(e.code, ErrorCode::NotFound);
    }

    #[test]
    fn spend_requests_are_normalised_and_sanitized() {
        let sr = read_spend_request(
            Operation::RetrieveSpendRequest,
            &response(
                200,
                r#"{"id":"lsrq_1","status":"approved","merchant_name":"Evil\u001b[2J\rStore","shared_payment_token":"spt_1"}"#,
            ),
        )
        .unwrap();
        assert_eq!(sr["shared_payment_token"]["id"], "spt_1");
        assert_eq!(sr["merchant_name"], "EvilStore");
    }

    #[test]
    fn insight_lists_send_the_reference_query() {
        let e = endpoints();
        let all = PageQuery {
            limit: Some(50),
            starting_after: Some("cursor a".into()),
            ending_before: Some("b&c=d".into()),
            start_date: Some("2026-06-08".into()),
            end_date: Some("2026-06-09".into()),
            category: Some("shopping".into()),
            origin: Some("link".into()),
            sources: vec!["csmrpd_a".into(), "csmrpd_b".into()],
        };
        assert_eq!(
            list_transactions(&e, &all).url,
            "http://127.0.0.1:1/transactions?limit=50&starting_after=cursor+a&ending_before=b%26c%3Dd\
             &date_start=2026-06-08&date_end=2026-06-09&category=shopping&origin=link\
             &sources%5B%5D=csmrpd_a&sources%5B%5D=csmrpd_b"
        );
        // Each list sends only what it takes; balances put sources first.
        assert_eq!(
            list_sources(&e, &all).url,
            "http://127.0.0.1:1/sources?limit=50&starting_after=cursor+a&ending_before=b%26c%3Dd"
        );
        assert_eq!(
            list_balances(&e, &all).url,
            "http://127.0.0.1:1/balances?sources%5B%5D=csmrpd_a&sources%5B%5D=csmrpd_b&limit=50\
             &starting_after=cursor+a&ending_before=b%26c%3Dd"
        );
        let none = PageQuery::default();
        assert_eq!(
            list_transactions(&e, &none).url,
            "http://127.0.0.1:1/transactions"
        );
        let request = list_balances(&e, &none);
        assert_eq!(request.method, "GET");
        assert!(request.body.is_none());
        assert!(
            Operation::ListTransactions.is_retry_safe()
                && Operation::ListSources.is_retry_safe()
                && Operation::ListBalances.is_retry_safe()
        );
    }

    const TXN: &str = r#"{"id":"lbctxn_1","source_id":null,"amount":-979,"currency":"usd","created_date":"2026-06-08","description":"Chase","origin":"external_connection","category":null,"status":"succeeded"}"#;

    #[test]
    fn transaction_pages_are_checked_kept_whole_and_sanitized() {
        let body = format!(
            r#"{{"object":"list","data":[{{"merchant":"Caf\u001b[31m\u00e9","status":"posted","category":"food","amount":-1.5,"origin":"link","description":"x","created_date":"2026-06-09","currency":"usd","source_id":"csmrpd_1","id":"lbctxn_2"}},{TXN}],"has_more":true,"url":"/transactions"}}"#
        );
        let page = read_transactions(&response(200, &body)).unwrap();
        let keys: Vec<&str> = page
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["object", "url", "data", "has_more"]);
        let first = page["data"][0].as_object().unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(keys[..9], TRANSACTION_KEYS);
        assert_eq!(
            first["merchant"], "Café",
            "unknown fields pass through, sanitized"
        );
        assert_eq!(
            first["status"], "posted",
            "a status this client does not know"
        );
        assert_eq!(page["data"][1]["source_id"], Value::Null);
        // A bare array is a page without has_more.
        let bare = read_transactions(&response(200, &format!("[{TXN}]"))).unwrap();
        assert_eq!(bare.as_object().unwrap().len(), 1);
        assert_eq!(bare["data"][0]["id"], "lbctxn_1");
    }

    #[test]
    fn bad_pages_are_invalid_response_in_the_reference_words() {
        let bad = |reader: fn(&HttpResponse) -> Result<Value>, body: &str| {
            let e = reader(&response(200, body)).expect_err(body);
            assert_eq!(e.code, ErrorCode::InvalidResponse, "{body}");
            e.message
        };
        let shape = "Failed to list transactions (200): invalid response shape: ";
        let page = |t: String| format!(r#"{{"data":[{t}]}}"#);
        for (body, why) in [
            (
                "\"x\"".to_string(),
                "Expected response body to be an object",
            ),
            ("{}".to_string(), "Expected transactions to be an array"),
            (page("1".into()), "Expected transactions[0] to be an object"),
            (
                page(TXN.replace("-979", "\"-979\"")),
                "Expected transactions[0].amount to be a finite number",
            ),
            (
                page(TXN.replace("\"source_id\":null,", "")),
                "Expected transactions[0].source_id to be a string or null",
            ),
            (
                page(TXN.replace("external_connection", "bank")),
                "Expected transactions[0].origin to be a transaction origin",
            ),
            (
                format!(r#"{{"data":[{TXN}],"has_more":"yes"}}"#),
                "Expected has_more to be a boolean",
            ),
        ] {
            assert_eq!(bad(read_transactions, &body), format!("{shape}{why}"));
        }
        assert_eq!(
            bad(read_sources, "[]"),
            "Failed to list sources (200): invalid response shape: Expected response body to be an object"
        );
        assert_eq!(
            bad(read_balances, r#"{"data":[null]}"#),
            "Failed to list balances (200): invalid response shape: Expected balances[0] to be an object"
        );
        let page = read_balances(&response(
            200,
            r#"{"data":[{"source_id":"s","type":"cash","new":{"a":1}}]}"#,
        ))
        .unwrap();
        assert_eq!(page["data"][0]["new"]["a"], 1);
        let e = read_sources(&response(
            403,
            r#"{"error":{"code":"insufficient_scope","message":"Nope"}}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ApiError);
        assert_eq!(e.message, "Failed to list sources (403): Nope");
    }
}
