//! The SMTP command a failure answered, in each family's own words (beyond the phrasings the
//! generic reader knows: "in reply to RCPT TO command", "after RCPT TO", ">>> RCPT To").

use super::Mta;

/// (family, lowercase phrase, command), first match wins.
const PHRASES: &[(Option<Mta>, &str, &str)] = &[
    // qmail-remote: the conversation's stage in a sentence.
    (Some(Mta::Qmail), "but sender was rejected", "MAIL"),
    (Some(Mta::Qmail), "but my name was rejected", "HELO"),
    (Some(Mta::Qmail), "but greeting failed", "CONN"),
    (Some(Mta::Qmail), "does not like recipient", "RCPT"),
    (Some(Mta::Qmail), "failed on data command", "DATA"),
    (Some(Mta::Qmail), "failed after i sent the message", "DATA"),
    (
        Some(Mta::Qmail),
        "wasn't able to establish an smtp connection",
        "CONN",
    ),
    // DragonFly Mail Agent: "… did not like our final DATA:" / "… did not like our RCPT TO:".
    (Some(Mta::DragonFly), "did not like our final data", "DATA"),
    (Some(Mta::DragonFly), "did not like our data", "DATA"),
    (Some(Mta::DragonFly), "did not like our rcpt to", "RCPT"),
    (Some(Mta::DragonFly), "did not like our mail from", "MAIL"),
    (
        Some(Mta::DragonFly),
        "unable to establish connection",
        "CONN",
    ),
    // Exim: pipelined and end-of-data stages.
    (Some(Mta::Exim), "after pipelined rcpt to", "RCPT"),
    (Some(Mta::Exim), "after pipelined mail from", "MAIL"),
    (Some(Mta::Exim), "after pipelined data", "DATA"),
    (Some(Mta::MailRu), "after pipelined rcpt to", "RCPT"),
    // Courier: "<<< 550 …" after ">>> RCPT TO:<…>".
    (Some(Mta::Courier), ">>> rcpt to:", "RCPT"),
    (Some(Mta::Courier), ">>> data", "DATA"),
    // Oracle Messaging Server: "Reason: Remote SMTP server has rejected address".
    (
        Some(Mta::MessagingServer),
        "remote smtp server has rejected address",
        "RCPT",
    ),
    // Yahoo marks the stage in brackets.
    (Some(Mta::Yahoo), "[rcpt_to]", "RCPT"),
    (Some(Mta::Yahoo), "[mail_from]", "MAIL"),
    (Some(Mta::Yahoo), "[end_of_data]", "DATA"),
];

/// The command `text` names in `mta`'s own phrasing, if any.
pub(super) fn of(mta: Mta, text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    PHRASES
        .iter()
        .filter(|(m, _, _)| m.is_none_or(|m| m == mta))
        .find(|(_, p, _)| lower.contains(p))
        .map(|(_, _, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_phrasings() {
        let d = "gmail-smtp-in.l.example.com [192.0.2.1] did not like our final DATA: 550 5.7.26";
        assert_eq!(of(Mta::DragonFly, d), Some("DATA"));
        assert_eq!(of(Mta::Postfix, d), None);
        assert_eq!(
            of(Mta::Qmail, "Connected to 192.0.2.1 but greeting failed."),
            Some("CONN")
        );
    }
}
