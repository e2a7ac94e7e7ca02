//! Turning a raw bounce message into a [`Report`]: RFC 3464 delivery status notifications,
//! the non-standard texts real MTAs still send, RFC 5965 feedback reports and RFC 3834
//! auto-replies.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::headers::{field_name, find_addresses, header_pairs, verp_token};
use super::report::{RecipientReport, Report, ReportKind, parse_dsn};
use super::{arf, autoreply, decode, text};
use mail_parser::{MessageParser, MimeHeaders, PartType};

/// The largest message accepted (bytes). Bounces carrying a returned attachment can be big;
/// anything larger is refused unparsed.
pub const MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Zero bytes.
    #[error("empty message")]
    Empty,
    /// Over [`MAX_MESSAGE_SIZE`].
    #[error("message too large: {size} bytes (limit {limit})")]
    TooLarge {
        /// The message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// No RFC 5322 header could be found.
    #[error("not an e-mail message: no header found")]
    NotAMessage,
}

/// What the MIME walk collected, borrowed from the parsed message where it can be.
#[derive(Default)]
pub(crate) struct Parts<'a> {
    pub texts: Vec<Cow<'a, str>>,
    pub dsn: Option<String>,
    pub feedback: Option<String>,
    /// Headers of the returned message (`message/rfc822`, `text/rfc822-headers`); a value
    /// may still be folded (see [`unfold`], applied when a header is looked up).
    pub returned: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// An attached message that is itself a DSN (a gateway forwarding another MTA's report).
    pub nested_dsn: Option<&'a [u8]>,
}

/// Whether a nested message is an RFC 3464 report.
fn is_dsn(m: &mail_parser::Message<'_>) -> bool {
    m.root_part()
        .content_type()
        .and_then(|ct| ct.attribute("report-type"))
        .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
}

/// Parses a raw message. Never panics; see [`ParseError`] for refusals.
pub fn parse_message(raw: &[u8]) -> Result<Report, ParseError> {
    parse_at(raw, 0)
}

/// [`parse_message`] of a message nested `depth` levels deep in another (a bounce that
/// forwards another MTA's DSN is read through once, never further).
fn parse_at(raw: &[u8], depth: u8) -> Result<Report, ParseError> {
    if raw.is_empty() || raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    if raw.len() > MAX_MESSAGE_SIZE {
        return Err(ParseError::TooLarge {
            size: raw.len(),
            limit: MAX_MESSAGE_SIZE,
        });
    }
    let raw = strip_mbox_from_line(raw);
    let msg = parser().parse(raw).ok_or(ParseError::NotAMessage)?;
    if msg.headers().is_empty() || !starts_with_header(raw) {
        return Err(ParseError::NotAMessage);
    }

    let mut parts = Parts::default();
    let top_ct = msg.root_part().content_type();
    let report_type = top_ct
        .and_then(|ct| ct.attribute("report-type"))
        .map(|s| s.to_ascii_lowercase());
    for (i, part) in msg.parts.iter().enumerate() {
        let (ctype, subtype) = match part.content_type() {
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or("").to_ascii_lowercase(),
            ),
            None => ("text".to_string(), "plain".to_string()),
        };
        match (&part.body, ctype.as_str(), subtype.as_str()) {
            (PartType::Multipart(_), _, _) => {}
            (PartType::Message(m), _, _) => {
                if parts.nested_dsn.is_none() && is_dsn(m) {
                    parts.nested_dsn = Some(m.raw_message());
                }
                if parts.returned.is_empty() {
                    parts.returned = m
                        .headers_raw()
                        .map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v)))
                        .collect();
                }
            }
            (body, "message", st) if st.ends_with("delivery-status") => {
                let t = body_text(body);
                append(&mut parts.dsn, &t);
            }
            (body, "message", "feedback-report") => {
                let t = body_text(body);
                append(&mut parts.feedback, &t);
            }
            (body, _, st) if st.contains("rfc822-headers") || st == "rfc822" => {
                // text/rfc822-headers, or a message/rfc822 mail-parser could not nest.
                if parts.returned.is_empty() {
                    let t = body_text(body);
                    parts.returned = owned_pairs(header_pairs(&t));
                }
            }
            (PartType::Text(t), "text", _) => {
                if i == 0 || part.headers.is_empty() || parts.texts.len() < 4 {
                    parts.texts.push(Cow::Borrowed(t));
                }
            }
            (PartType::Html(h), _, _) => {
                if parts.texts.is_empty() {
                    parts.texts.push(Cow::Owned(html_to_text(h)));
                }
            }
            (PartType::Text(t), _, _) if i == 0 => parts.texts.push(Cow::Borrowed(t)),
            _ => {}
        }
    }

    if parts.texts.is_empty() && parts.dsn.is_none() && parts.feedback.is_none() {
        // No part could be decoded as text (a broken multipart, e.g. a boundary parameter on
        // an unindented line): read the body as the MTA wrote it.
        parts.texts.push(Cow::Owned(raw_body_text(raw)));
    }
    // The human-readable text, and where its error explanation ends (computed once: the
    // returned-headers scan, the DSN completion and the text scan all need it).
    let body_text: Cow<'_, str> = match parts.texts.as_slice() {
        [one] => Cow::Borrowed(one.as_ref()),
        many => Cow::Owned(many.join("\n")),
    };
    let body_end = OnceCell::new();
    let section_end = || *body_end.get_or_init(|| text::error_section_end(&body_text));
    // The top-level headers, raw, in order (read once).
    let top_headers: Vec<(&str, &str)> = msg.headers_raw().collect();
    let header = |name: &str| msg.header_raw(name).map(unfold);
    let subject = msg
        .subject()
        .map(str::to_string)
        .or_else(|| header("Subject"));
    let from = header("From").and_then(|f| super::headers::first_address(&f));

    // Correlation data.
    let mut verp = None;
    for name in ["To", "Delivered-To", "X-Original-To", "Envelope-To"] {
        for (n, v) in &top_headers {
            if verp.is_none() && n.eq_ignore_ascii_case(name) {
                verp = find_addresses(v).iter().find_map(|(_, a)| verp_token(a));
            }
        }
    }
    // Returned headers found inline in a text body (non-MIME bounces).
    let mut inline_returned = Vec::new();
    if parts.returned.is_empty() {
        let single = parts.texts.len() == 1;
        for t in &parts.texts {
            let end = if single {
                section_end()
            } else {
                text::error_section_end(t)
            };
            if let Some(h) = text::inline_returned_headers_at(t, end) {
                inline_returned = owned_pairs(h);
                break;
            }
        }
    }
    let returned = if parts.returned.is_empty() {
        &inline_returned
    } else {
        &parts.returned
    };
    let find_ret = |name: &str| {
        returned
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unfold_cow(v))
    };
    if verp.is_none() {
        verp = find_ret("Return-Path")
            .and_then(|rp| find_addresses(&rp).iter().find_map(|(_, a)| verp_token(a)));
    }
    let original_message_id = find_ret("Message-ID")
        .map(|v| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
                .to_string()
        })
        .filter(|v| !v.is_empty());
    let original_sender = find_ret("Return-Path")
        .and_then(|v| super::headers::first_address(&v))
        .or_else(|| find_ret("From").and_then(|v| super::headers::first_address(&v)));
    let original_to: Vec<String> = find_ret("To")
        .map(|t| {
            find_addresses(&t)
                .iter()
                .map(|(_, a)| a.to_string())
                .collect()
        })
        .unwrap_or_default();

    let mut report = Report {
        kind: ReportKind::NotABounce,
        recipients: Vec::new(),
        reporting_mta: None,
        original_message_id,
        verp_token: verp,
        subject: subject.clone(),
        from: from.clone(),
        mta: None,
    };

    // 1. ARF feedback report; Apple Mail's unsubscribe request is an opt-out report too.
    if header("X-Apple-Unsubscribe").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        report.kind = ReportKind::Feedback;
        report.recipients = vec![RecipientReport {
            final_recipient: from.clone(),
            feedback_type: Some("opt-out".into()),
            diagnostic: subject.clone(),
            ..RecipientReport::default()
        }];
        return Ok(report);
    }
    let is_feedback = parts.feedback.is_some() || report_type.as_deref() == Some("feedback-report");
    if is_feedback {
        report.kind = ReportKind::Feedback;
        report.recipients = arf::recipients(parts.feedback.as_deref().unwrap_or(""), &original_to);
        return Ok(report);
    }

    let sender = original_sender.as_deref();
    let detected = decode::detect_message(
        &top_headers,
        &body_text,
        parts.dsn.as_deref(),
        from.as_deref(),
        subject.as_deref(),
    );
    let mta = detected.map(|(m, _)| m);
    report.mta = mta;
    let failed: Vec<String> = header("X-Failed-Recipients")
        .map(|v| {
            find_addresses(&v)
                .iter()
                .map(|(_, a)| a.to_string())
                .collect()
        })
        .unwrap_or_default();

    // 2. RFC 3464 delivery status.
    if let Some(dsn) = &parts.dsn {
        let (reporting, mut recips) = parse_dsn(dsn);
        if !recips.is_empty() {
            report.reporting_mta = reporting;
            let section = body_text.get(..section_end()).unwrap_or(&body_text);
            text::fill_from_section(&mut recips, section, sender);
            decode::refine(mta, &mut recips);
            report.kind = ReportKind::Dsn;
            report.recipients = recips;
            return Ok(report);
        }
    }

    // 2b. A DSN forwarded inside this message: the inner report says who failed and why.
    if depth == 0
        && let Some(inner) = parts.nested_dsn
        && let Ok(mut nested) = parse_at(inner, depth + 1)
        && nested.kind == ReportKind::Dsn
    {
        nested.verp_token = nested.verp_token.or(report.verp_token);
        nested.original_message_id = nested.original_message_id.or(report.original_message_id);
        return Ok(nested);
    }

    // 3. Auto-replies: not from a mail system, not naming failed recipients, no MTA format
    // (a DSN is a DSN first, whatever its Auto-Submitted header says).
    let bouncy = detected.is_some_and(|(_, report)| report)
        || !failed.is_empty()
        || text::looks_like_bounce(from.as_deref(), subject.as_deref(), &body_text);
    if !bouncy && autoreply::is_auto_reply(&msg, subject.as_deref()) {
        report.kind = ReportKind::AutoReply;
        report.recipients = vec![RecipientReport {
            final_recipient: from.clone(),
            diagnostic: subject.clone(),
            ..RecipientReport::default()
        }];
        return Ok(report);
    }

    // 4. Non-standard bounce text.
    let mut recips = text::parse_text_bounce(
        &body_text,
        section_end(),
        &failed,
        sender,
        &original_to,
        bouncy,
    );
    if recips.is_empty()
        && let Some(m) = mta
    {
        recips = decode::recipients_from_summary(m, &body_text);
    }
    decode::refine(mta, &mut recips);
    if !recips.is_empty() {
        report.kind = ReportKind::Bounce;
        report.recipients = recips;
    }
    Ok(report)
}

/// A MIME parser that decodes only what is needed (MIME headers, Subject); every other header
/// is kept raw, which avoids parsing long `Received:` chains.
fn parser() -> &'static MessageParser {
    static PARSER: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .header_text(mail_parser::HeaderName::Subject)
            .default_header_raw()
    })
}

fn append(slot: &mut Option<String>, t: &str) {
    match slot {
        Some(s) => {
            s.push_str("\n\n");
            s.push_str(t);
        }
        None => *slot = Some(t.to_string()),
    }
}

fn body_text(body: &PartType<'_>) -> String {
    match body {
        PartType::Text(t) | PartType::Html(t) => t.to_string(),
        PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
        PartType::Message(m) => String::from_utf8_lossy(m.raw_message()).into_owned(),
        PartType::Multipart(_) => String::new(),
    }
}

fn owned_pairs<'a>(pairs: Vec<(String, String)>) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
    pairs
        .into_iter()
        .map(|(n, v)| (Cow::Owned(n), Cow::Owned(v)))
        .collect()
}

/// [`unfold`] without a copy when `v` is one line (then unfolding only trims it).
fn unfold_cow(v: &str) -> Cow<'_, str> {
    if v.contains('\n') {
        Cow::Owned(unfold(v))
    } else {
        Cow::Borrowed(v.trim())
    }
}

fn unfold(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, l) in v.lines().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(l.trim());
    }
    out.trim().to_string()
}

/// Rough HTML → text: drops tags, script/style, decodes a few entities, keeps line breaks.
pub(crate) fn html_to_text(h: &str) -> String {
    let mut out = String::with_capacity(h.len() / 2);
    let mut in_tag = false;
    let mut tag = String::new();
    let mut skip = false;
    for ch in h.chars() {
        if in_tag {
            if ch == '>' {
                in_tag = false;
                let t = tag.to_ascii_lowercase();
                let name = t
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if matches!(name, "script" | "style") {
                    skip = !t.starts_with('/');
                }
                if matches!(
                    name,
                    "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "table"
                ) {
                    out.push('\n');
                }
                tag.clear();
            } else if tag.len() < 64 {
                tag.push(ch);
            }
        } else if ch == '<' {
            in_tag = true;
        } else if !skip {
            out.push(ch);
        }
    }
    if !out.contains('&') {
        return out;
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The body after the header block, without MIME boundary and part-header lines.
fn raw_body_text(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let body = text
        .find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| text.find("\n\n").map(|i| i + 2))
        .map_or("", |i| &text[i..]);
    let mut out = String::with_capacity(body.len());
    for line in super::reply::truncate(body, 64 * 1024).lines() {
        let t = line.trim_start();
        let lower = t.to_ascii_lowercase();
        if t.starts_with("--")
            || lower.starts_with("content-")
            || lower.starts_with("boundary=")
            || lower.starts_with("mime-version:")
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn strip_mbox_from_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ")
        && let Some(nl) = raw.iter().position(|&b| b == b'\n')
    {
        return &raw[nl + 1..];
    }
    raw
}

fn starts_with_header(raw: &[u8]) -> bool {
    let first = raw
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
        .unwrap_or(b"");
    let s = String::from_utf8_lossy(&first[..first.len().min(200)]);
    field_name(&s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_garbage() {
        assert_eq!(parse_message(b""), Err(ParseError::Empty));
        assert_eq!(parse_message(b"   \r\n"), Err(ParseError::Empty));
        assert_eq!(parse_message(b"hello world"), Err(ParseError::NotAMessage));
        let big = vec![b'a'; MAX_MESSAGE_SIZE + 1];
        assert!(matches!(
            parse_message(&big),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn dsn_fields() {
        let (mta, r) = parse_dsn(
            "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <a@example.org>:\n  user unknown\n\nOriginal-Recipient: rfc822;b@example.org\nFinal-Recipient: rfc822;b@example.org\nAction: delayed\nStatus: 4.4.7\n",
        );
        assert_eq!(mta.as_deref(), Some("mx.example"));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].final_recipient.as_deref(), Some("a@example.org"));
        assert_eq!(r[0].reply_code, Some(550));
        assert_eq!(
            r[0].diagnostic.as_deref(),
            Some("550 5.1.1 <a@example.org>: user unknown")
        );
        assert_eq!(r[1].original_recipient.as_deref(), Some("b@example.org"));
        assert_eq!(r[1].action.as_deref(), Some("delayed"));
    }

    #[test]
    fn html() {
        assert_eq!(html_to_text("<p>a&amp;b</p><style>x</style>c"), "\na&b\nc");
    }
}
