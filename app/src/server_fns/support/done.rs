//! What a held-queue action did, as one notice naming the order(s): the
//! server function returns it (JavaScript on) and, for a plain form post
//! (JavaScript off), redirects back to the page with it in the query, where
//! the page reads it with [`Done::from_query`]. The query carries a code and
//! order numbers only, never free text, so a crafted link cannot put words
//! in the notice.

use serde::{Deserialize, Serialize};

/// The outcome of one action on one order or, in bulk, on several.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Done {
    /// What was done: `taken`, `texted`, `whatsapp`, `called`, `call_reached`,
    /// `call_no_answer`, `call_wrong_number`, `regenerated`, `emailed`,
    /// `resent`, `resolved`, or `bulk_take` / `bulk_email` / `bulk_resolve`.
    pub what: String,
    /// The orders it was done for.
    pub done: Vec<String>,
    /// The orders it could not be done for, with why (bulk actions).
    pub failed: Vec<(String, String)>,
}

/// How a notice looks: done (green) or nothing done (amber).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Nothing,
}

impl Done {
    pub fn one(what: &str, order_number: &str) -> Done {
        Done {
            what: what.to_string(),
            done: vec![order_number.to_string()],
            failed: Vec::new(),
        }
    }

    pub fn level(&self) -> Level {
        if self.done.is_empty() {
            Level::Nothing
        } else {
            Level::Ok
        }
    }

    /// The notice in words, naming the orders.
    pub fn text(&self) -> String {
        let list = self.done.join(", ");
        let one = self.done.first().cloned().unwrap_or_default();
        let n = self.done.len();
        let orders = |n: usize| {
            if n == 1 {
                "1 order".to_string()
            } else {
                format!("{n} orders")
            }
        };
        match (self.what.as_str(), n) {
            ("bulk_take", 0) => "No order was taken.".into(),
            ("bulk_take", _) => format!(
                "{} taken: {list}. Other agents see your name on them.",
                orders(n)
            ),
            ("bulk_email", 0) => "No order was sent a fresh link.".into(),
            ("bulk_email", _) => format!(
                "{} sent a fresh link by e-mail (earlier links still work): {list}.",
                orders(n)
            ),
            ("bulk_resolve", 0) => "No order was resolved.".into(),
            ("bulk_resolve", _) => format!("{} resolved: {list}.", orders(n)),
            (_, 0) => "Nothing was done.".into(),
            ("taken", _) => format!("Order {one}: you are on it. Other agents see your name."),
            ("texted", _) => {
                format!("Order {one}: a secure link was texted to the customer's phone.")
            }
            ("whatsapp", _) => {
                format!("Order {one}: a secure link was sent to the customer on WhatsApp.")
            }
            ("called", _) => format!(
                "Order {one}: the call was started, and the secure link it promises was texted to the same phone."
            ),
            ("call_reached", _) => {
                format!("Order {one}: call logged, the customer has the receipt.")
            }
            ("call_no_answer", _) => format!("Order {one}: call logged as not answered."),
            ("call_wrong_number", _) => format!("Order {one}: call logged as a wrong number."),
            ("regenerated", _) => format!(
                "Order {one}: the earlier links were revoked and a fresh link is being e-mailed through the masked sender."
            ),
            ("emailed", _) => format!(
                "Order {one}: a fresh link is being e-mailed through the masked sender (earlier links still work)."
            ),
            ("resent", _) => format!(
                "Order {one}: a fresh link is being e-mailed through the sender pool you chose."
            ),
            ("resolved", _) => format!("Order {one}: resolved."),
            _ => format!("Done for {list}."),
        }
    }

    /// The redirect's query for a plain form post: `done=…&orders=…&failed=…`.
    pub fn query(&self) -> String {
        let mut q = format!(
            "done={}&orders={}",
            enc(&self.what),
            enc(&self.done.join(","))
        );
        if !self.failed.is_empty() {
            let failed: Vec<&str> = self.failed.iter().map(|(n, _)| n.as_str()).collect();
            q.push_str(&format!("&failed={}", enc(&failed.join(","))));
        }
        q
    }

    /// The notice a redirect carried (`what`, `orders`, `failed` as read from
    /// the query); `None` when there is none or it is not one of ours.
    pub fn from_query(
        what: Option<String>,
        orders: Option<String>,
        failed: Option<String>,
    ) -> Option<Done> {
        let what = what?;
        let known = [
            "taken",
            "texted",
            "whatsapp",
            "called",
            "call_reached",
            "call_no_answer",
            "call_wrong_number",
            "regenerated",
            "emailed",
            "resent",
            "resolved",
            "bulk_take",
            "bulk_email",
            "bulk_resolve",
        ];
        if !known.contains(&what.as_str()) {
            return None;
        }
        let numbers = |s: Option<String>| -> Vec<String> {
            s.unwrap_or_default()
                .split(',')
                .filter(|n| looks_like_order_number(n))
                .take(100)
                .map(str::to_string)
                .collect()
        };
        Some(Done {
            what,
            done: numbers(orders),
            failed: numbers(failed)
                .into_iter()
                .map(|n| (n, "open the order to see why".to_string()))
                .collect(),
        })
    }
}

/// Order numbers as shops send them: letters, digits and `-_./#`, at most 64.
fn looks_like_order_number(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./#".contains(c))
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_done_is_amber_and_named() {
        let d = Done {
            what: "bulk_email".into(),
            ..Default::default()
        };
        assert_eq!(d.level(), Level::Nothing);
        assert_eq!(d.text(), "No order was sent a fresh link.");
        let d = Done {
            what: "bulk_take".into(),
            done: vec!["A-1".into(), "B-2".into()],
            failed: vec![],
        };
        assert_eq!(d.level(), Level::Ok);
        assert!(
            d.text().contains("2 orders taken: A-1, B-2."),
            "{}",
            d.text()
        );
    }

    #[test]
    fn the_query_round_trips_codes_and_numbers_only() {
        let d = Done {
            what: "bulk_resolve".into(),
            done: vec!["A-1".into()],
            failed: vec![("C-3".into(), "no open case".into())],
        };
        assert_eq!(d.query(), "done=bulk_resolve&orders=A-1&failed=C-3");
        let back = Done::from_query(
            Some("bulk_resolve".into()),
            Some("A-1".into()),
            Some("C-3".into()),
        );
        assert_eq!(
            back.as_ref().map(|b| b.done.clone()),
            Some(vec!["A-1".to_string()])
        );
        assert!(Done::from_query(Some("<script>".into()), None, None).is_none());
        let odd = Done::from_query(Some("taken".into()), Some("Call us at +1 555".into()), None);
        assert_eq!(odd.map(|d| d.done), Some(vec![]));
    }
}
