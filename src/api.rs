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
}
