//! Unit tests over the small hand-written fixtures in `fixtures/` (modelled on real formats).

use super::{BounceClass, Classifier, Reason, ReportKind, parse_message};

const POSTFIX_DSN: &[u8] = include_bytes!("fixtures/postfix_dsn.eml");
const QMAIL_TWO: &[u8] = include_bytes!("fixtures/qmail_two.eml");
const EXIM_BLOCKED: &[u8] = include_bytes!("fixtures/exim_blocked.eml");
const ARF_ABUSE: &[u8] = include_bytes!("fixtures/arf_abuse.eml");
const VACATION: &[u8] = include_bytes!("fixtures/vacation.eml");

#[test]
fn postfix_dsn_user_unknown() -> Result<(), super::ParseError> {
    let report = parse_message(POSTFIX_DSN)?;
    assert_eq!(report.kind, ReportKind::Dsn);
    assert_eq!(report.reporting_mta.as_deref(), Some("mx.rebound.test"));
    assert_eq!(
        report.original_message_id.as_deref(),
        Some("receipt-42@rebound.test")
    );
    assert_eq!(report.verp_token.as_deref(), Some("r7Q2xk"));
    assert_eq!(report.recipients.len(), 1);
    let r = &report.recipients[0];
    assert_eq!(r.final_recipient.as_deref(), Some("nobody@shop.example"));
    assert_eq!(r.original_recipient.as_deref(), Some("nobody@shop.example"));
    assert_eq!(r.action.as_deref(), Some("failed"));
    assert_eq!(r.status.as_deref(), Some("5.1.1"));
    assert_eq!(r.remote_mta.as_deref(), Some("mx.shop.example"));
    assert_eq!(r.reply_code, Some(550));
    assert_eq!(r.smtp_command.as_deref(), Some("RCPT"));

    let v = Classifier::shared().classify_message(POSTFIX_DSN)?;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].verdict.reason, Reason::UserUnknown);
    assert_eq!(v[0].verdict.class, BounceClass::RecipientPermanent);
    assert!(v[0].hard_bounce);
    Ok(())
}

#[test]
fn qmail_two_recipients() -> Result<(), super::ParseError> {
    let report = parse_message(QMAIL_TWO)?;
    assert_eq!(report.kind, ReportKind::Bounce);
    assert_eq!(
        report.original_message_id.as_deref(),
        Some("receipt-43@rebound.test")
    );
    assert_eq!(report.verp_token.as_deref(), Some("q9"));
    let v = Classifier::shared().classify_message(QMAIL_TWO)?;
    let got: Vec<(Option<&str>, Reason, bool)> = v
        .iter()
        .map(|x| (x.recipient.as_deref(), x.verdict.reason, x.hard_bounce))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("gone@qmail.example"), Reason::UserUnknown, true),
            (Some("full@qmail.example"), Reason::MailboxFull, false),
        ]
    );
    Ok(())
}

#[test]
fn exim_blocklist_is_sender_reputation() -> Result<(), super::ParseError> {
    let v = Classifier::shared().classify_message(EXIM_BLOCKED)?;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].recipient.as_deref(), Some("buyer@isp.example"));
    assert_eq!(v[0].verdict.reason, Reason::Blocked);
    assert_eq!(v[0].verdict.class, BounceClass::SenderReputation);
    assert!(!v[0].hard_bounce);
    assert_eq!(
        v[0].original_message_id.as_deref(),
        Some("receipt-44@rebound.test")
    );
    Ok(())
}

#[test]
fn arf_complaint() -> Result<(), super::ParseError> {
    let report = parse_message(ARF_ABUSE)?;
    assert_eq!(report.kind, ReportKind::Feedback);
    let r = &report.recipients[0];
    assert_eq!(r.original_recipient.as_deref(), Some("angry@isp.example"));
    assert_eq!(r.feedback_type.as_deref(), Some("abuse"));
    assert_eq!(r.source_ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(
        report.original_message_id.as_deref(),
        Some("receipt-45@rebound.test")
    );
    let v = Classifier::shared().classify_message(ARF_ABUSE)?;
    assert_eq!(v[0].verdict.reason, Reason::Feedback);
    assert_eq!(v[0].verdict.class, BounceClass::Complaint);
    Ok(())
}

#[test]
fn vacation_auto_reply() -> Result<(), super::ParseError> {
    let v = Classifier::shared().classify_message(VACATION)?;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].kind, ReportKind::AutoReply);
    assert_eq!(v[0].recipient.as_deref(), Some("pat@shop.example"));
    assert_eq!(v[0].verdict.reason, Reason::Vacation);
    assert_eq!(v[0].verdict.class, BounceClass::AutoReply);
    Ok(())
}

#[test]
fn plain_mail_is_not_a_bounce() -> Result<(), super::ParseError> {
    let raw =
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nJust saying hi.\r\n";
    let report = parse_message(raw)?;
    assert_eq!(report.kind, ReportKind::NotABounce);
    assert!(report.recipients.is_empty());
    Ok(())
}

/// Truncations and byte mutations of every fixture must never panic.
#[test]
fn mangled_inputs_never_panic() {
    let c = Classifier::shared();
    for f in [POSTFIX_DSN, QMAIL_TWO, EXIM_BLOCKED, ARF_ABUSE, VACATION] {
        for cut in (0..f.len()).step_by(7) {
            let _ = c.classify_message(&f[..cut]);
        }
        let mut m = f.to_vec();
        for i in (0..m.len()).step_by(5) {
            m[i] = m[i].wrapping_mul(31).wrapping_add(0x80);
            let _ = c.classify_message(&m);
        }
    }
    let _ = c.classify_message(&[0xff; 4096]);
    let _ = c.classify_message("Subject: ü\n\n€€€ <@> @@ 550- 5.".as_bytes());
}

/// Found by `cargo fuzz` (bounce_message): an IP-literal scan that stopped
/// inside a multi-byte character panicked on a string slice.
#[test]
fn address_scan_never_splits_a_character() {
    let mut raw = b"rB:\n\ngrr:rB:\x8ar;@[".to_vec();
    raw.extend(std::iter::repeat_n(0xffu8, 66));
    raw.extend(b". \xff\xff@. ");
    let _ = super::parse_message(&raw);
    let _ = super::Classifier::shared().classify_message(&raw);
    let text = format!("x@[{}] y", "é".repeat(40));
    let _ = super::parse_message(text.as_bytes());
}

// TEMP-SNAPSHOT (not to be committed)
#[test]
fn tmp_corpus_snapshot() {
    let Some(out) = std::env::var_os("BOUNCE_SNAPSHOT_OUT") else {
        return;
    };
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sisimai/emails");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut s = String::new();
    let c = Classifier::shared();
    for p in &files {
        let raw = std::fs::read(p).unwrap_or_default();
        s.push_str(&format!(
            "=== {}\n{:#?}\n{:#?}\n",
            p.display(),
            parse_message(&raw),
            c.classify_message(&raw)
        ));
    }
    std::fs::write(out, s).ok();
}
