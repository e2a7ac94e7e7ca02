//! Decoders: before any phrase is matched, recognise which MTA family wrote the bounce
//! ([`Mta`]) and read what that family's format says per recipient: the SMTP command the
//! remote host was answering, and recipients that a family states in its own way.
//!
//! The generic parsers (`parse`, `text`) already give each recipient its address, status,
//! reply code and the part of the text about that recipient only. The decoder adds what only
//! the family's format tells: qmail's "Connected to … but sender was rejected", DragonFly's
//! "did not like our final DATA", a Verizon or Apache James report whose recipient sits in the
//! original message's summary. Rules then see the family (`mta = [...]`) and the command.

mod command;
mod detect;

pub use detect::Mta;
use detect::{Evidence, detect};

use super::report::RecipientReport;

/// The MTA family of a message, from its headers (raw, in order), sender, subject, texts and
/// DSN fields, and whether the evidence proves it is a failure report (see [`detect`]).
pub(crate) fn detect_message(
    headers: &[(&str, &str)],
    body: &str,
    dsn: Option<&str>,
    from: Option<&str>,
    subject: Option<&str>,
) -> Option<(Mta, bool)> {
    let body = super::reply::truncate(body, 16 * 1024);
    let dsn = dsn.map(|d| super::reply::truncate(d, 4096));
    let texts: &[&str] = match dsn {
        Some(d) => &[body, d],
        None => &[body],
    };
    detect(&Evidence {
        texts,
        from: &from.unwrap_or("").to_ascii_lowercase(),
        subject: &subject.unwrap_or("").to_ascii_lowercase(),
        headers,
    })
}

/// Fills in, for every recipient, the MTA family and the command the family's own phrasing
/// names in that recipient's text (it wins over the generic guess, which only knows the
/// phrasings most MTAs share).
pub(crate) fn refine(mta: Option<Mta>, recips: &mut [RecipientReport]) {
    for r in recips.iter_mut() {
        r.mta = mta.map(|m| m.as_str().to_string());
        let Some(m) = mta else { continue };
        if m == Mta::AmazonSes
            && let Some((code, inner)) = r
                .diagnostic
                .as_deref()
                .and_then(quoted_reply)
                .map(|(c, i)| (c, i.to_string()))
        {
            // SES wraps the remote reply in its own summary: "5.1.0 - Unknown address error
            // 550-'5.7.1 … Access denied' (delivery attempts: 0)". The remote reply decides.
            let status = super::reply::find_enhanced(&inner).map(str::to_string);
            r.diagnostic = Some(format!("{code} {inner}"));
            r.reply_code = Some(code);
            if status.is_some() {
                r.status = status;
            }
        }
        if let Some(cmd) = r.diagnostic.as_deref().and_then(|d| command::of(m, d)) {
            r.smtp_command = Some(cmd.to_string());
        }
    }
}

/// The remote reply quoted inside a summary: `… 550-'5.7.1 text' …` → (550, "5.7.1 text").
fn quoted_reply(d: &str) -> Option<(u16, &str)> {
    let b = d.as_bytes();
    let at = (0..b.len().saturating_sub(5)).find(|&i| {
        matches!(b[i], b'4' | b'5')
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && matches!(b[i + 3], b'-' | b' ')
            && b[i + 4] == b'\''
            && (i == 0 || b[i - 1] == b' ')
    })?;
    let code = d.get(at..at + 3)?.parse().ok()?;
    let rest = d.get(at + 5..)?;
    let end = rest.rfind('\'')?;
    Some((code, rest[..end].trim()))
}

/// Recipients of the families whose reports name the recipient only in the returned
/// message's summary (Verizon's MMS gateway, Apache James), when the generic scan found none.
pub(crate) fn recipients_from_summary(mta: Mta, body: &str) -> Vec<RecipientReport> {
    // Verizon writes either an MMS gateway note ("Original Message: … To:") or the same
    // "Message details: … RCPT TO:" summary as Apache James.
    let labels: &[&str] = match mta {
        Mta::Verizon => &["rcpt to:", "to:"],
        Mta::ApacheJames => &["rcpt to:"],
        _ => return Vec::new(),
    };
    let lower = body.to_ascii_lowercase();
    let Some(addr) = labels.iter().find_map(|label| {
        lower.lines().find_map(|l| {
            l.trim()
                .strip_prefix(label)
                .map(super::headers::find_addresses)
                .and_then(|found| found.first().map(|(_, a)| a.to_string()))
        })
    }) else {
        return Vec::new();
    };
    // The explanation: from the first error line to the summary.
    let start = lower.find("error").unwrap_or(0);
    let end = ["original message:", "message details:"]
        .iter()
        .filter_map(|m| lower[start..].find(m).map(|i| start + i))
        .min()
        .unwrap_or(body.len());
    let text = body.get(start..end).unwrap_or("").trim();
    let reply_code = super::reply::find_reply_code(text).map(|(c, _)| c);
    vec![RecipientReport {
        final_recipient: Some(addr),
        reply_code,
        status: super::reply::find_enhanced(text).map(str::to_string),
        diagnostic: (!text.is_empty()).then(|| text.to_string()),
        mta: Some(mta.as_str().to_string()),
        ..RecipientReport::default()
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verizon_recipient_comes_from_the_summary() {
        let body = "Message could not be delivered to mobile.\nError: No valid recipients for this MM\nOriginal Message:\nFrom: a <me@example.net>\nTo: 0000000000@vzwpix.example\nSubject: test\n";
        let r = recipients_from_summary(Mta::Verizon, body);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].final_recipient.as_deref(),
            Some("0000000000@vzwpix.example")
        );
        assert_eq!(
            r[0].diagnostic.as_deref(),
            Some("Error: No valid recipients for this MM")
        );
    }

    #[test]
    fn james_recipient_and_reply() {
        let body = "Error: Invalid user address\nError message below:\n550 - Requested action not taken: no such user here\nMessage details:\n  Subject: Test\n  MAIL FROM: me@example.net\n  RCPT TO: 0000@vtext.example\n  From: me@example.net\n";
        let r = recipients_from_summary(Mta::ApacheJames, body);
        assert_eq!(r[0].final_recipient.as_deref(), Some("0000@vtext.example"));
        assert_eq!(r[0].reply_code, Some(550));
        assert!(recipients_from_summary(Mta::Postfix, body).is_empty());
    }

    #[test]
    fn ses_summary_yields_the_remote_reply() {
        let d = "5.1.0 - Unknown address error 550-'5.7.1 <a@example.org>... Access denied' (delivery attempts: 0)";
        assert_eq!(
            quoted_reply(d),
            Some((550, "5.7.1 <a@example.org>... Access denied"))
        );
        let mut r = vec![RecipientReport {
            status: Some("5.1.0".into()),
            diagnostic: Some(d.into()),
            ..RecipientReport::default()
        }];
        refine(Some(Mta::AmazonSes), &mut r);
        assert_eq!(r[0].status.as_deref(), Some("5.7.1"));
        assert_eq!(r[0].reply_code, Some(550));
        assert_eq!(quoted_reply("550 5.1.1 user unknown"), None);
    }

    #[test]
    fn refine_sets_family_and_command() {
        let mut r = vec![RecipientReport {
            diagnostic: Some("Connected to 192.0.2.1 but sender was rejected.".into()),
            ..RecipientReport::default()
        }];
        refine(Some(Mta::Qmail), &mut r);
        assert_eq!(r[0].mta.as_deref(), Some("qmail"));
        assert_eq!(r[0].smtp_command.as_deref(), Some("MAIL"));
    }
}
