//! Heuristics for the non-standard, human-readable bounce texts (qmail, Exim, old Sendmail,
//! Exchange, Lotus Notes, provider-specific formats) and for filling gaps in RFC 3464 reports.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::headers::{find_addresses, is_system_address};
use super::parse::{RecipientReport, header_pairs, parse_dsn};
use super::reply::{find_enhanced, find_reply_code};

/// Longest diagnostic text kept per recipient (bytes).
const MAX_SECTION: usize = 2048;

/// Phrases that mark where the returned original message starts in a text body.
const STRONG_MARKERS: &str = r"this is a copy of the message|below this line is a copy of the message|original message follows|unsent message follows|original message headers|headers? of the original message|message headers follow|content-type: message/rfc822|following is a copy of the message|copy of the original message|original mail as follows|message text follows|included is a copy of the message header";
/// Weaker phrases: only on a separator line ("----- Returned message -----", "Original message:").
const WEAK_MARKERS: &str = r"returned message|original message|your message reads|the text of your message|^[ \t]*(--|==|\*\*).*(original|returned|unsent|rfc822|headers)";

fn marker_regexes() -> &'static Option<(Regex, Regex)> {
    static RE: OnceLock<Option<(Regex, Regex)>> = OnceLock::new();
    RE.get_or_init(|| {
        let build = |p: &str| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .multi_line(true)
                .unicode(false)
                .build()
                .ok()
        };
        Some((build(STRONG_MARKERS)?, build(WEAK_MARKERS)?))
    })
}

/// Byte offset of the start of the line containing `pos`, and that line.
fn line_at(text: &str, pos: usize) -> (usize, &str) {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    (start, &text[start..end])
}

fn is_separator_line(t: &str) -> bool {
    t.starts_with(['-', '=', '*', '_', '<', '[']) || t.ends_with([':', '-', '='])
}

/// Offset of the first line that marks the returned original message, if any.
fn first_marker(text: &str) -> Option<usize> {
    let (strong, weak) = marker_regexes().as_ref()?;
    let b = text.as_bytes();
    let mut best = strong
        .find_iter(b)
        .map(|m| line_at(text, m.start()))
        .find(|(_, l)| l.trim().len() <= 200)
        .map(|(s, _)| s);
    for m in weak.find_iter(b) {
        if best.is_some_and(|x| m.start() >= x) {
            break;
        }
        let (s, l) = line_at(text, m.start());
        let t = l.trim();
        if t.len() <= 120
            && is_separator_line(t)
            && !t.to_ascii_lowercase().contains("was received at")
        {
            best = Some(s);
            break;
        }
    }
    best
}

#[cfg(test)]
fn is_original_marker(line: &str) -> bool {
    first_marker(line).is_some()
}

fn header_like(line: &str) -> bool {
    let Some((name, _)) = super::headers::field_name(line) else {
        return false;
    };
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "return-path"
            | "received"
            | "message-id"
            | "from"
            | "to"
            | "subject"
            | "date"
            | "mime-version"
            | "content-type"
            | "dkim-signature"
            | "x-mailer"
            | "reply-to"
            | "delivered-to"
            | "authentication-results"
            | "x-originating-ip"
            | "arc-seal"
            | "x-received"
            | "x-google-smtp-source"
    )
}

/// Byte offset where the error explanation ends (the returned message starts).
pub(crate) fn error_section_end(text: &str) -> usize {
    let limit = first_marker(text).unwrap_or(text.len());
    let mut off = 0;
    let mut prev_header = false;
    let mut prev_off = 0;
    for (lines_seen, line) in text[..limit].split_inclusive('\n').enumerate() {
        // Two consecutive header lines starting with Received/Return-Path after some prose.
        let hl = header_like(line);
        if hl && prev_header && lines_seen > 2 {
            return prev_off;
        }
        let t = line.trim_start();
        prev_header = hl
            && (t.starts_with("Received:")
                || t.starts_with("Return-Path:")
                || t.starts_with("Return-path:")
                || t.starts_with("DKIM-Signature:")
                || t.starts_with("X-Received:")
                || t.starts_with("Message-ID:")
                || t.starts_with("Message-Id:"));
        prev_off = off;
        off += line.len();
    }
    limit
}

/// Headers of a returned message embedded in a text body after a marker.
pub(crate) fn inline_returned_headers(text: &str) -> Option<Vec<(String, String)>> {
    let end = error_section_end(text);
    if end >= text.len() {
        return None;
    }
    let rest = &text[end..];
    // Skip the marker line itself.
    let rest = match rest.find('\n') {
        Some(i) if !header_like(rest) => &rest[i + 1..],
        _ => rest,
    };
    let h = header_pairs(rest);
    (!h.is_empty()).then_some(h)
}

/// Whether the message looks like it comes from a mail system reporting a failure.
pub(crate) fn looks_like_bounce(from: Option<&str>, subject: Option<&str>, body: &str) -> bool {
    if from.is_some_and(is_system_address) {
        return true;
    }
    let s = subject.unwrap_or("").to_ascii_lowercase();
    const SUBJ: [&str; 18] = [
        "undeliver",
        "undelivered",
        "delivery fail",
        "delivery status",
        "failure notice",
        "returned mail",
        "mail delivery",
        "delivery notification",
        "non remis",
        "non-remis",
        "nicht zustellbar",
        "could not send",
        "delivery failure",
        "mail system error",
        "warning: message",
        "rejected:",
        "delayed mail",
        "unzustellbar",
    ];
    if SUBJ.iter().any(|p| s.contains(p)) {
        return true;
    }
    let head = super::reply::truncate(body, 2000).to_ascii_lowercase();
    head.contains("could not be delivered")
        || head.contains("mail delivery failed")
        || head.contains("permanent error")
        || head.contains("delivery has failed")
}

/// Evidence of the SMTP command a reply answered, in priority order.
const COMMANDS: [(&str, &str); 25] = [
    (r"in\s+reply\s+to\s+rcpt\s+to", "RCPT"),
    (r"after\s+rcpt", "RCPT"),
    (r"\[rcpt_to\]", "RCPT"),
    (r"smtp:rcpt", "RCPT"),
    (r"rcpt\s+command", "RCPT"),
    (r"\[mail_from\]", "MAIL"),
    (r"in\s+reply\s+to\s+mail\s+(from|command)", "MAIL"),
    (r"does\s+not\s+like\s+recipient", "RCPT"),
    (r">>>\s*rcpt\s+to", "RCPT"),
    (r"after\s+mail\s+from", "MAIL"),
    (r">>>\s*mail\s+from", "MAIL"),
    (r"in\s+reply\s+to\s+end\s+of\s+data", "DATA"),
    (r"after\s+end\s+of\s+data", "DATA"),
    (r"in\s+reply\s+to\s+data", "DATA"),
    (r">>>\s*data", "DATA"),
    (r"after\s+data", "DATA"),
    (r"after\s+initial\s+connection", "CONN"),
    (r"in\s+reply\s+to\s+ehlo", "EHLO"),
    (r"in\s+reply\s+to\s+helo", "HELO"),
    (r"did\s+not\s+like\s+our\s+rcpt\s+to", "RCPT"),
    (r"did\s+not\s+like\s+our\s+mail\s+from", "MAIL"),
    (r"did\s+not\s+like\s+our\s+data", "DATA"),
    (r"rcpt\s+to:", "RCPT"),
    (r"rcpt\s+to\s*<", "RCPT"),
    (r"mail\s+from:", "MAIL"),
];

fn command_set() -> &'static Option<RegexSet> {
    static RE: OnceLock<Option<RegexSet>> = OnceLock::new();
    RE.get_or_init(|| {
        RegexSetBuilder::new(COMMANDS.iter().map(|(p, _)| *p))
            .case_insensitive(true)
            .unicode(false)
            .build()
            .ok()
    })
}

/// SMTP command the remote host was answering, as far as the text says.
pub(crate) fn smtp_command(text: &str) -> Option<String> {
    let set = command_set().as_ref()?;
    let t = super::reply::truncate(text, 4096);
    let first = set.matches(t.as_bytes()).iter().next()?;
    COMMANDS.get(first).map(|(_, c)| (*c).to_string())
}

/// Addresses that are not recipients: our sender and mail-system mailboxes.
fn excluded(addr: &str, sender: Option<&str>) -> bool {
    sender.is_some_and(|s| s.eq_ignore_ascii_case(addr)) || is_system_address(addr)
}

/// Is `line` a "recipient line" whose subject is `addr` (at `pos` within the line)?
fn is_recipient_line(line: &str, pos: usize, addr: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    if lower.contains("mail from") || lower.contains("envelope-from") || lower.contains("from:") {
        return false;
    }
    if lower.contains("rcpt to") {
        return true;
    }
    let before = line[..pos].trim();
    let before = before.trim_end_matches(['<', '"', '\'', '(']).trim();
    let after = line[pos + addr.len()..].trim_start_matches(['>', '"', '\'', ')']);
    let after_l = after.trim().to_ascii_lowercase();
    if before.is_empty() {
        return true;
    }
    let bl = before.to_ascii_lowercase();
    // Sendmail "550 <a@b>... User unknown", "554 5.0.0 <a@b>..."
    if before.len() <= 12
        && before
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b' ' || b == b'-')
        && after_l.starts_with("...")
    {
        return true;
    }
    const LABELS: [&str; 12] = [
        "recipient:",
        "recipient address:",
        "original-recipient:",
        "final-recipient:",
        "failed recipient:",
        "address:",
        "rcpt:",
        "e-mail:",
        "email:",
        "*",
        "-",
        "user:",
    ];
    if LABELS.iter().any(|l| bl.ends_with(l)) {
        return true;
    }
    bl.ends_with("rfc822;")
}

struct Hit<'a> {
    addr: &'a str,
    line: usize,
}

/// Recipients and their explanations from a non-standard bounce text.
pub(crate) fn parse_text_bounce(
    body: &str,
    failed: &[String],
    sender: Option<&str>,
    original_to: &[String],
    bouncy: bool,
) -> Vec<RecipientReport> {
    let section = &body[..error_section_end(body)];

    // Some MTAs put RFC 3464 fields into the text itself.
    if section.contains("Final-Recipient:") || section.contains("Final-recipient:") {
        let (_, mut recips) = parse_dsn(section);
        if !recips.is_empty() {
            fill_from_text(&mut recips, section, sender);
            return recips;
        }
    }
    scan_text(section, failed, sender, original_to, bouncy)
}

/// The address/section scan of [`parse_text_bounce`] (no embedded-DSN detection, so
/// [`fill_from_text`] can use it without recursion).
fn scan_text(
    section: &str,
    failed: &[String],
    sender: Option<&str>,
    original_to: &[String],
    bouncy: bool,
) -> Vec<RecipientReport> {
    let lines: Vec<&str> = section.lines().collect();
    let mut hits: Vec<Hit<'_>> = Vec::new();
    let mut loose: Vec<Hit<'_>> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        for (pos, addr) in find_addresses(line) {
            if excluded(addr, sender) {
                continue;
            }
            if is_recipient_line(line, pos, addr) {
                hits.push(Hit { addr, line: i });
            } else {
                loose.push(Hit { addr, line: i });
            }
        }
    }
    // X-Failed-Recipients is authoritative for who failed.
    let all: Vec<(String, usize)> = if failed.is_empty() {
        hits.iter()
            .map(|h| (h.addr.to_ascii_lowercase(), h.line))
            .collect()
    } else {
        hits.iter()
            .chain(loose.iter())
            .filter(|h| failed.iter().any(|f| f.eq_ignore_ascii_case(h.addr)))
            .map(|h| (h.addr.to_ascii_lowercase(), h.line))
            .collect()
    };
    if !failed.is_empty() {
        let out = failed
            .iter()
            .map(|f| {
                let lf = f.to_ascii_lowercase();
                let line = all.iter().filter(|(a, _)| *a == lf).map(|(_, l)| *l).min();
                (f.clone(), line)
            })
            .collect();
        return build(&lines, out, &all);
    }
    if hits.is_empty() {
        if let Some(h) = loose.first() {
            let all = vec![(h.addr.to_ascii_lowercase(), h.line)];
            return build(&lines, vec![(h.addr.to_string(), Some(h.line))], &all);
        } else if bouncy && let Some(t) = original_to.first() {
            return build(&lines, vec![(t.clone(), None)], &[]);
        } else {
            return Vec::new();
        }
    }
    let mut order: Vec<(String, Option<usize>)> = Vec::new();
    for h in &hits {
        if !order.iter().any(|(a, _)| a.eq_ignore_ascii_case(h.addr)) {
            order.push((h.addr.to_string(), Some(h.line)));
        }
    }
    build(&lines, order, &all)
}

/// Builds one report per recipient; each gets the lines from its first mention up to the next
/// line naming another recipient (`all`: every recipient mention as (lowercase address, line)),
/// plus the preamble when its own lines carry no code or when it is the only recipient.
fn build(
    lines: &[&str],
    order: Vec<(String, Option<usize>)>,
    all: &[(String, usize)],
) -> Vec<RecipientReport> {
    let first = order
        .iter()
        .filter_map(|(_, l)| *l)
        .min()
        .unwrap_or(lines.len())
        .min(lines.len());
    let preamble = join(&lines[..first]);
    let single = order.len() == 1;
    order
        .into_iter()
        .map(|(addr, start)| {
            let text = match start {
                Some(s) => {
                    let la = addr.to_ascii_lowercase();
                    let end = all
                        .iter()
                        .filter(|(a, l)| *l > s && *a != la)
                        .map(|(_, l)| *l)
                        .min()
                        .unwrap_or(lines.len())
                        .min(lines.len());
                    let own = join(&lines[s.min(end)..end]);
                    if single || !has_code(&own) {
                        format!("{preamble}\n{own}")
                    } else {
                        own
                    }
                }
                None => join(lines),
            };
            make_report(addr, &text)
        })
        .collect()
}

fn has_code(t: &str) -> bool {
    find_reply_code(t).is_some() || find_enhanced(t).is_some()
}

fn join(lines: &[&str]) -> String {
    let mut out = String::new();
    for l in lines {
        if out.len() > MAX_SECTION {
            break;
        }
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

fn make_report(addr: String, text: &str) -> RecipientReport {
    let text = super::reply::truncate(text.trim(), MAX_SECTION);
    let reply_code = find_reply_code(text).map(|(c, _)| c);
    RecipientReport {
        final_recipient: Some(addr),
        status: find_enhanced(text).map(str::to_string),
        reply_code,
        smtp_command: smtp_command(text),
        diagnostic: (!text.is_empty()).then(|| text.to_string()),
        ..RecipientReport::default()
    }
}

/// Completes DSN recipients from the human-readable part: a missing or code-only diagnostic
/// gets the text around the recipient's address; the SMTP command is taken from either.
pub(crate) fn fill_from_text(recips: &mut [RecipientReport], body: &str, sender: Option<&str>) {
    let section = &body[..error_section_end(body)];
    let mut texts: Vec<Option<String>> = vec![None; recips.len()];
    if !section.trim().is_empty() {
        let known: Vec<String> = recips
            .iter()
            .filter_map(|r| r.address().map(str::to_string))
            .collect();
        let parsed = scan_text(section, &known, sender, &[], true);
        for (i, r) in recips.iter().enumerate() {
            let Some(a) = r.address() else { continue };
            texts[i] = parsed
                .iter()
                .find(|p| p.address().is_some_and(|x| x.eq_ignore_ascii_case(a)))
                .and_then(|p| p.diagnostic.clone());
        }
        if recips.len() == 1 && texts[0].is_none() {
            texts[0] = Some(super::reply::truncate(section.trim(), MAX_SECTION).to_string());
        }
    }
    for (r, t) in recips.iter_mut().zip(texts) {
        let thin = r
            .diagnostic
            .as_deref()
            .is_none_or(|d| d.chars().filter(|c| c.is_alphabetic()).count() < 4);
        if r.smtp_command.is_none() {
            r.smtp_command = r
                .diagnostic
                .as_deref()
                .and_then(smtp_command)
                .or_else(|| t.as_deref().and_then(smtp_command));
        }
        if thin && let Some(t) = t {
            let merged = match &r.diagnostic {
                Some(d) => format!("{d} {t}"),
                None => t,
            };
            if r.reply_code.is_none() {
                r.reply_code = find_reply_code(&merged).map(|(c, _)| c);
            }
            r.diagnostic = Some(merged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qmail_style() {
        let body = "Hi. This is the qmail-send program at mx.example.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n<nobody@example.org>:\n192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 <nobody@example.org>... User Unknown\n\n<full@example.org>:\nRemote host said: 552 5.2.2 Mailbox full\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <me@example.net>\nMessage-ID: <id@example.net>\n";
        let r = parse_text_bounce(body, &[], Some("me@example.net"), &[], true);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].final_recipient.as_deref(), Some("nobody@example.org"));
        assert_eq!(r[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(r[1].reply_code, Some(552));
        let h = inline_returned_headers(body).unwrap_or_default();
        assert!(
            h.iter()
                .any(|(n, v)| n == "Message-ID" && v == "<id@example.net>")
        );
    }

    #[test]
    fn marker_detection() {
        assert!(is_original_marker(
            "------ This is a copy of the message, including all the headers. ------"
        ));
        assert!(!is_original_marker(
            "The original message was received at Thu, 1 Jan"
        ));
        assert!(is_original_marker("----- Original message -----"));
    }
}
