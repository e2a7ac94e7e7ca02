//! The fallback decision: who gets what when email has failed.
//!
//! | customer                                  | address   | action                                  |
//! |-------------------------------------------|-----------|-----------------------------------------|
//! | logged in (with a customer reference)     | any       | account notification + `receipt.held`   |
//! | guest, social login, or no reference, opted in to WhatsApp (and it is on) | any | secure link on WhatsApp |
//! | guest, social login, or no reference      | alive     | secure link re-sent via the masked pool |
//! | guest, social login, or no reference      | dead      | support queue, critical                 |
//! | any, total ≥ `critical_total_minor`       | any       | also the support queue, high priority   |
//! | any, customer reported it missing         | any       | also the support queue, critical        |
//! | masked re-send failed (later, by the job) | any       | support queue, critical                 |
//! | WhatsApp failed (refused, or `failed`/`undelivered` reported) | any | support queue, critical |
//!
//! WhatsApp comes before every other channel for a customer who agreed to it:
//! it is where the customers of this product's shops read their messages.

use serde::{Deserialize, Serialize};

use crate::config::FallbackConfig;

/// What the engine knows about a held order when it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `logged_in`, `social` or `guest`.
    pub account_kind: String,
    pub has_customer_ref: bool,
    /// Hard-bounced or suppressed: email to it will never arrive.
    pub dead_address: bool,
    /// Soft failures before the order was held.
    pub soft_failures: i64,
    pub total_minor: i64,
    pub currency: String,
    pub customer_reported: bool,
    /// The customer agreed to WhatsApp, the order has a phone number and a
    /// WhatsApp provider is configured.
    pub whatsapp: bool,
}

/// Support priorities: 1 is the most urgent.
pub const PRIORITY_CRITICAL: i64 = 1;
pub const PRIORITY_HIGH_VALUE: i64 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Post an account notification (and the `receipt.held` shop event).
    pub notify_account: bool,
    /// Send a secure link through the masked sender pool.
    pub masked_link: bool,
    /// Send a secure link on WhatsApp.
    pub whatsapp_link: bool,
    /// Open a support case with this priority.
    pub support_priority: Option<i64>,
    /// `notification`, `whatsapp_link`, `masked_link` or `critical` (stored on the order).
    pub path: String,
    /// The decision in words, for the timeline and the support queue.
    pub why: String,
}

pub fn decide(f: &Facts, cfg: &FallbackConfig) -> Decision {
    let logged_in = f.account_kind == "logged_in" && f.has_customer_ref;
    let who = match f.account_kind.as_str() {
        "logged_in" if f.has_customer_ref => "logged-in customer",
        "logged_in" => "logged-in customer without a customer reference",
        "social" => "social-login customer",
        _ => "guest",
    };
    let mut why = vec![who.to_string()];
    if f.dead_address {
        why.push("the address is dead".into());
    } else if f.soft_failures > 0 {
        why.push(format!(
            "{} soft failure{}",
            f.soft_failures,
            if f.soft_failures == 1 { "" } else { "s" }
        ));
    }
    let notify_account = logged_in;
    let whatsapp_link = !logged_in && f.whatsapp;
    let masked_link = !logged_in && !f.dead_address && !whatsapp_link;
    let mut priority = None;
    if !logged_in && f.dead_address && !whatsapp_link {
        priority = Some(PRIORITY_CRITICAL);
    }
    if f.customer_reported {
        why.push("the customer reported the receipt missing".into());
        priority = Some(PRIORITY_CRITICAL);
    }
    if f.total_minor >= cfg.critical_total_minor {
        why.push(format!(
            "order total {} at or above the support threshold",
            crate::money::format_minor_code(f.total_minor, &f.currency)
                .unwrap_or_else(|_| f.total_minor.to_string())
        ));
        priority = Some(priority.map_or(PRIORITY_HIGH_VALUE, |p: i64| p.min(PRIORITY_HIGH_VALUE)));
    }
    if notify_account {
        why.push("account notification posted".into());
    }
    if whatsapp_link {
        why.push("secure link sent on WhatsApp (the customer opted in)".into());
    }
    if masked_link {
        why.push("masked re-send queued".into());
    }
    if priority.is_some() {
        why.push("sent to support".into());
    }
    let path = if notify_account {
        "notification"
    } else if whatsapp_link {
        "whatsapp_link"
    } else if masked_link {
        "masked_link"
    } else {
        "critical"
    };
    Decision {
        notify_account,
        masked_link,
        whatsapp_link,
        support_priority: priority,
        path: path.into(),
        why: why.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: &str, dead: bool) -> Facts {
        Facts {
            account_kind: kind.into(),
            has_customer_ref: kind == "logged_in",
            dead_address: dead,
            soft_failures: if dead { 0 } else { 3 },
            total_minor: 4_200,
            currency: "EUR".into(),
            customer_reported: false,
            whatsapp: false,
        }
    }

    #[test]
    fn the_readme_table() {
        let cfg = FallbackConfig::default();
        // (kind, dead) → (notify, masked, priority, path)
        let table = [
            (("logged_in", false), (true, false, None, "notification")),
            (("logged_in", true), (true, false, None, "notification")),
            (("guest", false), (false, true, None, "masked_link")),
            (("social", false), (false, true, None, "masked_link")),
            (("guest", true), (false, false, Some(1), "critical")),
            (("social", true), (false, false, Some(1), "critical")),
        ];
        for ((kind, dead), (notify, masked, prio, path)) in table {
            let d = decide(&facts(kind, dead), &cfg);
            assert_eq!(
                (
                    d.notify_account,
                    d.masked_link,
                    d.support_priority,
                    d.path.as_str()
                ),
                (notify, masked, prio, path),
                "{kind} dead={dead}: {}",
                d.why
            );
        }
    }

    #[test]
    fn whatsapp_comes_first_for_guests_who_opted_in() {
        let cfg = FallbackConfig::default();
        for (kind, dead) in [("guest", false), ("guest", true), ("social", true)] {
            let mut f = facts(kind, dead);
            f.whatsapp = true;
            let d = decide(&f, &cfg);
            assert_eq!(
                (
                    d.whatsapp_link,
                    d.masked_link,
                    d.support_priority,
                    d.path.as_str()
                ),
                (true, false, None, "whatsapp_link"),
                "{kind} dead={dead}: {}",
                d.why
            );
            assert!(d.why.contains("WhatsApp"), "{}", d.why);
        }
        // A logged-in customer has the account notification; no WhatsApp.
        let mut f = facts("logged_in", false);
        f.whatsapp = true;
        let d = decide(&f, &cfg);
        assert!(d.notify_account && !d.whatsapp_link, "{}", d.why);
        // High value still goes to support beside the WhatsApp link.
        let mut f = facts("guest", false);
        f.whatsapp = true;
        f.total_minor = cfg.critical_total_minor;
        let d = decide(&f, &cfg);
        assert!(d.whatsapp_link);
        assert_eq!(d.support_priority, Some(PRIORITY_HIGH_VALUE));
    }

    #[test]
    fn explains_itself() {
        let d = decide(&facts("guest", false), &FallbackConfig::default());
        assert_eq!(d.why, "guest, 3 soft failures, masked re-send queued");
    }

    #[test]
    fn logged_in_without_reference_is_treated_as_guest() {
        let mut f = facts("logged_in", false);
        f.has_customer_ref = false;
        let d = decide(&f, &FallbackConfig::default());
        assert!(d.masked_link && !d.notify_account);
    }

    #[test]
    fn high_value_and_reported_orders_go_to_support_too() {
        let cfg = FallbackConfig::default();
        let mut f = facts("logged_in", false);
        f.total_minor = cfg.critical_total_minor;
        let d = decide(&f, &cfg);
        assert!(d.notify_account);
        assert_eq!(d.support_priority, Some(PRIORITY_HIGH_VALUE));
        assert!(d.why.contains("EUR 500.00"), "{}", d.why);
        f.customer_reported = true;
        assert_eq!(decide(&f, &cfg).support_priority, Some(PRIORITY_CRITICAL));
    }
}
