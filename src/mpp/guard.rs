//! Guardrails of the payments that agent code starts without a command per payment
//! (`link.fetch`, the mppx payment method, the WIT `client.fetch`): every 402 such code meets
//! would otherwise become a spend request on the person's phone. They are checked before a
//! spend request is created, so a refused payment never reaches the person, and the agent
//! cannot argue with them: the limits are the caller's options, the state is the client's.
//!
//! - `max_amount`: cents per payment (default [`DEFAULT_MAX_AMOUNT`]).
//! - `max_total`: cents per client, approved or waiting for approval (default
//!   [`DEFAULT_MAX_TOTAL`]).
//! - `realm_mismatch`: the challenge's realm must be the request URL's host (or a parent
//!   domain of it), unless it is one of `allow_realms`.
//! - `expired`: the challenge's `expires` has passed.
//! - `already_paid`: one approval per challenge id, and a challenge whose shared payment token
//!   was handed out is never paid again (the token is spent; a retry would be a second charge).
//!
//! A refusal is `PAYMENT_GUARDRAIL` with `details.reason` (one of the names above). Amounts
//! are the challenge's smallest currency unit, whatever the currency.

use crate::error::{Error, ErrorCode, Result};

/// Cents one payment may cost unless the caller says otherwise ($50).
pub const DEFAULT_MAX_AMOUNT: u64 = 5_000;
/// Cents one client may spend unless the caller says otherwise ($200).
pub const DEFAULT_MAX_TOTAL: u64 = 20_000;

/// The caller's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_amount: u64,
    pub max_total: u64,
    /// Realms allowed to differ from the request URL's host (lower-cased).
    pub allow_realms: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_amount: DEFAULT_MAX_AMOUNT,
            max_total: DEFAULT_MAX_TOTAL,
            allow_realms: Vec::new(),
        }
    }
}

/// A payment asked for, as the guardrails see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask<'a> {
    pub challenge_id: &'a str,
    pub realm: &'a str,
    /// Smallest currency unit.
    pub amount: u64,
    pub currency: &'a str,
    /// The challenge's `expires` has passed.
    pub expired: bool,
    /// Whether the realm is the request URL's host or a parent domain of it; `None` when there
    /// is no URL to compare with (the mppx method), and then, if `allow_realms` is given, the
    /// realm must be one of them.
    pub realm_matches: Option<bool>,
}

impl<'a> Ask<'a> {
    /// The ask for a selected stripe challenge, from its decoder's warnings. `url_known`: the
    /// challenge came from a URL whose host the realm was compared with (`realm_mismatch`).
    pub fn of(stripe: &'a super::stripe::StripeChallenge, url_known: bool) -> Self {
        let warned = |code: &str| stripe.warnings.iter().any(|w| w.code == code);
        Ask {
            challenge_id: stripe.challenge.id(),
            realm: stripe.challenge.realm(),
            amount: stripe.amount,
            currency: &stripe.currency,
            expired: warned("expired"),
            realm_matches: url_known.then(|| !warned("realm_mismatch")),
        }
    }
}

/// Why a payment was refused (`details.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    MaxAmount,
    MaxTotal,
    RealmMismatch,
    Expired,
    AlreadyPaid,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MaxAmount => "max_amount",
            Reason::MaxTotal => "max_total",
            Reason::RealmMismatch => "realm_mismatch",
            Reason::Expired => "expired",
            Reason::AlreadyPaid => "already_paid",
        }
    }
}

/// What one client has spent through the guardrails. Kept in the client (the core), so no
/// caller-side code can reset it between calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Cents approved, plus those of the payments waiting for approval.
    total: u64,
    /// Challenge ids waiting for the person, with their amounts.
    pending: Vec<(String, u64)>,
    /// Challenge ids whose shared payment token was handed out.
    paid: Vec<String>,
}

impl Ledger {
    /// Cents approved or waiting for approval.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The first guardrail `ask` breaks, in this order: already paid (or being approved),
    /// expired, realm, the per-payment cap, the per-client cap.
    pub fn check(&self, ask: &Ask<'_>, limits: &Limits) -> std::result::Result<(), Reason> {
        let id = ask.challenge_id;
        if self.paid.iter().any(|p| p == id) || self.pending.iter().any(|(p, _)| p == id) {
            return Err(Reason::AlreadyPaid);
        }
        if ask.expired {
            return Err(Reason::Expired);
        }
        let realm = ask.realm.trim_end_matches('.').to_ascii_lowercase();
        let allowed = limits.allow_realms.contains(&realm);
        let realm_ok = match ask.realm_matches {
            Some(matches) => matches || allowed,
            None => limits.allow_realms.is_empty() || allowed,
        };
        if !realm_ok {
            return Err(Reason::RealmMismatch);
        }
        if ask.amount > limits.max_amount {
            return Err(Reason::MaxAmount);
        }
        if self.total.saturating_add(ask.amount) > limits.max_total {
            return Err(Reason::MaxTotal);
        }
        Ok(())
    }

    /// Checks `ask` and, when it passes, holds its amount against `max_total` while the person
    /// decides ([`Ledger::commit`] or [`Ledger::release`] ends the hold).
    pub fn reserve(&mut self, ask: &Ask<'_>, limits: &Limits) -> Result<()> {
        if let Err(reason) = self.check(ask, limits) {
            return Err(refusal(reason, ask, limits, self.total));
        }
        self.total += ask.amount;
        self.pending
            .push((ask.challenge_id.to_string(), ask.amount));
        Ok(())
    }

    /// The payment of `challenge_id` was approved and its token handed out: spent for good.
    pub fn commit(&mut self, challenge_id: &str) {
        if let Some(at) = self.pending.iter().position(|(p, _)| p == challenge_id) {
            self.pending.swap_remove(at);
            self.paid.push(challenge_id.to_string());
        }
    }

    /// The payment of `challenge_id` did not happen (denied, timed out, failed): its amount no
    /// longer counts, and the challenge may be paid again.
    pub fn release(&mut self, challenge_id: &str) {
        if let Some(at) = self.pending.iter().position(|(p, _)| p == challenge_id) {
            let (_, amount) = self.pending.swap_remove(at);
            self.total = self.total.saturating_sub(amount);
        }
    }
}

/// The `PAYMENT_GUARDRAIL` error for `reason`.
fn refusal(reason: Reason, ask: &Ask<'_>, limits: &Limits, total: u64) -> Error {
    let (amount, currency, realm) = (ask.amount, ask.currency, ask.realm);
    let why = match reason {
        Reason::MaxAmount => format!(
            "{amount} {currency} is over the {} per payment allowed (maxAmount)",
            limits.max_amount
        ),
        Reason::MaxTotal => format!(
            "{amount} {currency} would bring this client's payments to {}, over the {} allowed (maxTotal)",
            total.saturating_add(amount),
            limits.max_total
        ),
        Reason::RealmMismatch => format!(
            "the challenge's realm {} is not the host asked (allowRealms can admit it)",
            crate::sanitize::for_display(realm)
        ),
        Reason::Expired => "the challenge has expired".to_string(),
        Reason::AlreadyPaid => "this challenge was already paid or is being approved".to_string(),
    };
    Error::new(
        ErrorCode::PaymentGuardrail,
        format!("Payment refused ({}): {why}", reason.as_str()),
    )
    .with_details(object!({
        "reason": reason.as_str(),
        "challenge_id": crate::sanitize::for_display(ask.challenge_id),
        "realm": crate::sanitize::for_display(realm),
        "amount": amount,
        "currency": crate::sanitize::for_display(currency),
        "max_amount": limits.max_amount,
        "max_total": limits.max_total,
        "total": total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(id: &str, amount: u64) -> Ask<'_> {
        Ask {
            challenge_id: id,
            realm: "shop.example",
            amount,
            currency: "usd",
            expired: false,
            realm_matches: Some(true),
        }
    }

    fn reason(e: &Error) -> &str {
        assert_eq!(e.code, ErrorCode::PaymentGuardrail);
        e.details
            .as_deref()
            .and_then(|d| d.get("reason"))
            .and_then(serde_json::Value::as_str)
            .unwrap()
    }

    #[test]
    fn the_per_payment_cap_is_inclusive() {
        let mut l = Ledger::default();
        let limits = Limits::default();
        assert!(l.reserve(&ask("a", DEFAULT_MAX_AMOUNT), &limits).is_ok());
        let e = l
            .reserve(&ask("b", DEFAULT_MAX_AMOUNT + 1), &limits)
            .unwrap_err();
        assert_eq!(reason(&e), "max_amount");
        assert_eq!(l.total(), DEFAULT_MAX_AMOUNT, "a refusal holds nothing");
    }

    #[test]
    fn the_total_counts_pending_and_paid_and_forgets_released() {
        let mut l = Ledger::default();
        let limits = Limits {
            max_total: 300,
            ..Limits::default()
        };
        l.reserve(&ask("a", 100), &limits).unwrap();
        l.reserve(&ask("b", 150), &limits).unwrap();
        l.commit("a");
        let e = l.reserve(&ask("c", 100), &limits).unwrap_err();
        assert_eq!(reason(&e), "max_total");
        let details = e.details.as_deref().unwrap();
        assert_eq!(details["total"], 250);
        // `b` was denied: its amount is free again, and its challenge may be paid.
        l.release("b");
        assert_eq!(l.total(), 100);
        l.reserve(&ask("c", 200), &limits).unwrap();
        l.reserve(&ask("b", 0), &limits).unwrap();
        assert_eq!(l.total(), 300);
    }

    #[test]
    fn one_approval_per_challenge_and_no_second_payment() {
        let mut l = Ledger::default();
        let limits = Limits::default();
        l.reserve(&ask("a", 100), &limits).unwrap();
        let e = l.reserve(&ask("a", 100), &limits).unwrap_err();
        assert_eq!(reason(&e), "already_paid", "while the person decides");
        l.commit("a");
        let e = l.reserve(&ask("a", 100), &limits).unwrap_err();
        assert_eq!(reason(&e), "already_paid", "once its token is spent");
        // Committing or releasing an id never reserved changes nothing.
        l.release("zzz");
        l.commit("zzz");
        assert_eq!(l.total(), 100);
    }

    #[test]
    fn expired_challenges_are_refused() {
        let mut l = Ledger::default();
        let e = l
            .reserve(
                &Ask {
                    expired: true,
                    ..ask("a", 1)
                },
                &Limits::default(),
            )
            .unwrap_err();
        assert_eq!(reason(&e), "expired");
    }

    #[test]
    fn realms_must_match_unless_allowed() {
        let l = Ledger::default();
        let other = Ask {
            realm: "Pay.Example.",
            realm_matches: Some(false),
            ..ask("a", 1)
        };
        let limits = Limits::default();
        assert_eq!(l.check(&other, &limits), Err(Reason::RealmMismatch));
        let allowing = Limits {
            allow_realms: vec!["pay.example".into()],
            ..Limits::default()
        };
        assert_eq!(l.check(&other, &allowing), Ok(()));
        // No URL to compare with: anything, unless allowRealms names the realms.
        let unknown = Ask {
            realm_matches: None,
            ..other.clone()
        };
        assert_eq!(l.check(&unknown, &limits), Ok(()));
        assert_eq!(l.check(&unknown, &allowing), Ok(()));
        let elsewhere = Limits {
            allow_realms: vec!["shop.example".into()],
            ..Limits::default()
        };
        assert_eq!(l.check(&unknown, &elsewhere), Err(Reason::RealmMismatch));
    }

    #[test]
    fn the_first_broken_rule_is_reported() {
        let l = Ledger::default();
        let everything = Ask {
            expired: true,
            realm_matches: Some(false),
            amount: u64::MAX,
            ..ask("a", 0)
        };
        assert_eq!(
            l.check(&everything, &Limits::default()),
            Err(Reason::Expired)
        );
        let over = Ask {
            amount: u64::MAX,
            ..ask("a", 0)
        };
        assert_eq!(l.check(&over, &Limits::default()), Err(Reason::MaxAmount));
        let limits = Limits {
            max_amount: u64::MAX,
            ..Limits::default()
        };
        assert_eq!(
            l.check(&over, &limits),
            Err(Reason::MaxTotal),
            "no overflow"
        );
    }
}
