//! Message-level classification: [`parse_message`](super::parse_message) + [`Classifier`].

use serde::{Deserialize, Serialize};

use super::parse::{ParseError, parse_message};
use super::reason::{BounceClass, Reason};
use super::reply::SmtpReply;
use super::report::{RecipientReport, ReportKind};
use super::rules::{Classifier, Context, Stage, Verdict, parse_status};

/// The verdict for one recipient of a bounce/complaint/auto-reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientVerdict {
    /// The recipient address (final, else original), if the report names one.
    pub recipient: Option<String>,
    /// The report kind this came from.
    pub kind: ReportKind,
    /// Everything the report said about this recipient.
    pub report: RecipientReport,
    /// The reply that was classified (diagnostic + status).
    pub reply: SmtpReply,
    /// Reason, class and deciding rule.
    pub verdict: Verdict,
    /// True exactly when the class is `recipient_permanent` (a temporary 4xx or delayed report
    /// never gets that class): suppress the address.
    pub hard_bounce: bool,
    /// Original Message-ID (correlation).
    pub original_message_id: Option<String>,
    /// VERP token (correlation).
    pub verp_token: Option<String>,
}

/// The reply to classify: the diagnostic text, with the DSN `Status` used when the text
/// carries no (or only a generic x.0.0) enhanced code, and the report's reply code as fallback.
pub fn reply_for(r: &RecipientReport) -> SmtpReply {
    let mut reply = SmtpReply::parse(r.diagnostic.as_deref().unwrap_or(""));
    // A transcript holds several replies: a 250 to an earlier command must not hide the
    // failure that came after it (a 451 after DATA is no delivery).
    let positive = |e: Option<&str>| e.is_some_and(|e| e.starts_with("2."));
    let failed_report = r
        .action
        .as_deref()
        .is_some_and(|a| a.starts_with("failed") || a.starts_with("delayed"))
        || r.status
            .as_deref()
            .is_some_and(|s| s.starts_with('4') || s.starts_with('5'));
    if positive(reply.enhanced.as_deref()) || reply.code.is_some_and(|c| c < 300) {
        if let Some(e) = super::reply::find_failure_enhanced(&reply.text) {
            reply.enhanced = Some(e.to_string());
        } else if failed_report {
            reply.enhanced = None;
        }
        if let Some((c, _)) = super::reply::find_reply_code(&reply.text) {
            reply.code = Some(c);
        } else if failed_report {
            reply.code = None;
        }
    }
    if let Some(st) = r.status.as_deref()
        && parse_status(st).is_some()
    {
        let generic = |e: &str| parse_status(e).is_none_or(|p| p[1] == 0 && p[2] == 0);
        match reply.enhanced.as_deref() {
            None => reply.enhanced = Some(st.to_string()),
            Some(e) if generic(e) && !generic(st) => reply.enhanced = Some(st.to_string()),
            _ => {}
        }
    }
    if reply.code.is_none() {
        reply.code = r.reply_code;
    }
    reply
}

impl Classifier {
    /// Classifies one recipient of a parsed report.
    pub fn classify_recipient(
        &self,
        kind: ReportKind,
        r: &RecipientReport,
    ) -> (SmtpReply, Verdict) {
        let reply = reply_for(r);
        let fixed = |reason: Reason, id: &str| Verdict {
            reason,
            class: reason.class(),
            rule_id: id.to_string(),
            stage: Stage::Fallback,
        };
        match kind {
            ReportKind::Feedback => return (reply, fixed(Reason::Feedback, "arf-feedback")),
            ReportKind::AutoReply => return (reply, fixed(Reason::Vacation, "rfc3834-auto-reply")),
            _ => {}
        }
        let action = r.action.as_deref().unwrap_or("");
        if matches!(action, "delivered" | "relayed" | "expanded")
            || reply
                .enhanced
                .as_deref()
                .is_some_and(|e| e.starts_with("2."))
        {
            return (reply, fixed(Reason::Delivered, "dsn-delivered"));
        }
        let mut v = self.classify_with(
            &reply,
            &Context {
                esp_verdict: None,
                command: r.smtp_command.as_deref(),
                mta: r.mta.as_deref(),
            },
        );
        let delayed = action.starts_with("delayed");
        if delayed && v.stage >= Stage::StatusClass {
            v = fixed(Reason::Expired, "dsn-delayed");
        }
        // A temporary failure never makes an address dead, whatever its wording: the reason is
        // kept for the record, the class (and so `hard_bounce`) says what to do.
        if v.class == BounceClass::RecipientPermanent && (delayed || reply.is_temporary()) {
            v.class = BounceClass::Transient;
        }
        (reply, v)
    }

    /// Parses `raw` and classifies every recipient.
    pub fn classify_message(&self, raw: &[u8]) -> Result<Vec<RecipientVerdict>, ParseError> {
        let report = parse_message(raw)?;
        let out = report
            .recipients
            .iter()
            .map(|r| {
                let (reply, verdict) = self.classify_recipient(report.kind, r);
                // One source of truth: the class decides.
                let hard_bounce = verdict.class == BounceClass::RecipientPermanent;
                RecipientVerdict {
                    recipient: r.address().map(str::to_string),
                    kind: report.kind,
                    report: r.clone(),
                    reply,
                    verdict,
                    hard_bounce,
                    original_message_id: report.original_message_id.clone(),
                    verp_token: report.verp_token.clone(),
                }
            })
            .collect();
        Ok(out)
    }
}
