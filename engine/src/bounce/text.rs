//! Heuristics for the non-standard, human-readable bounce texts (qmail, Exim, old Sendmail,
//! Exchange, Lotus Notes, provider-specific formats) and for filling gaps in RFC 3464 reports.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::{Regex, RegexBuilder};

use super::headers::{find_addresses, header_pairs, is_system_address};
use super::reply::{find_enhanced, find_reply_code};
use super::report::{RecipientReport, parse_dsn};

/// Longest diagnostic text kept per recipient (bytes).
const MAX_SECTION: usize = 2048;

/// Phrases that mark where the returned original message starts in a text body, matched
/// ASCII case-insensitively, the first one listed winning where two start at the same byte
/// (`header` after `headers`, as the greedy `headers?` of a regex would).
const STRONG_MARKERS: [&str; 14] = [
    "this is a copy of the message",
    "below this line is a copy of the message",
    "original message follows",
    "unsent message follows",
    "original message headers",
    "headers of the original message",
    "header of the original message",
    "message headers follow",
    "content-type: message/rfc822",
    "following is a copy of the message",
    "copy of the original message",
    "original mail as follows",
    "message text follows",
    "included is a copy of the message header",
];
/// Weaker phrases: only on a separator line ("----- Returned message -----", "Original message:").
/// Every match lies within one line (`.` stops at a line end).
const WEAK_MARKERS: &str = r"returned message|original message|your message reads|the text of your message|^[ \t]*(--|==|\*\*).*(original|returned|unsent|rfc822|headers)";

/// The strong markers (one Aho-Corasick pass, leftmost-first like a regex alternation) and
/// the weak ones (a regex).
fn markers() -> &'static Option<(AhoCorasick, Regex)> {
    static RE: OnceLock<Option<(AhoCorasick, Regex)>> = OnceLock::new();
    RE.get_or_init(|| {
        let strong = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(STRONG_MARKERS)
            .ok()?;
        let weak = RegexBuilder::new(WEAK_MARKERS)
            .case_insensitive(true)
            .multi_line(true)
            .unicode(false)
            .build()
            .ok()?;
        Some((strong, weak))
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
    let (strong, weak) = markers().as_ref()?;
    let b = text.as_bytes();
    let mut best = strong
        .find_iter(b)
        .map(|m| line_at(text, m.start()))
        .find(|(_, l)| l.trim().len() <= 200)
        .map(|(s, _)| s);
    // Only a weak marker that starts before the strong one's line counts; such a match ends
    // on an earlier line, so the search need not look past that line's start.
    let hay = b.get(..best.unwrap_or(b.len())).unwrap_or(b);
    for m in weak.find_iter(hay) {
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
#[cfg(test)]
pub(crate) fn inline_returned_headers(text: &str) -> Option<Vec<(String, String)>> {
    inline_returned_headers_at(text, error_section_end(text))
}

/// [`inline_returned_headers`] with `end = error_section_end(text)` already known.
pub(crate) fn inline_returned_headers_at(text: &str, end: usize) -> Option<Vec<(String, String)>> {
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

/// Evidence of the SMTP command a reply answered, in priority order: phrases matched ASCII
/// case-insensitively, where a space stands for any run of white space (`\s+`) and a phrase
/// whose white space may be absent (`>>>\s*data`) is listed in both forms.
const COMMANDS: [(&[&str], &str); 25] = [
    (&["in reply to rcpt to"], "RCPT"),
    (&["after rcpt"], "RCPT"),
    (&["[rcpt_to]"], "RCPT"),
    (&["smtp:rcpt"], "RCPT"),
    (&["rcpt command"], "RCPT"),
    (&["[mail_from]"], "MAIL"),
    (
        &["in reply to mail from", "in reply to mail command"],
        "MAIL",
    ),
    (&["does not like recipient"], "RCPT"),
    (&[">>>rcpt to", ">>> rcpt to"], "RCPT"),
    (&["after mail from"], "MAIL"),
    (&[">>>mail from", ">>> mail from"], "MAIL"),
    (&["in reply to end of data"], "DATA"),
    (&["after end of data"], "DATA"),
    (&["in reply to data"], "DATA"),
    (&[">>>data", ">>> data"], "DATA"),
    (&["after data"], "DATA"),
    (&["after initial connection"], "CONN"),
    (&["in reply to ehlo"], "EHLO"),
    (&["in reply to helo"], "HELO"),
    (&["did not like our rcpt to"], "RCPT"),
    (&["did not like our mail from"], "MAIL"),
    (&["did not like our data"], "DATA"),
    (&["rcpt to:"], "RCPT"),
    (&["rcpt to<", "rcpt to <"], "RCPT"),
    (&["mail from:"], "MAIL"),
];

/// One automaton over every [`COMMANDS`] phrase, and per phrase its entry's position.
fn command_phrases() -> &'static Option<(AhoCorasick, Vec<usize>)> {
    static AC: OnceLock<Option<(AhoCorasick, Vec<usize>)>> = OnceLock::new();
    AC.get_or_init(|| {
        let mut phrases = Vec::new();
        let mut entry = Vec::new();
        for (i, (ps, _)) in COMMANDS.iter().enumerate() {
            for p in *ps {
                phrases.push(*p);
                entry.push(i);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(phrases)
            .ok()?;
        Some((ac, entry))
    })
}

/// White space as a byte regex's `\s` knows it (ASCII: tab, LF, VT, FF, CR, space).
fn is_regex_space(b: u8) -> bool {
    b == b' ' || (b'\t'..=b'\r').contains(&b)
}

/// `text` ASCII-lowercased with every run of white space made one space: a [`COMMANDS`]
/// phrase occurs in it exactly where its pattern (`\s+` for a space) matches `text`.
fn fold_for_phrases(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut space = false;
    for &b in text.as_bytes() {
        if is_regex_space(b) {
            space = true;
            continue;
        }
        if space {
            out.push(b' ');
            space = false;
        }
        out.push(b.to_ascii_lowercase());
    }
    if space {
        out.push(b' ');
    }
    out
}

/// SMTP command the remote host was answering, as far as the text says.
pub(crate) fn smtp_command(text: &str) -> Option<String> {
    let (ac, entry) = command_phrases().as_ref()?;
    let folded = fold_for_phrases(super::reply::truncate(text, 4096));
    let first = ac
        .try_find_overlapping_iter(folded.as_slice())
        .ok()?
        .filter_map(|m| entry.get(m.pattern().as_usize()).copied())
        .min()?;
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

/// Recipients and their explanations from a non-standard bounce text; `end` is
/// `error_section_end(body)` (the caller computes it once per body).
pub(crate) fn parse_text_bounce(
    body: &str,
    end: usize,
    failed: &[String],
    sender: Option<&str>,
    original_to: &[String],
    bouncy: bool,
) -> Vec<RecipientReport> {
    let section = body.get(..end).unwrap_or(body);

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
    fill_from_section(recips, &body[..error_section_end(body)], sender);
}

/// [`fill_from_text`] over the error section (`body[..error_section_end(body)]`) already cut.
pub(crate) fn fill_from_section(
    recips: &mut [RecipientReport],
    section: &str,
    sender: Option<&str>,
) {
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
        let r = parse_text_bounce(
            body,
            error_section_end(body),
            &[],
            Some("me@example.net"),
            &[],
            true,
        );
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

    /// The phrases find the very command the regexes they replace found (first pattern in
    /// list order that matches anywhere), white space of any kind and case included.
    #[test]
    fn command_phrases_agree_with_their_regexes() {
        const REGEXES: [&str; 25] = [
            r"in\s+reply\s+to\s+rcpt\s+to",
            r"after\s+rcpt",
            r"\[rcpt_to\]",
            r"smtp:rcpt",
            r"rcpt\s+command",
            r"\[mail_from\]",
            r"in\s+reply\s+to\s+mail\s+(from|command)",
            r"does\s+not\s+like\s+recipient",
            r">>>\s*rcpt\s+to",
            r"after\s+mail\s+from",
            r">>>\s*mail\s+from",
            r"in\s+reply\s+to\s+end\s+of\s+data",
            r"after\s+end\s+of\s+data",
            r"in\s+reply\s+to\s+data",
            r">>>\s*data",
            r"after\s+data",
            r"after\s+initial\s+connection",
            r"in\s+reply\s+to\s+ehlo",
            r"in\s+reply\s+to\s+helo",
            r"did\s+not\s+like\s+our\s+rcpt\s+to",
            r"did\s+not\s+like\s+our\s+mail\s+from",
            r"did\s+not\s+like\s+our\s+data",
            r"rcpt\s+to:",
            r"rcpt\s+to\s*<",
            r"mail\s+from:",
        ];
        let set = regex::bytes::RegexSetBuilder::new(REGEXES)
            .case_insensitive(true)
            .unicode(false)
            .build();
        let Ok(set) = set else {
            panic!("the reference regexes compile");
        };
        let by_regex = |t: &str| {
            let t = super::super::reply::truncate(t, 4096);
            let first = set.matches(t.as_bytes()).iter().next()?;
            COMMANDS.get(first).map(|(_, c)| (*c).to_string())
        };
        let mut texts = vec![
            String::new(),
            " ".into(),
            "550 5.1.1 <a@b.example>: Recipient address rejected (in reply to RCPT TO command)"
                .into(),
            "host said: 550 user unknown (in\treply\r\nto \x0b RCPT\x0cTO command)".into(),
            "Remote host said: 554 rejected\n>>> DATA\n<<< 554 no".into(),
            ">>>DATA then >>> MAIL  FROM:<a@b> then rcpt to <x@y>".into(),
            "did not like our RCPT TO: and after end of data".into(),
            "192.0.2.1 does not like recipient.\nRemote host said: 550".into(),
            "SMTP error from remote mail server after RCPT TO:<a@b>:".into(),
            "after MAIL FROM and in reply to mail command".into(),
            "rcpt to\n\n<a@b>, then [mail_from] and [RCPT_TO]".into(),
            "in reply to\u{a0}rcpt to (no-break space is no \\s)".into(),
            "connection: after initial connection; in reply to EHLO / HELO".into(),
            "smtp:RCPT, RCPT command, after DATA, did not like our DATA".into(),
            "mail from : not a match, mail\tfrom: is".into(),
            "ünïcode in reply to rcpt to ünïcode".into(),
        ];
        // Cut inside the 4 KiB window and just past it.
        texts.push(format!("{}in reply to DATA", "x".repeat(4080)));
        texts.push(format!("{}in reply to DATA", "x".repeat(4090)));
        texts.push(format!("{} rcpt to:", "é".repeat(2046)));
        for t in &texts {
            assert_eq!(smtp_command(t), by_regex(t), "{t:?}");
        }
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
