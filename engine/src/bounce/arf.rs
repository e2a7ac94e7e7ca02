//! RFC 5965 Abuse Reporting Format (feedback-loop complaints).

use super::headers::{parse_fields, strip_addr_type};
use super::report::RecipientReport;

/// Recipients of a `message/feedback-report` body: one per `Original-Rcpt-To` (or, failing
/// that, per address of the returned message's `To`), carrying `Feedback-Type` and `Source-IP`.
pub(crate) fn recipients(report: &str, original_to: &[String]) -> Vec<RecipientReport> {
    let mut feedback_type = None;
    let mut source_ip = None;
    let mut rcpts: Vec<String> = Vec::new();
    let mut mta = None;
    for (name, value, _) in parse_fields(report) {
        match name.to_ascii_lowercase().as_str() {
            "feedback-type" => {
                feedback_type.get_or_insert_with(|| value.trim().to_ascii_lowercase());
            }
            "source-ip" => {
                source_ip.get_or_insert_with(|| value.trim().to_string());
            }
            "original-rcpt-to" | "removal-recipient" => {
                let a = strip_addr_type(&value).to_string();
                if !a.is_empty() && !rcpts.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                    rcpts.push(a);
                }
            }
            "reporting-mta" => {
                mta.get_or_insert_with(|| strip_addr_type(&value).to_string());
            }
            _ => {}
        }
    }
    if rcpts.is_empty() {
        rcpts = original_to.to_vec();
    }
    if rcpts.is_empty() {
        // A complaint about an unknown recipient is still a complaint.
        rcpts.push(String::new());
    }
    rcpts
        .into_iter()
        .map(|a| {
            let a = (!a.is_empty()).then_some(a);
            RecipientReport {
                final_recipient: a.clone(),
                original_recipient: a,
                action: Some("failed".into()),
                feedback_type: feedback_type.clone(),
                source_ip: source_ip.clone(),
                remote_mta: mta.clone(),
                ..RecipientReport::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let r = recipients(
            "Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\nSource-IP: 192.0.2.1\nOriginal-Rcpt-To: <a@example.com>\nOriginal-Rcpt-To: b@example.com\n",
            &[],
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].final_recipient.as_deref(), Some("a@example.com"));
        assert_eq!(r[1].feedback_type.as_deref(), Some("abuse"));
        assert_eq!(r[1].source_ip.as_deref(), Some("192.0.2.1"));
        let r = recipients("Feedback-Type: opt-out\n", &["c@example.org".into()]);
        assert_eq!(r[0].original_recipient.as_deref(), Some("c@example.org"));
    }
}
