//! SMTP replies: `550 5.1.1 <x@y>: Recipient address rejected`, multi-line `550-5.7.1 ...`
//! continuations and `smtp; ...` diagnostic codes.

use serde::{Deserialize, Serialize};

/// A parsed SMTP reply or diagnostic text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpReply {
    /// Basic reply code (RFC 5321), e.g. 550.
    pub code: Option<u16>,
    /// Enhanced status code (RFC 3463), e.g. "5.1.1".
    pub enhanced: Option<String>,
    /// The whole reply text on one line (continuation prefixes removed, whitespace collapsed).
    pub text: String,
}

/// The longest text kept from a reply; longer input is cut (on a char boundary).
pub const MAX_REPLY_TEXT: usize = 8 * 1024;

impl SmtpReply {
    /// Builds a reply from parts.
    pub fn new(code: Option<u16>, enhanced: Option<&str>, text: impl Into<String>) -> Self {
        SmtpReply {
            code,
            enhanced: enhanced.map(str::to_string),
            text: text.into(),
        }
    }

    /// Parses a raw SMTP reply or a DSN `Diagnostic-Code` value. Never fails: anything
    /// unrecognised simply ends up in `text` with no codes.
    pub fn parse(raw: &str) -> SmtpReply {
        let raw = truncate(raw, MAX_REPLY_TEXT);
        let mut s = raw.trim_start();
        // "smtp; 550 ..." / "X-Postfix; ..." diagnostic type prefix. Types other than smtp are
        // kept (lowercased) at the front of the text: "x-unix;" tells a local mailer failed.
        let mut dtype = None;
        if let Some(idx) = s.find(';') {
            let head = &s[..idx];
            if !head.is_empty()
                && head.len() <= 24
                && head.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                if !head.eq_ignore_ascii_case("smtp") {
                    dtype = Some(head.to_ascii_lowercase());
                }
                s = s[idx + 1..].trim_start();
            }
        }
        let mut text = String::with_capacity(s.len());
        let mut code = None;
        let mut enhanced: Option<String> = None;
        // Codes are stripped from the first line and from continuation lines of a multi-line
        // reply ("550-5.7.1 ..."); a code found later in free text is recorded but left in place.
        let mut multiline = false;
        for line in s.lines() {
            let mut l = line.trim();
            if l.is_empty() {
                continue;
            }
            if let Some((c, rest)) = leading_code(l) {
                if code.is_none() {
                    code = Some(c);
                    multiline = text.is_empty();
                }
                if multiline && code == Some(c) {
                    l = rest;
                    if let Some((e, rest2)) = leading_enhanced(l) {
                        if enhanced.is_none() {
                            enhanced = Some(e.to_string());
                        }
                        if enhanced.as_deref() == Some(e) {
                            l = rest2;
                        }
                    }
                }
            } else if text.is_empty()
                && let Some((e, rest)) = leading_enhanced(l)
            {
                enhanced = Some(e.to_string());
                l = rest;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            push_collapsed(&mut text, l);
        }
        if enhanced.is_none() {
            enhanced = find_enhanced(&text).map(str::to_string);
        }
        // Continuation prefixes of joined multi-line replies ("... 550-5.7.1 more ...").
        if let (Some(c), Some(e)) = (code, &enhanced) {
            for sep in ['-', ' '] {
                let needle = format!(" {c}{sep}{e} ");
                if text.contains(&needle) {
                    text = text.replace(&needle, " ");
                }
            }
        }
        if let Some(c) = code {
            let needle = format!(" {c}-");
            if text.contains(&needle) {
                text = text.replace(&needle, " ");
            }
        }
        if let Some(t) = dtype {
            text = format!("{t}; {text}");
        }
        let text = match (code, &enhanced) {
            _ if !multiline && code.is_some() => text,
            (Some(c), Some(e)) => format!("{c} {e} {text}"),
            (Some(c), None) => format!("{c} {text}"),
            (None, Some(e)) if !text.contains(e.as_str()) => format!("{e} {text}"),
            _ => text,
        };
        SmtpReply {
            code,
            enhanced,
            text,
        }
    }

    /// True for 4xx codes / 4.x.x statuses.
    pub fn is_temporary(&self) -> bool {
        match (&self.enhanced, self.code) {
            (Some(e), _) => e.starts_with('4'),
            (None, Some(c)) => (400..500).contains(&c),
            _ => false,
        }
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn push_collapsed(out: &mut String, s: &str) {
    let mut space = false;
    for ch in s.chars() {
        if ch.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            space = false;
            out.push(ch);
        }
    }
}

/// `"550-5.1.1 text"` → `(550, "5.1.1 text")`.
pub(crate) fn leading_code(l: &str) -> Option<(u16, &str)> {
    let b = l.as_bytes();
    if b.len() < 3
        || !(b'2'..=b'5').contains(&b[0])
        || !b[1].is_ascii_digit()
        || !b[2].is_ascii_digit()
    {
        return None;
    }
    match b.get(3) {
        None => Some((code3(b), "")),
        Some(b' ') | Some(b'-') | Some(b'\t') => Some((code3(b), l[4..].trim_start())),
        _ => None,
    }
}

fn code3(b: &[u8]) -> u16 {
    (b[0] - b'0') as u16 * 100 + (b[1] - b'0') as u16 * 10 + (b[2] - b'0') as u16
}

/// `"5.1.1 text"` → `("5.1.1", "text")`.
pub(crate) fn leading_enhanced(l: &str) -> Option<(&str, &str)> {
    let n = enhanced_len(l.as_bytes())?;
    let rest = &l[n..];
    match rest.as_bytes().first() {
        None => Some((&l[..n], "")),
        Some(c) if !c.is_ascii_alphanumeric() && *c != b'.' => Some((&l[..n], rest.trim_start())),
        _ => None,
    }
}

/// Length of an enhanced status code at the start of `b`, e.g. `5.7.26`.
fn enhanced_len(b: &[u8]) -> Option<usize> {
    if b.len() < 5 || !matches!(b[0], b'2' | b'4' | b'5') || b[1] != b'.' {
        return None;
    }
    let mut i = 2;
    let s = i;
    while i < b.len() && b[i].is_ascii_digit() && i - s < 3 {
        i += 1;
    }
    if i == s || i >= b.len() || b[i] != b'.' {
        return None;
    }
    i += 1;
    let s = i;
    while i < b.len() && b[i].is_ascii_digit() && i - s < 3 {
        i += 1;
    }
    if i == s {
        return None;
    }
    if i < b.len()
        && (b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
    {
        return None;
    }
    Some(i)
}

/// The first enhanced status code found anywhere in `s` (not part of an IP address or version).
pub(crate) fn find_enhanced(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 5 <= b.len() {
        if matches!(b[i], b'2' | b'4' | b'5')
            && b[i + 1] == b'.'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
            && let Some(n) = enhanced_len(&b[i..])
        {
            return Some(&s[i..i + n]);
        }
        i += 1;
    }
    None
}

/// The first enhanced status code in `s` that reports a failure (4.x.x or 5.x.x).
pub(crate) fn find_failure_enhanced(s: &str) -> Option<&str> {
    let mut rest = s;
    let mut base = 0;
    while let Some(e) = find_enhanced(rest) {
        if !e.starts_with('2') {
            return Some(e);
        }
        let at = rest.find(e).map_or(rest.len(), |i| i + e.len());
        base += at;
        rest = s.get(base..)?;
    }
    None
}

/// Finds the first plausible SMTP reply code in free text ("said: 550 ...", line starts,
/// "<<< 550 ..."), returning the code and the text from it to the end of that line.
pub(crate) fn find_reply_code(s: &str) -> Option<(u16, &str)> {
    for line in s.lines() {
        let t = line.trim_start_matches(|c: char| c.is_whitespace() || c == '>' || c == '<');
        if let Some((c, _)) = leading_code(t)
            && (400..600).contains(&c)
        {
            return Some((c, t));
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i + 3 <= b.len() {
            if matches!(b[i], b'4' | b'5')
                && b[i + 1].is_ascii_digit()
                && b[i + 2].is_ascii_digit()
                && i > 0
                && matches!(b[i - 1], b' ' | b':' | b'(' | b'[' | b'\t')
                && matches!(
                    b.get(i + 3),
                    Some(b' ') | Some(b'-') | Some(b')') | Some(b']') | None
                )
            {
                // Require a separator hint before: "said:", ":", "(", "<<<", "error", "reply".
                let before = line[..i].trim_end().to_ascii_lowercase();
                if before.ends_with(':')
                    || before.ends_with("<<<")
                    || before.ends_with('(')
                    || before.ends_with('[')
                    || before.ends_with("said")
                    || before.ends_with("error")
                    || before.ends_with("code")
                    || before.ends_with("reply")
                    || before.ends_with("returned")
                    || before.ends_with("-")
                {
                    return Some((code3(&b[i..]), &line[i..]));
                }
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_diagnostic_code() {
        let r = SmtpReply::parse("smtp; 550 5.1.1 <x@y>: Recipient address rejected");
        assert_eq!(r.code, Some(550));
        assert_eq!(r.enhanced.as_deref(), Some("5.1.1"));
        assert!(r.text.ends_with("<x@y>: Recipient address rejected"));
    }

    #[test]
    fn parses_multiline() {
        let r = SmtpReply::parse(
            "550-5.7.1 [192.0.2.1] Our system has detected that\r\n550-5.7.1 this message is likely unsolicited mail.\r\n550 5.7.1 more text",
        );
        assert_eq!(r.code, Some(550));
        assert_eq!(r.enhanced.as_deref(), Some("5.7.1"));
        assert_eq!(
            r.text,
            "550 5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail. more text"
        );
    }

    #[test]
    fn text_without_codes() {
        let r = SmtpReply::parse("Host unknown");
        assert_eq!(r.code, None);
        assert_eq!(r.enhanced, None);
        assert_eq!(r.text, "Host unknown");
        let r = SmtpReply::parse("X-Postfix; host 192.0.2.1 said: 5.2.2 mailbox full");
        assert_eq!(r.enhanced.as_deref(), Some("5.2.2"));
    }

    #[test]
    fn ignores_ip_addresses() {
        assert_eq!(find_enhanced("host 192.0.2.153 said"), None);
        assert_eq!(find_enhanced("v 4.72 and 5.7.26"), Some("5.7.26"));
        assert_eq!(
            find_reply_code("Remote host said: 550 5.1.1 x").map(|x| x.0),
            Some(550)
        );
        assert_eq!(find_reply_code("at 10:30 2014"), None);
    }

    #[test]
    fn a_later_failure_beats_an_earlier_250() {
        let t = "<<< 250 2.1.5 Ok >>> DATA <<< 451 4.3.0 Temporary failure";
        assert_eq!(find_failure_enhanced(t), Some("4.3.0"));
        assert_eq!(find_failure_enhanced("250 2.0.0 Ok"), None);
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "", ";", "5", "55", "550", "5.", "5.1.", "5.1.1", "ü550 ü", "550-", "smtp;",
        ] {
            let _ = SmtpReply::parse(s);
            let _ = find_enhanced(s);
            let _ = find_reply_code(s);
        }
    }
}
