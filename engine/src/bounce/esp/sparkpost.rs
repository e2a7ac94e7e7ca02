//! SparkPost (Bird) event webhooks.
//!
//! A POST carries a JSON array of `{"msys": {"<group>_event": {...}}}` objects (groups:
//! `message_event`, `track_event`, `gen_event`, `unsubscribe_event`, `relay_event`, ...);
//! SparkPost's test ping when a webhook is saved is `[{"msys": {}}]`. SparkPost offers basic
//! auth (or OAuth 2.0) for webhooks and no signature: Rebound takes basic auth
//! (`esp_webhooks.sparkpost_credentials`), set as the webhook's authentication in SparkPost.
//!
//! A bounce's own verdict is its `bounce_class`: SparkPost files 10 (invalid recipient), 30
//! (no RCPT) and 90 (unsubscribe) as hard, the block classes (50–54) against the sender, the
//! rest as soft, undetermined or administrative.

use serde_json::Value;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, first_text, parse_json,
    smtp_code, text_at, unix_seconds_ms,
};
use crate::bounce::reason::Reason;

/// Normalises a batch. Injections, opens, clicks, AMP, SMS and relay events yield nothing;
/// types SparkPost did not document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let v = parse_json(body)?;
    let Some(items) = v.as_array() else {
        return Err(EspError::malformed(
            "a SparkPost event batch is a JSON array",
        ));
    };
    let mut out = Normalised::default();
    for (i, item) in items.iter().enumerate() {
        let Some(msys) = item.get("msys").and_then(Value::as_object) else {
            return Err(EspError::malformed(format!("event {i} has no msys object")));
        };
        // One group per item; the ping has none.
        let Some(ev) = msys.values().find(|g| g.is_object()) else {
            continue;
        };
        let t = text_at(ev, &["type"]).unwrap_or_default();
        let kind = match t.as_str() {
            "bounce" | "out_of_band" => EventKind::Bounce,
            "delay" => EventKind::Deferral,
            "policy_rejection" | "generation_rejection" | "generation_failure" => {
                EventKind::Rejected
            }
            "spam_complaint" => EventKind::Complaint,
            "list_unsubscribe" | "link_unsubscribe" => EventKind::Unsubscribed,
            "delivery" => EventKind::Delivered,
            "injection" | "open" | "initial_open" | "click" | "amp_open" | "amp_initial_open"
            | "amp_click" | "sms_status" | "relay_injection" | "relay_rejection"
            | "relay_delivery" | "relay_tempfail" | "relay_permfail" | "ab_test_completed"
            | "ab_test_cancelled" | "success" => continue,
            other => {
                out.unknown(other);
                continue;
            }
        };
        let mut e = EspEvent::new(Provider::SparkPost, kind, ev.clone());
        e.event_id = text_at(ev, &["event_id"]);
        e.recipient = first_text(ev, &[&["rcpt_to"], &["raw_rcpt_to"]]);
        e.timestamp = ev.get("timestamp").and_then(unix_seconds_ms);
        // SparkPost's own message id is not ours; ours travels in the recipient metadata.
        e.message_id = first_text(
            ev,
            &[
                &["rcpt_meta", "message_id"],
                &["rcpt_meta", "rebound_message_id"],
            ],
        );
        e.diagnostic = first_text(ev, &[&["raw_reason"], &["reason"]]);
        e.reply_code = smtp_code(ev.get("error_code"));
        match kind {
            EventKind::Bounce | EventKind::Deferral => {
                e.esp_type = text_at(ev, &["bounce_class"]);
            }
            EventKind::Rejected => e.esp_type = Some(t.clone()),
            EventKind::Complaint => {
                e.feedback_type = text_at(ev, &["fbtype"]).or_else(|| Some("abuse".into()));
            }
            _ => {}
        }
        out.events.push(e);
    }
    Ok(out)
}

/// A `bounce_class` mapped (SparkPost's "Bounce classification codes").
pub(crate) fn opinion(kind: EventKind, t: &str, _s: &str) -> Opinion {
    let o = |reason: Option<Reason>, permanent: Option<bool>| Opinion { reason, permanent };
    match kind {
        EventKind::Bounce | EventKind::Deferral => match t {
            "10" => o(Some(Reason::UserUnknown), Some(true)),
            "30" => o(None, Some(true)),
            "90" => o(Some(Reason::Suppressed), Some(true)),
            "20" | "40" | "70" => o(None, Some(false)),
            "21" | "24" => o(Some(Reason::NetworkError), Some(false)),
            "22" => o(Some(Reason::MailboxFull), Some(false)),
            "23" => o(Some(Reason::MesgTooBig), Some(false)),
            "25" | "26" | "80" => o(Some(Reason::PolicyViolation), Some(false)),
            "50" => o(Some(Reason::Blocked), Some(false)),
            "51" | "52" => o(Some(Reason::SpamDetected), Some(false)),
            "53" => o(Some(Reason::ContentError), Some(false)),
            "54" => o(Some(Reason::NoRelaying), Some(false)),
            "60" => o(Some(Reason::Vacation), Some(false)),
            "100" => o(Some(Reason::Filtered), Some(false)),
            // 1: undetermined.
            _ => o(None, None),
        },
        // SparkPost's own policy or a template that would not render: not the address.
        EventKind::Rejected => o(Some(Reason::PolicyViolation), Some(false)),
        _ => Opinion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::{BounceClass, Classifier};

    const BATCH: &str = include_str!("fixtures/sparkpost_batch.json");

    #[test]
    fn the_batch_is_normalised_with_sparkposts_classes() {
        let n = normalise(BATCH.as_bytes()).expect("parse");
        let got: Vec<(EventKind, Option<&str>)> = n
            .events
            .iter()
            .map(|e| (e.kind, e.recipient.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::Bounce, Some("dead@example.com")),
                (EventKind::Bounce, Some("full@example.com")),
                (EventKind::Bounce, Some("blocked@example.com")),
                (EventKind::Deferral, Some("slow@example.com")),
                (EventKind::Delivered, Some("jane@example.com")),
                (EventKind::Complaint, Some("grumpy@example.com")),
                (EventKind::Rejected, Some("policy@example.com")),
                (EventKind::Unsubscribed, Some("bye@example.com")),
                (EventKind::Bounce, Some("late@example.com")),
            ],
            "the ping and the open are skipped"
        );
        assert_eq!(n.unknown, vec!["teleport".to_string()]);
        let c = Classifier::shared();
        let hard: Vec<bool> = n
            .events
            .iter()
            .map(|e| c.classify_esp(e).hard_bounce)
            .collect();
        assert_eq!(
            hard,
            vec![true, false, false, false, false, false, false, false, true]
        );
        assert_eq!(n.events[0].event_id.as_deref(), Some("92356927693813856"));
        assert_eq!(
            n.events[0].message_id.as_deref(),
            Some("<r30.a1.Sp@bounce.rebound.local>"),
            "from rcpt_meta"
        );
        assert_eq!(
            c.classify_esp(&n.events[2]).verdict.class,
            BounceClass::SenderReputation
        );
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [&b""[..], b"{}", b"[1]", b"[{}]", b"[{\"msys\":[]}]", b"[{"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalise(b"[{\"msys\":{}}]"), Ok(Normalised::default()));
    }
}
