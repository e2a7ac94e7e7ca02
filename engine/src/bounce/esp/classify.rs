//! One ESP event → the verdict a DSN recipient gets, with the provider's own verdict counted.

use super::{EspEvent, EventKind};
use crate::bounce::classify::{RecipientVerdict, reply_for};
use crate::bounce::reason::{BounceClass, Reason};
use crate::bounce::report::{RecipientReport, ReportKind};
use crate::bounce::rules::{Classifier, Context, Stage, Verdict};

/// The verdict for one ESP event, in the same shape a DSN recipient gets, so the rest of the
/// pipeline (correlation, storage, suppression, retries) is unchanged.
///
/// `hard_bounce` is the provider's verdict where it gives one: a bounce it calls permanent is
/// hard even without diagnostic text (it will refuse the address itself from now on), unless
/// the provider's reason or precise text blames our sending or the content; one it calls
/// temporary never is. A rejection is hard only when its reason is the address (invalid
/// or on the provider's suppression list), not the content or a policy.
pub fn classify_event(classifier: &Classifier, ev: &EspEvent) -> RecipientVerdict {
    let report = RecipientReport {
        final_recipient: ev.recipient.clone(),
        action: match ev.kind {
            EventKind::Bounce | EventKind::Rejected => Some("failed".into()),
            EventKind::Deferral => Some("delayed".into()),
            EventKind::Delivered => Some("delivered".into()),
            EventKind::Complaint | EventKind::Unsubscribed => None,
        },
        status: ev.enhanced.clone(),
        diagnostic: ev.diagnostic.clone(),
        reply_code: ev.reply_code,
        feedback_type: ev.feedback_type.clone(),
        ..RecipientReport::default()
    };
    let reply = reply_for(&report);
    let fixed = |reason: Reason, id: String| Verdict {
        reason,
        class: reason.class(),
        rule_id: id,
        stage: Stage::Esp,
    };
    let provider = ev.provider.as_str();
    let opinion = ev.opinion();
    let temporary = opinion.permanent == Some(false) || ev.kind == EventKind::Deferral;
    let permanent = opinion.permanent == Some(true) && !temporary;
    let verdict = match ev.kind {
        EventKind::Complaint => fixed(Reason::Feedback, format!("esp-{provider}-complaint")),
        EventKind::Delivered => fixed(Reason::Delivered, format!("esp-{provider}-delivered")),
        // The recipient asked the provider to stop; the provider drops later sends to it.
        EventKind::Unsubscribed => {
            fixed(Reason::Suppressed, format!("esp-{provider}-unsubscribed"))
        }
        EventKind::Bounce | EventKind::Deferral | EventKind::Rejected => {
            let rules = classifier.classify_with(&reply, &Context::default());
            let precise = rules.stage < Stage::TextWeak;
            let mut v = match opinion.reason {
                // A precise rule (not a vague text, a code class or a bare reply code) names
                // the provider's class more precisely.
                Some(r) if rules.class == r.class() && precise => rules,
                Some(r) => fixed(r, format!("esp-{provider}")),
                None => rules,
            };
            if ev.kind == EventKind::Deferral && v.stage >= Stage::StatusClass {
                v = fixed(Reason::Expired, format!("esp-{provider}-deferred"));
            }
            if temporary && v.class == BounceClass::RecipientPermanent {
                // The provider says it may still work: the reason is kept for the record,
                // but it is acted on as a passing failure.
                v.class = BounceClass::Transient;
            }
            if permanent && ev.kind == EventKind::Bounce && v.class == BounceClass::Transient {
                // The provider's permanent verdict with no text, vague text or text of a
                // passing failure: it has decided the address is dead, and that decides.
                // (Text that blames our sending or the content keeps its class: the
                // provider's verdict is about this message, not the address.)
                v.class = BounceClass::RecipientPermanent;
                v.rule_id = format!("esp-{provider}-permanent");
                v.stage = Stage::Esp;
            }
            v
        }
    };
    let hard_bounce = match ev.kind {
        EventKind::Bounce if permanent => verdict.class == BounceClass::RecipientPermanent,
        EventKind::Bounce => {
            opinion.permanent.is_none()
                && verdict.class == BounceClass::RecipientPermanent
                && !reply.is_temporary()
        }
        EventKind::Rejected => {
            !temporary && verdict.class == BounceClass::RecipientPermanent && !reply.is_temporary()
        }
        _ => false,
    };
    RecipientVerdict {
        recipient: ev.recipient.clone(),
        kind: if matches!(ev.kind, EventKind::Complaint | EventKind::Unsubscribed) {
            ReportKind::Feedback
        } else {
            ReportKind::Dsn
        },
        report,
        reply,
        verdict,
        hard_bounce,
        original_message_id: ev.message_id.clone(),
        verp_token: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::esp::Provider;
    use serde_json::json;

    fn event(provider: Provider, kind: EventKind) -> EspEvent {
        let mut e = EspEvent::new(provider, kind, json!({}));
        e.recipient = Some("jane@example.com".into());
        e
    }

    #[test]
    fn ses_permanent_general_with_5_1_1_is_a_dead_address() {
        let mut e = event(Provider::Ses, EventKind::Bounce);
        e.esp_type = Some("Permanent".into());
        e.esp_subtype = Some("General".into());
        e.enhanced = Some("5.1.1".into());
        e.diagnostic = Some("smtp; 550 5.1.1 user unknown".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(v.verdict.reason, Reason::UserUnknown);
        assert_eq!(v.verdict.class, BounceClass::RecipientPermanent);
        assert!(v.hard_bounce);
    }

    #[test]
    fn a_permanent_verdict_without_text_is_hard_on_its_own() {
        for (p, t, s) in [
            (Provider::Ses, "Permanent", "General"),
            (Provider::Postmark, "HardBounce", "1"),
            (Provider::Mailgun, "permanent", ""),
            (Provider::SendGrid, "bounce", ""),
        ] {
            let mut e = event(p, EventKind::Bounce);
            e.esp_type = Some(t.into());
            e.esp_subtype = (!s.is_empty()).then(|| s.to_string());
            let v = classify_event(Classifier::shared(), &e);
            assert!(v.hard_bounce, "{p}");
            assert_eq!(v.verdict.class, BounceClass::RecipientPermanent, "{p}");
            assert_eq!(v.verdict.rule_id, format!("esp-{p}-permanent"));
        }
    }

    #[test]
    fn ses_transient_never_suppresses() {
        let mut e = event(Provider::Ses, EventKind::Bounce);
        e.esp_type = Some("Transient".into());
        e.esp_subtype = Some("General".into());
        e.diagnostic = Some("smtp; 550 5.1.1 user unknown".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(v.verdict.reason, Reason::UserUnknown, "kept for the record");
        assert_eq!(v.verdict.class, BounceClass::Transient);
        assert!(!v.hard_bounce);
    }

    #[test]
    fn a_reliable_verdict_beats_vague_text_and_is_refined_by_precise_text() {
        let mut e = event(Provider::SendGrid, EventKind::Bounce);
        e.esp_type = Some("blocked".into());
        e.esp_subtype = Some("Reputation".into());
        e.diagnostic = Some("550 rejected".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(
            (v.verdict.reason, v.verdict.rule_id.as_str()),
            (Reason::BadReputation, "esp-sendgrid")
        );
        e.diagnostic = Some(
            "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Spamhaus".into(),
        );
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(v.verdict.class, BounceClass::SenderReputation);
        assert_ne!(v.verdict.rule_id, "esp-sendgrid", "the text decided");
        assert!(!v.hard_bounce);
    }

    #[test]
    fn rejections_are_hard_only_for_the_address() {
        let mut e = event(Provider::SendGrid, EventKind::Rejected);
        e.esp_type = Some("dropped".into());
        e.esp_subtype = Some("Bounced Address".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::Suppressed, true)
        );
        e.esp_subtype = Some("Spam Content (if spam checker app enabled)".into());
        let v = classify_event(Classifier::shared(), &e);
        assert!(!v.hard_bounce);
        let mut r = event(Provider::Ses, EventKind::Rejected);
        r.esp_type = Some("Reject".into());
        r.diagnostic = Some("Bad content".into());
        let v = classify_event(Classifier::shared(), &r);
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::VirusDetected, false)
        );
    }

    #[test]
    fn complaints_unsubscribes_deliveries_and_deferrals() {
        let v = classify_event(
            Classifier::shared(),
            &event(Provider::Mailgun, EventKind::Complaint),
        );
        assert_eq!(
            (v.verdict.class, v.kind, v.hard_bounce),
            (BounceClass::Complaint, ReportKind::Feedback, false)
        );
        let v = classify_event(
            Classifier::shared(),
            &event(Provider::Mailgun, EventKind::Unsubscribed),
        );
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::Suppressed, false)
        );
        let v = classify_event(
            Classifier::shared(),
            &event(Provider::Postmark, EventKind::Delivered),
        );
        assert_eq!(v.verdict.class, BounceClass::Delivered);
        let mut e = event(Provider::SendGrid, EventKind::Deferral);
        e.diagnostic = Some("451 4.3.0 try again later".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_ne!(v.verdict.class, BounceClass::RecipientPermanent);
        assert_eq!(v.report.action.as_deref(), Some("delayed"));
        assert!(!v.hard_bounce);
    }
}
