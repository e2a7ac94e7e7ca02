//! The order page's codes in words: timeline entries ("Taken by Sara",
//! "Secure link e-mailed through the masked sender"), attempt outcomes and
//! what each attempt sent. Entries written before the words existed
//! (`agent@shop: support.take`) read the same as new ones.

/// A timeline entry's heading and detail in words.
pub(crate) fn event(kind: &str, detail: &str) -> (String, String) {
    let label = match kind {
        "intake" => "Received from the shop",
        "accepted" => "Accepted by the mail server",
        "retry_scheduled" => "Retry scheduled",
        "held" => "Held",
        "delivered" => "Delivered",
        "bounce" => "Bounced",
        "fallback" => "Automatic fallback decided",
        "link_issued" => "Secure link issued",
        "links_revoked" => "Earlier links revoked",
        "masked_resend" => "Secure link e-mailed",
        "masked_resend_failed" => "Secure link e-mail failed",
        "masked_resend_unknown" => "Secure link e-mail: outcome unknown, sending again",
        "notification" => "Account notification",
        "notification_seen" => "Notification seen",
        "reached" => "Customer reached",
        "support_case" => "Needs an agent",
        "support_resolved" => "Case resolved",
        "agent" => "Agent",
        "customer_reported" => "Customer reported",
        "fresh_link_requested" => "Customer asked for a fresh link",
        "erased" => "Personal data erased",
        other => return (humanise(other), detail.to_string()),
    };
    let detail = match kind {
        "agent" => agent_detail(detail),
        "link_issued" => link_detail(detail),
        "reached" => detail
            .replace("support_call", "an agent's call")
            .replace("sms_delivered", "a text was delivered"),
        _ => detail.to_string(),
    };
    (label.to_string(), detail)
}

/// `sara@shop: support.take ` (as stored before) → "Taken by sara@shop".
fn agent_detail(detail: &str) -> String {
    let Some((who, rest)) = detail.split_once(": ") else {
        return detail.to_string();
    };
    let (action, more) = rest.split_once(' ').unwrap_or((rest, ""));
    if !action.contains('.') {
        return detail.to_string();
    }
    let more = more.trim();
    let with = |what: &str| {
        if more.is_empty() {
            format!("{what} by {who}")
        } else {
            format!("{what} by {who}: {more}")
        }
    };
    match action {
        "support.take" => format!("Taken by {who}"),
        "support.call" => with("Called"),
        "support.call_outcome" => format!("Call logged by {who}: {}", more.replace('_', " ")),
        "support.sms_link" => with("Secure link texted"),
        "link.regenerate" => with("Links regenerated"),
        "link.email" | "link.resend_via_pool" => with("Fresh link e-mailed"),
        "support.resolve" => with("Resolved"),
        _ => detail.to_string(),
    }
}

/// "secure link #3 issued (masked_email, by fallback), valid until …" →
/// "Secure link #3 e-mailed through the masked sender by the automatic
/// fallback, valid until …".
fn link_detail(detail: &str) -> String {
    let (Some(open), Some(close)) = (detail.find('('), detail.find(')')) else {
        return detail.to_string();
    };
    if close < open {
        return detail.to_string();
    }
    let head = detail[..open].trim().trim_end_matches(" issued");
    let inner = &detail[open + 1..close];
    let (channel, by) = inner.split_once(", by ").unwrap_or((inner, ""));
    let how = channel_words(channel);
    let by = match by {
        "" => String::new(),
        "fallback" => " by the automatic fallback".to_string(),
        "intake" => " at checkout".to_string(),
        who => format!(" by {who}"),
    };
    let mut head = head.to_string();
    if let Some(first) = head.get(..1) {
        head = format!("{}{}", first.to_uppercase(), &head[1..]);
    }
    format!("{head} {how}{by}{}", &detail[close + 1..])
}

/// How a link went out, in words.
pub(crate) fn channel_words(channel: &str) -> &'static str {
    match channel {
        "masked_email" => "e-mailed through the masked sender",
        "sms" => "texted",
        "whatsapp" => "sent on WhatsApp",
        "agent" => "issued by an agent",
        "fresh_request" => "e-mailed when the customer asked for a fresh link",
        "checkout" => "shown on the shop's thank-you page",
        _ => "issued",
    }
}

/// An attempt's outcome in words.
pub(crate) fn outcome(outcome: Option<&str>) -> String {
    match outcome {
        None => "In progress".into(),
        Some("accepted") => "Accepted by the mail server".into(),
        Some("deferred") => "Deferred: the server asked to try later".into(),
        Some("rejected") => "Refused by the mail server".into(),
        Some("failed") => "Failed before the server answered".into(),
        Some("unknown") => "Unknown: the connection was lost after sending".into(),
        Some(other) => humanise(other),
    }
}

/// What an attempt sent.
pub(crate) fn purpose(purpose: &str) -> &'static str {
    match purpose {
        "masked_link" => "Secure link through the masked sender",
        _ => "Receipt",
    }
}

fn humanise(code: &str) -> String {
    let words = code.replace(['_', '.'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words() {
        assert_eq!(
            event("agent", "sara@shop.test: support.take "),
            ("Agent".to_string(), "Taken by sara@shop.test".to_string())
        );
        assert_eq!(
            event("link_issued", "secure link #3 issued (masked_email, by fallback), valid until 2026-12-07 10:00 UTC").1,
            "Secure link #3 e-mailed through the masked sender by the automatic fallback, valid until 2026-12-07 10:00 UTC"
        );
        assert_eq!(event("agent", "Taken by Sara").1, "Taken by Sara");
        assert_eq!(event("some_new_kind", "x").0, "Some new kind");
        assert_eq!(outcome(Some("accepted")), "Accepted by the mail server");
    }
}
