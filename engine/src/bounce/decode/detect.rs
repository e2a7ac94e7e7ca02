//! Which MTA family wrote a bounce: each family leaves a signature (a sentence of its
//! template, a header it adds, the sender it uses). Facts about what MTAs write, learnt from
//! public documentation and Sisimai's decoder list; the first signature that matches wins, so
//! the specific ones come before those a family shares with another.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

/// An MTA family whose bounce format is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mta {
    /// Amazon SES (sending side).
    AmazonSes,
    /// Amazon WorkMail.
    AmazonWorkMail,
    /// Apache James.
    ApacheJames,
    /// Courier MTA.
    Courier,
    /// DragonFly Mail Agent (dma).
    DragonFly,
    /// IBM/HCL Domino (Lotus Notes).
    Domino,
    /// Microsoft Exchange 2003 and older.
    Exchange2003,
    /// Microsoft Exchange 2007 and newer, Office 365.
    Exchange2007,
    /// Exim.
    Exim,
    /// Gmail.
    Gmail,
    /// Google Groups.
    GoogleGroups,
    /// Ipswitch IMail Server.
    IMail,
    /// Mail.Ru (Exim based).
    MailRu,
    /// Oracle / Sun Messaging Server.
    MessagingServer,
    /// OpenSMTPD.
    OpenSmtpd,
    /// Outlook.com / Hotmail.
    Outlook,
    /// Postfix.
    Postfix,
    /// PowerMTA.
    PowerMta,
    /// qmail (and its descendants).
    Qmail,
    /// Sendmail.
    Sendmail,
    /// Verizon's MMS gateway.
    Verizon,
    /// Yahoo.
    Yahoo,
    /// Zimbra.
    Zimbra,
}

impl Mta {
    /// The lowercase name rules use in `mta = [...]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mta::AmazonSes => "amazonses",
            Mta::AmazonWorkMail => "amazonworkmail",
            Mta::ApacheJames => "apachejames",
            Mta::Courier => "courier",
            Mta::DragonFly => "dragonfly",
            Mta::Domino => "domino",
            Mta::Exchange2003 => "exchange2003",
            Mta::Exchange2007 => "exchange2007",
            Mta::Exim => "exim",
            Mta::Gmail => "gmail",
            Mta::GoogleGroups => "googlegroups",
            Mta::IMail => "imail",
            Mta::MailRu => "mailru",
            Mta::MessagingServer => "messagingserver",
            Mta::OpenSmtpd => "opensmtpd",
            Mta::Outlook => "outlook",
            Mta::Postfix => "postfix",
            Mta::PowerMta => "powermta",
            Mta::Qmail => "qmail",
            Mta::Sendmail => "sendmail",
            Mta::Verizon => "verizon",
            Mta::Yahoo => "yahoo",
            Mta::Zimbra => "zimbra",
        }
    }
}

/// What a signature looks at.
#[derive(Clone, Copy)]
enum Field {
    /// The human-readable text (first parts, lowercased).
    Body,
    /// The From address (lowercased).
    From,
    /// The From address, when it is a mail system's (mailer-daemon, postmaster, ...): a
    /// person's reply from the same domain is not a bounce.
    SystemFrom,
    /// The Subject (lowercased).
    Subject,
    /// Any header with this (lowercase) name, value lowercased: one only a failure report
    /// carries (`X-Failed-Recipients`, `X-MS-Exchange-Message-Is-NDR`).
    Header(&'static str),
    /// A header that names the software (`X-Mailer`, a Message-ID style), which an ordinary
    /// message or an auto-reply from that software carries too: it names the family, it does
    /// not prove a failure report.
    Software(&'static str),
    /// A sender domain that also sends people's mail (Verizon's SMS gateway).
    SoftwareFrom,
}

use Field::{Body, From, Header, Software, SoftwareFrom, Subject, SystemFrom};

/// Signatures, most specific first.
const SIGNATURES: &[(Mta, Field, &str)] = &[
    (Mta::Verizon, From, "vzwpix.com"),
    (Mta::Verizon, SoftwareFrom, "@vtext.com"),
    (
        Mta::Verizon,
        Body,
        "message could not be delivered to mobile",
    ),
    (Mta::ApacheJames, Body, "error message below:"),
    (Mta::ApacheJames, Software("message-id"), "javamail.james"),
    (Mta::DragonFly, Body, "this is the dragonfly mail agent"),
    (
        Mta::OpenSmtpd,
        Body,
        "this is the mailer-daemon, please do not reply",
    ),
    (Mta::Courier, Body, "running the courier mail server"),
    (Mta::AmazonWorkMail, Software("x-mailer"), "amazon workmail"),
    (Mta::AmazonSes, From, "amazonses.com"),
    (Mta::AmazonSes, Software("x-aws-outgoing"), ""),
    (Mta::AmazonSes, Software("x-ses-outgoing"), ""),
    (Mta::PowerMta, Body, "x-powermta-bouncecategory"),
    (Mta::GoogleGroups, Body, "groups.google.com"),
    (Mta::Gmail, From, "mailer-daemon@googlemail.com"),
    (
        Mta::Gmail,
        Body,
        "delivery to the following recipient failed permanently",
    ),
    (Mta::Gmail, Body, "technical details of permanent failure"),
    (Mta::Gmail, Body, "technical details of temporary failure"),
    (
        Mta::Yahoo,
        Body,
        "sorry, we were unable to deliver your message to the following address",
    ),
    (Mta::Outlook, SystemFrom, "@hotmail."),
    (Mta::Outlook, SystemFrom, "@outlook."),
    (
        Mta::Exchange2007,
        Body,
        "diagnostic information for administrators",
    ),
    (
        Mta::Exchange2007,
        Header("x-ms-exchange-message-is-ndr"),
        "",
    ),
    (
        Mta::Exchange2003,
        Body,
        "the following recipient(s) could not be reached",
    ),
    (
        Mta::Exchange2003,
        Body,
        "did not reach the following recipient(s)",
    ),
    (
        Mta::Exchange2003,
        Software("x-mimeole"),
        "microsoft exchange",
    ),
    (Mta::Domino, Body, "lotus domino"),
    (Mta::Domino, Body, "was not delivered to:"),
    (Mta::Domino, Body, "------- failure reasons"),
    (Mta::IMail, Software("x-mailer"), "<smtp32 v"),
    (Mta::IMail, Body, "body of message generated response:"),
    (
        Mta::MessagingServer,
        Software("content-type"),
        "boundary_(id_",
    ),
    (
        Mta::MessagingServer,
        Body,
        "this report relates to a message you sent",
    ),
    (Mta::Zimbra, Software("x-mailer"), "zimbra"),
    (Mta::MailRu, SystemFrom, "mail.ru"),
    (Mta::Qmail, Body, "this is the qmail-send program"),
    (Mta::Qmail, Body, "qmail-send"),
    (Mta::Qmail, Body, "below this line is a copy of the message"),
    (
        Mta::Exim,
        Body,
        "this message was created automatically by mail delivery software",
    ),
    (Mta::Exim, Header("x-failed-recipients"), ""),
    (Mta::Postfix, Body, "this is the mail system at host"),
    (Mta::Postfix, Body, "x-postfix-queue-id"),
    (Mta::Postfix, Body, "; x-postfix;"),
    (Mta::Postfix, Body, "(in reply to rcpt to command)"),
    (Mta::Postfix, Body, "(in reply to end of data command)"),
    (Mta::Postfix, Body, "(in reply to mail from command)"),
    (
        Mta::Sendmail,
        Body,
        "----- transcript of session follows -----",
    ),
    (Mta::Sendmail, Body, "the original message was received at"),
    (Mta::Sendmail, Subject, "returned mail:"),
];

/// The facts a signature is checked against.
pub(crate) struct Evidence<'a> {
    /// The human-readable part(s) and the delivery-status part, as written (their signatures
    /// are matched ASCII case-insensitively).
    pub texts: &'a [&'a str],
    /// The From address, lowercased.
    pub from: &'a str,
    /// The Subject, lowercased.
    pub subject: &'a str,
    /// The message's headers as (name, value), raw; names and values are compared ASCII
    /// case-insensitively.
    pub headers: &'a [(&'a str, &'a str)],
}

/// The `Body` signatures in one automaton (ASCII case-insensitive, every match reported),
/// and per automaton pattern the signature's position in [`SIGNATURES`].
fn body_signatures() -> &'static Option<(AhoCorasick, Vec<usize>)> {
    static AC: OnceLock<Option<(AhoCorasick, Vec<usize>)>> = OnceLock::new();
    AC.get_or_init(|| {
        let (index, needles): (Vec<usize>, Vec<&str>) = SIGNATURES
            .iter()
            .enumerate()
            .filter(|(_, (_, field, _))| matches!(field, Body))
            .map(|(i, (_, _, needle))| (i, *needle))
            .unzip();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(needles)
            .ok()?;
        Some((ac, index))
    })
}

/// Per signature: whether it is a `Body` signature found in one of `texts` (one pass over
/// each text instead of one search per signature).
fn body_hits(texts: &[&str]) -> Vec<bool> {
    let mut hits = vec![false; SIGNATURES.len()];
    let Some((ac, index)) = body_signatures() else {
        return hits;
    };
    for t in texts {
        let Ok(found) = ac.try_find_overlapping_iter(t.as_bytes()) else {
            continue;
        };
        for m in found {
            if let Some(hit) = index
                .get(m.pattern().as_usize())
                .and_then(|&i| hits.get_mut(i))
            {
                *hit = true;
            }
        }
    }
    hits
}

/// The MTA family whose signature the message carries, if any, and whether that signature
/// proves the message is a failure report (a template sentence, a mail system's sender, a
/// report-only header) rather than naming the software that sent it.
pub(crate) fn detect(ev: &Evidence<'_>) -> Option<(Mta, bool)> {
    let body = body_hits(ev.texts);
    SIGNATURES
        .iter()
        .enumerate()
        .find_map(|(i, (mta, field, needle))| {
            let header = |name: &str| {
                ev.headers.iter().any(|(n, v)| {
                    n.eq_ignore_ascii_case(name) && v.trim().to_ascii_lowercase().contains(needle)
                })
            };
            let hit = match field {
                Body => body.get(i).copied().unwrap_or(false),
                From | SoftwareFrom => ev.from.contains(needle),
                SystemFrom => {
                    ev.from.contains(needle) && crate::bounce::headers::is_system_address(ev.from)
                }
                Subject => ev.subject.contains(needle),
                Header(name) | Software(name) => header(name),
            };
            hit.then_some((*mta, !matches!(field, Software(_) | SoftwareFrom)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev<'a>(
        texts: &'a [&'a str],
        from: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Evidence<'a> {
        Evidence {
            texts,
            from,
            subject: "",
            headers,
        }
    }

    #[test]
    fn recognises_families() {
        let none: Vec<(&str, &str)> = Vec::new();
        let qmail = ["Hi. This is the qmail-send program at mx.example."];
        assert_eq!(detect(&ev(&qmail, "", &none)), Some((Mta::Qmail, true)));
        let exim = ["This message was created automatically by mail delivery software."];
        assert_eq!(detect(&ev(&exim, "", &none)), Some((Mta::Exim, true)));
        // Mail.Ru runs Exim but says who it is in its sender.
        assert_eq!(
            detect(&ev(&exim, "mailer-daemon@corp.mail.ru", &none)),
            Some((Mta::MailRu, true))
        );
        let james = vec![("Message-ID", " <1.JavaMail.james@x>\r\n")];
        // A header that names the software is no proof of a bounce: a vacation reply sent
        // by the same software carries it too.
        assert_eq!(
            detect(&ev(&[""], "", &james)),
            Some((Mta::ApacheJames, false))
        );
        assert_eq!(detect(&ev(&["hello"], "a@example.org", &none)), None);
        assert_eq!(Mta::OpenSmtpd.as_str(), "opensmtpd");
    }

    #[test]
    fn the_first_signature_in_order_wins_whichever_text_holds_it() {
        let none: Vec<(&str, &str)> = Vec::new();
        // Postfix's sentence in the text, qmail's (listed earlier) in the DSN part.
        let texts = [
            "This is the mail system at host mx.example.",
            "Diagnostic-Code: x; qmail-send said no",
        ];
        assert_eq!(detect(&ev(&texts, "", &none)), Some((Mta::Qmail, true)));
        // A signature is never found across two texts.
        let split = ["this is the qmail-", "send program"];
        assert_eq!(detect(&ev(&split, "", &none)), None);
    }
}
