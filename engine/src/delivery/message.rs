//! Building the RFC 5322 / MIME bytes of one receipt email.
//!
//! The message is `multipart/alternative` (plain text first, then HTML, so clients that
//! understand HTML pick the last part). lettre's builder does the encoding: non-ASCII
//! display names and subjects become RFC 2047 encoded words, the text body is 7bit or
//! quoted-printable as needed and the HTML body base64, long header lines are folded.
//! Every header value goes through that encoder, which turns CR and LF into encoded
//! words, so a customer name such as `"Eve\r\nBcc: x@evil.example"` cannot start a new
//! header line.

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, HeaderName, HeaderValue, MessageId};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

/// Everything that goes into one receipt email.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptEmail<'a> {
    /// Display name of the sender, e.g. the shop's name.
    pub from_name: &'a str,
    /// Sender address, e.g. `receipts@shop.example`.
    pub from_address: &'a str,
    /// Display name of the recipient (may be empty).
    pub to_name: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub html: &'a str,
    pub text: &'a str,
    /// Message-ID without angle brackets, e.g. `r1.a2.x9f@bounce.shop.example`.
    pub message_id: &'a str,
    /// Gmail `Feedback-ID` header value, e.g. `order:pool-primary:rebound:shopid`.
    pub feedback_id: &'a str,
    /// A `Reply-To` address, either `addr@example` or `Name <addr@example>`.
    pub reply_to: Option<&'a str>,
    /// More headers, e.g. `("X-Rebound-Attempt", "2".to_string())`. Names must be plain
    /// RFC 5322 field names and must not repeat a header this module sets itself.
    pub extra_headers: &'a [(&'a str, String)],
}

/// Why a message could not be built. Nothing here is transient: the input is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("invalid {field} address {value:?}")]
    InvalidAddress { field: &'static str, value: String },
    #[error("invalid Message-ID {0:?}: expected id-left@id-right without brackets or spaces")]
    InvalidMessageId(String),
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    #[error("header {0:?} is set by the message builder and cannot be given as an extra header")]
    ReservedHeader(String),
    #[error("could not build message: {0}")]
    Build(String),
}

/// Headers [`build`] sets itself (or that must never be added to a receipt); extra headers
/// with these names are refused rather than duplicated.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "feedback-id",
    "auto-submitted",
    "return-path",
];

/// The longest header value accepted from a caller (before encoding); longer values are cut
/// on a character boundary. Keeps a runaway value from producing a huge header block.
const MAX_HEADER_VALUE: usize = 998;

/// Builds the raw message bytes (CRLF line endings), ready for SMTP `DATA`.
pub fn build(email: &ReceiptEmail) -> Result<Vec<u8>, MessageError> {
    let from = mailbox("From", email.from_name, email.from_address)?;
    let to = mailbox("To", email.to_name, email.to_address)?;
    let message_id = checked_message_id(email.message_id)?;

    // The envelope given, not derived: lettre would parse the From and To
    // headers back into addresses for it, and the relay gets Rebound's own
    // envelope (the VERP return path) anyway.
    let envelope = lettre::address::Envelope::new(Some(from.email.clone()), vec![to.email.clone()])
        .map_err(|e| MessageError::Build(e.to_string()))?;
    let mut builder = Message::builder()
        .envelope(envelope)
        .from(from)
        .to(to)
        .subject(clean_value(email.subject))
        .header(MessageId::from(format!("<{message_id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Feedback-ID"),
            clean_value(email.feedback_id),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ));

    if let Some(reply_to) = email.reply_to {
        let mbox: Mailbox = reply_to
            .trim()
            .parse()
            .map_err(|_| MessageError::InvalidAddress {
                field: "Reply-To",
                value: reply_to.to_string(),
            })?;
        builder = builder.reply_to(mbox);
    }

    for (name, value) in email.extra_headers {
        let name = checked_header_name(name)?;
        builder = builder.raw_header(HeaderValue::new(name, clean_value(value)));
    }

    // The HTML part is base64 (as Gmail and Outlook send theirs), encoded here: lettre's
    // `Body` would first scan it to choose an encoding it is told not to use, then insert
    // each missing CR one `String::insert` at a time (a copy of the rest of the body per
    // line); a profile of the dispatch bench put those two at about 3 % of the machine.
    // The text part keeps lettre's automatic choice (7bit or quoted-printable, readable in
    // the raw source), its line endings made CRLF here in one pass.
    let html = Body::dangerous_pre_encoded(
        base64_lines(&crlf(email.html)),
        ContentTransferEncoding::Base64,
    );
    let message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(crlf(email.text)))
                .singlepart(SinglePart::html(html)),
        )
        .map_err(|e| MessageError::Build(e.to_string()))?;
    Ok(message.formatted())
}

/// `text` with every line ending CRLF (a bare LF gets its CR), as MIME canonical
/// form wants; CRs already there are kept.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut rest = text;
    while let Some(i) = rest.find('\n') {
        let line = &rest[..i];
        out.push_str(line);
        if !line.ends_with('\r') {
            out.push('\r');
        }
        out.push('\n');
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// Base64 in lines of 76 characters joined by CRLF (RFC 2045), no CRLF after the last.
fn base64_lines(data: &str) -> Vec<u8> {
    use base64::Engine;
    const LINE: usize = 76;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data.as_bytes());
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / LINE * 2);
    for (i, line) in encoded.as_bytes().chunks(LINE).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line);
    }
    out
}

fn mailbox(field: &'static str, name: &str, address: &str) -> Result<Mailbox, MessageError> {
    let invalid = || MessageError::InvalidAddress {
        field,
        value: address.to_string(),
    };
    // lettre's address parser already refuses spaces and control characters; the explicit
    // check keeps that guarantee independent of its version.
    if address.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(invalid());
    }
    let address = address.parse().map_err(|_| invalid())?;
    let name = clean_value(name);
    let name = name.trim();
    Ok(Mailbox::new(
        (!name.is_empty()).then(|| name.to_string()),
        address,
    ))
}

/// A header value with control characters (CR, LF, NUL, TAB…) replaced by spaces and its
/// length bounded. lettre would encode CR/LF safely anyway; replacing them keeps the
/// header readable and makes the no-injection guarantee not depend on the encoder alone.
fn clean_value(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > MAX_HEADER_VALUE {
        let mut end = MAX_HEADER_VALUE;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

fn checked_message_id(id: &str) -> Result<&str, MessageError> {
    let ok = id.len() <= 250
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'))
        && id
            .split_once('@')
            .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty() && !r.contains('@'));
    if ok {
        Ok(id)
    } else {
        Err(MessageError::InvalidMessageId(id.to_string()))
    }
}

fn checked_header_name(name: &str) -> Result<HeaderName, MessageError> {
    // RFC 5322 field-name: printable US-ASCII except ':'.
    let valid = !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if !valid {
        return Err(MessageError::InvalidHeaderName(name.to_string()));
    }
    if RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(MessageError::ReservedHeader(name.to_string()));
    }
    HeaderName::new_from_ascii(name.to_string())
        .map_err(|_| MessageError::InvalidHeaderName(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(extra: &'a [(&'a str, String)]) -> ReceiptEmail<'a> {
        ReceiptEmail {
            from_name: "Corner Shop",
            from_address: "receipts@shop.example",
            to_name: "Ada Lovelace",
            to_address: "ada@customer.example",
            subject: "Your receipt #1042",
            html: "<p>Thanks!</p>\n<p>Total: 12.00</p>",
            text: "Thanks!\nTotal: 12.00",
            message_id: "r1.a2.x9f@bounce.shop.example",
            feedback_id: "order:pool-primary:rebound:shop1",
            reply_to: Some("Help <help@shop.example>"),
            extra_headers: extra,
        }
    }

    fn text(raw: &[u8]) -> String {
        String::from_utf8(raw.to_vec()).expect("message is ASCII")
    }

    /// The header block (up to the first empty line), unfolded.
    fn headers(raw: &str) -> Vec<String> {
        let head = raw.split("\r\n\r\n").next().expect("has headers");
        let mut out: Vec<String> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = out.last_mut() {
                    last.push_str(line);
                }
            } else {
                out.push(line.to_string());
            }
        }
        out
    }

    /// Bodies with bare LFs, CRLFs, a lone CR, non-ASCII text, long lines and every
    /// length modulo 3 (base64 padding), for comparing with lettre's own encoders.
    fn awkward_bodies() -> Vec<String> {
        let mut bodies = vec![
            String::new(),
            "\n".into(),
            "\nstarts with LF".into(),
            "ends with LF\n".into(),
            "a\r\nb\nc\rd\n\n\r\n".into(),
            "Grüße, Zoë – 東京 ✓\n€ 12,00\r\n".into(),
            format!("<td style=\"{}\">x</td>\n", "padding:0;".repeat(150)),
        ];
        for n in 0..7 {
            bodies.push(format!("{}\n{}", "<p>line</p>\n".repeat(40), "x".repeat(n)));
        }
        bodies
    }

    #[test]
    fn html_part_is_byte_for_byte_what_lettre_would_encode() {
        for body in awkward_bodies() {
            let ours = Body::dangerous_pre_encoded(
                base64_lines(&crlf(&body)),
                ContentTransferEncoding::Base64,
            );
            let lettres = Body::new_with_encoding(body.clone(), ContentTransferEncoding::Base64)
                .expect("base64 takes anything");
            assert_eq!(ours.into_vec(), lettres.into_vec(), "body {body:?}");
        }
    }

    #[test]
    fn text_part_line_endings_match_lettres() {
        for body in awkward_bodies() {
            let ours = Body::new(crlf(&body));
            let lettres = Body::new(body.clone());
            assert_eq!(ours.encoding(), lettres.encoding(), "body {body:?}");
            assert_eq!(ours.into_vec(), lettres.into_vec(), "body {body:?}");
        }
    }

    #[test]
    fn builds_multipart_with_required_headers() {
        let extra = [("X-Rebound-Attempt", "2".to_string())];
        let raw = text(&build(&sample(&extra)).expect("builds"));
        let h = headers(&raw);
        let has = |prefix: &str| h.iter().any(|l| l.starts_with(prefix));
        assert!(
            has("From: \"Corner Shop\" <receipts@shop.example>")
                || has("From: Corner Shop <receipts@shop.example>"),
            "{raw}"
        );
        assert!(has("To: "), "{raw}");
        assert!(has("Subject: Your receipt #1042"), "{raw}");
        assert!(has("Message-ID: <r1.a2.x9f@bounce.shop.example>"), "{raw}");
        assert!(has("Date: "), "{raw}");
        assert!(has("MIME-Version: 1.0"), "{raw}");
        assert!(
            has("Feedback-ID: order:pool-primary:rebound:shop1"),
            "{raw}"
        );
        assert!(has("Auto-Submitted: auto-generated"), "{raw}");
        assert!(has("Reply-To: Help <help@shop.example>"), "{raw}");
        assert!(has("X-Rebound-Attempt: 2"), "{raw}");
        assert!(has("Content-Type: multipart/alternative"), "{raw}");
        let plain = raw.find("text/plain").expect("plain part");
        let html = raw.find("text/html").expect("html part");
        assert!(plain < html, "text part comes first");
        assert!(
            raw.contains("Total: 12.00"),
            "the text part is readable as sent"
        );
        // The HTML part is base64; a mail reader decodes it back to the same HTML.
        assert!(!raw.contains("<p>Thanks!</p>"), "{raw}");
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parses");
        // Bodies travel with CRLF line ends (MIME's canonical form).
        let lf = |s: Option<std::borrow::Cow<'_, str>>| s.map(|s| s.replace("\r\n", "\n"));
        assert_eq!(
            lf(parsed.body_html(0)).as_deref(),
            Some("<p>Thanks!</p>\n<p>Total: 12.00</p>")
        );
        assert_eq!(
            lf(parsed.body_text(0)).as_deref(),
            Some("Thanks!\nTotal: 12.00")
        );
        assert!(
            !raw.contains("\n\n") && !raw.replace("\r\n", "").contains('\n'),
            "CRLF only"
        );
    }

    #[test]
    fn non_ascii_subject_and_names_are_encoded() {
        let mut e = sample(&[]);
        e.subject = "Ihre Quittung – Café Müller";
        e.to_name = "José Müller";
        let raw = build(&e).expect("builds");
        assert!(raw.is_ascii(), "headers are 7-bit after RFC 2047 encoding");
        let raw = text(&raw);
        let h = headers(&raw);
        let subject = h
            .iter()
            .find(|l| l.starts_with("Subject:"))
            .expect("subject");
        assert!(subject.contains("=?utf-8?"), "{subject}");
        let to = h.iter().find(|l| l.starts_with("To:")).expect("to");
        assert!(
            to.contains("=?utf-8?") && to.contains("<ada@customer.example>"),
            "{to}"
        );
    }

    #[test]
    fn header_injection_is_neutralised() {
        let extra = [("X-Note", "a\r\nBcc: evil3@evil.example".to_string())];
        let mut e = sample(&extra);
        e.to_name = "Eve\r\nBcc: evil@evil.example";
        e.subject = "Hi\r\nBcc: evil2@evil.example\r\n\r\nfake body";
        e.feedback_id = "x\nBcc: evil4@evil.example";
        let raw = text(&build(&e).expect("builds"));
        for line in headers(&raw) {
            assert!(
                !line.to_ascii_lowercase().starts_with("bcc"),
                "injected header line {line:?} in\n{raw}"
            );
        }
        // Every header line is still a well-formed field (no line was split off), and the
        // would-be body text stayed inside the Subject.
        let h = headers(&raw);
        for line in &h {
            let name = line.split_once(':').map(|(n, _)| n).unwrap_or("");
            assert!(
                !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b)),
                "malformed header line {line:?}"
            );
        }
        let subject = h
            .iter()
            .find(|l| l.starts_with("Subject:"))
            .expect("subject");
        assert!(subject.contains("fake body"), "{subject}");

        // Injection through an address or a header name is refused outright.
        let mut e = sample(&[]);
        e.to_address = "ada@customer.example\r\nBcc: evil@evil.example";
        assert!(matches!(
            build(&e),
            Err(MessageError::InvalidAddress { .. })
        ));
        let extra = [("X-A\r\nBcc", "x".to_string())];
        assert!(matches!(
            build(&sample(&extra)),
            Err(MessageError::InvalidHeaderName(_))
        ));
        let extra = [("bcc", "evil@evil.example".to_string())];
        assert!(matches!(
            build(&sample(&extra)),
            Err(MessageError::ReservedHeader(_))
        ));
        let mut e = sample(&[]);
        e.message_id = "a@b>\r\nBcc: <x";
        assert!(matches!(build(&e), Err(MessageError::InvalidMessageId(_))));
    }

    #[test]
    fn rejects_bad_addresses_and_ids() {
        let mut e = sample(&[]);
        e.from_address = "not an address";
        assert!(matches!(
            build(&e),
            Err(MessageError::InvalidAddress { field: "From", .. })
        ));
        let mut e = sample(&[]);
        e.message_id = "<r1@x>";
        assert!(build(&e).is_err());
        let mut e = sample(&[]);
        e.message_id = "no-at-sign";
        assert!(build(&e).is_err());
        let mut e = sample(&[]);
        e.reply_to = Some("nope");
        assert!(matches!(
            build(&e),
            Err(MessageError::InvalidAddress {
                field: "Reply-To",
                ..
            })
        ));
    }
}
