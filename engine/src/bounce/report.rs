//! What a bounce says, as data: the [`Report`] of one message and the [`RecipientReport`] of
//! each recipient, shared by every reader of a format (`parse`, `text`, `arf`, `decode`), and
//! the RFC 3464 `message/delivery-status` field parser that fills them.

use serde::{Deserialize, Serialize};

use super::headers::{parse_fields, strip_addr_type};
use super::reply::{find_enhanced, find_reply_code, leading_code};

/// What kind of report a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// RFC 3464 delivery status notification (`multipart/report; report-type=delivery-status`).
    Dsn,
    /// A non-standard bounce (plain-text MTA formats: qmail, Exim, old Sendmail, Exchange ...).
    Bounce,
    /// RFC 5965 ARF feedback (complaint) report.
    Feedback,
    /// RFC 3834 automatic reply (vacation, out of office).
    AutoReply,
    /// Anything else.
    NotABounce,
}

/// One recipient of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientReport {
    /// `Final-Recipient` (or the address the text names).
    pub final_recipient: Option<String>,
    /// `Original-Recipient` / ARF `Original-Rcpt-To`.
    pub original_recipient: Option<String>,
    /// `Action` (failed, delayed, delivered, relayed, expanded), lowercase.
    pub action: Option<String>,
    /// `Status` enhanced code (or the one found in the text).
    pub status: Option<String>,
    /// Diagnostic text (`Diagnostic-Code` without its type, or the MTA's explanation).
    pub diagnostic: Option<String>,
    /// `Remote-MTA` (without the `dns;` type).
    pub remote_mta: Option<String>,
    /// SMTP reply code found in the diagnostic.
    pub reply_code: Option<u16>,
    /// The SMTP command the remote host was answering (`RCPT`, `MAIL`, `DATA`, ...), when stated.
    pub smtp_command: Option<String>,
    /// ARF `Feedback-Type` (abuse, fraud, opt-out, ...).
    pub feedback_type: Option<String>,
    /// ARF `Source-IP`.
    pub source_ip: Option<String>,
    /// The MTA family that wrote the report (`postfix`, `exim`, ...; see [`super::Mta`]),
    /// when its decoder recognised it.
    #[serde(default)]
    pub mta: Option<String>,
}

impl RecipientReport {
    /// The best address for this recipient: final, else original.
    pub fn address(&self) -> Option<&str> {
        self.final_recipient
            .as_deref()
            .or(self.original_recipient.as_deref())
    }
}

/// A parsed bounce/complaint/auto-reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The kind.
    pub kind: ReportKind,
    /// One entry per recipient (empty for [`ReportKind::NotABounce`]).
    pub recipients: Vec<RecipientReport>,
    /// `Reporting-MTA` (without type).
    pub reporting_mta: Option<String>,
    /// Message-ID of the original message (from the returned message or its headers), without `<>`.
    pub original_message_id: Option<String>,
    /// VERP token from a `bounce+<token>@...` address (To, Delivered-To, X-Original-To,
    /// Envelope-To, or the returned message's Return-Path).
    pub verp_token: Option<String>,
    /// The report's Subject.
    pub subject: Option<String>,
    /// The report's From address.
    pub from: Option<String>,
    /// The MTA family that wrote the report, when recognised.
    #[serde(default)]
    pub mta: Option<super::Mta>,
}

/// Parses the fields of a `message/delivery-status` body.
pub(crate) fn parse_dsn(dsn: &str) -> (Option<String>, Vec<RecipientReport>) {
    let fields = parse_fields(dsn);
    let mut mta = None;
    let mut out: Vec<RecipientReport> = Vec::new();
    let mut cur = RecipientReport::default();
    let mut cur_used = false;
    let mut cur_block = usize::MAX;
    for (name, value, block) in fields {
        let lname = name.to_ascii_lowercase();
        let per_recipient = matches!(
            lname.as_str(),
            "final-recipient"
                | "original-recipient"
                | "action"
                | "status"
                | "remote-mta"
                | "diagnostic-code"
                | "x-actual-recipient"
        );
        if !per_recipient {
            if lname == "reporting-mta" && mta.is_none() {
                mta = Some(strip_addr_type(&value).to_string());
            }
            continue;
        }
        // A new recipient starts with a new blank-line separated block, or (for reports
        // without blank lines) when a recipient field repeats.
        let has_addr = cur.final_recipient.is_some() || cur.original_recipient.is_some();
        let starts = (block != cur_block && has_addr)
            || (lname == "final-recipient" && cur.final_recipient.is_some())
            || (lname == "original-recipient" && cur.original_recipient.is_some());
        if starts && cur_used {
            out.push(std::mem::take(&mut cur));
        }
        cur_used = true;
        cur_block = block;
        let v = value.trim();
        match lname.as_str() {
            "final-recipient" => cur.final_recipient = non_empty(strip_addr_type(v)),
            "original-recipient" => cur.original_recipient = non_empty(strip_addr_type(v)),
            "x-actual-recipient" => {
                if cur.final_recipient.is_none() {
                    cur.final_recipient = non_empty(strip_addr_type(v));
                }
            }
            "action" => cur.action = non_empty(&v.to_ascii_lowercase()),
            "status" => {
                cur.status = find_enhanced(v)
                    .map(str::to_string)
                    .or_else(|| non_empty(v));
            }
            "remote-mta" => cur.remote_mta = non_empty(strip_addr_type(v)),
            "diagnostic-code" => {
                let d = match v.find(';') {
                    Some(i) if i <= 16 => v[i + 1..].trim(),
                    _ => v,
                };
                if !d.is_empty() {
                    cur.diagnostic = Some(d.to_string());
                    if let Some((c, _)) = find_reply_code(d) {
                        cur.reply_code = Some(c);
                    } else if let Some((c, _)) = leading_code(d) {
                        cur.reply_code = Some(c);
                    }
                }
            }
            _ => {}
        }
    }
    if cur_used && (cur.final_recipient.is_some() || cur.original_recipient.is_some()) {
        out.push(cur);
    }
    out.retain(|r| r.address().is_some_and(|a| a.contains('@')) || r.diagnostic.is_some());
    (mta, out)
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}
