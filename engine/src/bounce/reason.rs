//! Bounce reasons (Sisimai-compatible names) and the delivery class derived from them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a message bounced. Names and their lowercase serialisation follow Sisimai, so verdicts can
/// be compared with (and exported to) tools that speak Sisimai's vocabulary.
///
/// Each doc line ends with the [`BounceClass`] the reason maps to and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// The local part does not exist at the destination (5.1.1): recipient_permanent, the address is dead.
    UserUnknown,
    /// The domain does not exist or has no usable MX (5.1.2, 5.4.4): recipient_permanent, the address is dead.
    HostUnknown,
    /// The mailbox moved and mail is not forwarded (5.1.6): recipient_permanent, the address is dead.
    HasMoved,
    /// The recipient's mailbox is over quota (x.2.2): transient, the owner may clean it up.
    MailboxFull,
    /// Our sending IP/host/domain is refused (blocklist, "not currently accepting mail from your ip"): sender_reputation.
    Blocked,
    /// The receiver rejects us for poor IP/domain reputation: sender_reputation.
    BadReputation,
    /// Our sending IP lacks a (matching) PTR record: sender_reputation, fix DNS or use another pool.
    RequirePtr,
    /// SPF/DKIM/DMARC failed for our mail (x.7.20-26): sender_reputation, an issue of our sending identity.
    AuthFailure,
    /// The receiver's spam filter rejected the message: sender_reputation, it judges our stream, not the address.
    SpamDetected,
    /// A receiver-side policy refused the message (members-only list, org policy): content, don't resend unchanged.
    PolicyViolation,
    /// The message's format/headers were refused (x.6.x): content, fix the message first.
    ContentError,
    /// The message exceeds the receiver's size limit (5.3.4): content, resend only smaller.
    MesgTooBig,
    /// A virus scanner rejected the message: content, never resend unchanged.
    VirusDetected,
    /// We were rate limited (421/451 "try again later", throttling): sender_reputation, slow down or switch pool.
    RateLimited,
    /// Too many concurrent connections/recipients from us: sender_reputation, a sending-side limit.
    TooManyConn,
    /// We are sending too fast (speed limits): sender_reputation, a sending-side limit.
    Speeding,
    /// Delivery gave up after the queue lifetime or the report is a delay warning: transient.
    Expired,
    /// DNS/routing/loop/connection problem along the way: transient.
    NetworkError,
    /// The receiving system failed internally or is misconfigured: transient.
    SystemError,
    /// The receiving system's disk is full: transient.
    SystemFull,
    /// A security/policy refusal without more detail (x.7.x): sender_reputation, most often aimed at the sender.
    SecurityError,
    /// The destination accepts no mail at all (null MX, 521/556): recipient_permanent when permanent.
    NotAccept,
    /// Our envelope sender was refused (x.1.7, x.1.8, sender verify): sender_reputation, fix our sender, not the recipient.
    Rejected,
    /// The recipient (or its filter) refuses this message; the mailbox may still exist: transient.
    Filtered,
    /// The recipient account is suspended/disabled, perhaps temporarily: transient.
    Suspend,
    /// Not enough information to decide: transient.
    OnHold,
    /// The receiver rejected an SMTP command as malformed: transient (a sending-software problem).
    SyntaxError,
    /// The receiving host refused to relay for the domain: sender_reputation, it is a routing/authorisation issue on our side.
    NoRelaying,
    /// The message exceeded a receiver limit other than size (x.2.3): content.
    ExceedLimit,
    /// The local mailer program (pipe, procmail) failed: transient.
    MailerError,
    /// The message is not RFC 5322 compliant: content.
    NotCompliantRfc,
    /// STARTTLS could not be negotiated (x.7.30, "must issue a STARTTLS"): sender_reputation, our TLS setup.
    FailedStartTls,
    /// The sending service suppressed the address itself (ESP suppression list): recipient_permanent.
    Suppressed,
    /// The recipient replied automatically (RFC 3834 auto-reply): auto_reply, ignore.
    Vacation,
    /// A complaint (RFC 5965 ARF feedback report): complaint, stop mailing this recipient.
    Feedback,
    /// A positive delivery report (2.x.x): delivered.
    Delivered,
    /// Nothing could be decided: transient.
    Undefined,
}

/// What the sending engine should do about a recipient after a bounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BounceClass {
    /// The address is dead: suppress it, never retry.
    RecipientPermanent,
    /// Our IP/domain/pool is blocked or throttled: retry through another pool, never suppress the recipient.
    SenderReputation,
    /// Retry on the normal schedule.
    Transient,
    /// The content was refused: do not resend unchanged.
    Content,
    /// The recipient complained (feedback loop).
    Complaint,
    /// An automatic reply: ignore.
    AutoReply,
    /// The message was delivered.
    Delivered,
}

impl BounceClass {
    /// The snake_case name used in serialisation.
    pub fn as_str(self) -> &'static str {
        match self {
            BounceClass::RecipientPermanent => "recipient_permanent",
            BounceClass::SenderReputation => "sender_reputation",
            BounceClass::Transient => "transient",
            BounceClass::Content => "content",
            BounceClass::Complaint => "complaint",
            BounceClass::AutoReply => "auto_reply",
            BounceClass::Delivered => "delivered",
        }
    }
}

impl fmt::Display for BounceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const ALL: [(Reason, &str); 37] = [
    (Reason::UserUnknown, "userunknown"),
    (Reason::HostUnknown, "hostunknown"),
    (Reason::HasMoved, "hasmoved"),
    (Reason::MailboxFull, "mailboxfull"),
    (Reason::Blocked, "blocked"),
    (Reason::BadReputation, "badreputation"),
    (Reason::RequirePtr, "requireptr"),
    (Reason::AuthFailure, "authfailure"),
    (Reason::SpamDetected, "spamdetected"),
    (Reason::PolicyViolation, "policyviolation"),
    (Reason::ContentError, "contenterror"),
    (Reason::MesgTooBig, "mesgtoobig"),
    (Reason::VirusDetected, "virusdetected"),
    (Reason::RateLimited, "ratelimited"),
    (Reason::TooManyConn, "toomanyconn"),
    (Reason::Speeding, "speeding"),
    (Reason::Expired, "expired"),
    (Reason::NetworkError, "networkerror"),
    (Reason::SystemError, "systemerror"),
    (Reason::SystemFull, "systemfull"),
    (Reason::SecurityError, "securityerror"),
    (Reason::NotAccept, "notaccept"),
    (Reason::Rejected, "rejected"),
    (Reason::Filtered, "filtered"),
    (Reason::Suspend, "suspend"),
    (Reason::OnHold, "onhold"),
    (Reason::SyntaxError, "syntaxerror"),
    (Reason::NoRelaying, "norelaying"),
    (Reason::ExceedLimit, "exceedlimit"),
    (Reason::MailerError, "mailererror"),
    (Reason::NotCompliantRfc, "notcompliantrfc"),
    (Reason::FailedStartTls, "failedstarttls"),
    (Reason::Suppressed, "suppressed"),
    (Reason::Vacation, "vacation"),
    (Reason::Feedback, "feedback"),
    (Reason::Delivered, "delivered"),
    (Reason::Undefined, "undefined"),
];

impl Reason {
    /// Every reason, in declaration order.
    pub fn all() -> impl Iterator<Item = Reason> {
        ALL.iter().map(|(r, _)| *r)
    }

    /// The Sisimai name (lowercase), identical to the serde form.
    pub fn as_str(self) -> &'static str {
        ALL.iter()
            .find(|(r, _)| *r == self)
            .map(|(_, s)| *s)
            .unwrap_or("undefined")
    }

    /// The delivery class: what to do with the recipient. See each variant's doc line for the why.
    pub fn class(self) -> BounceClass {
        use Reason::*;
        match self {
            UserUnknown | HostUnknown | HasMoved | NotAccept | Suppressed => {
                BounceClass::RecipientPermanent
            }
            Blocked | BadReputation | RequirePtr | AuthFailure | SpamDetected | RateLimited
            | TooManyConn | Speeding | SecurityError | Rejected | NoRelaying | FailedStartTls => {
                BounceClass::SenderReputation
            }
            PolicyViolation | ContentError | MesgTooBig | VirusDetected | ExceedLimit
            | NotCompliantRfc => BounceClass::Content,
            MailboxFull | Expired | NetworkError | SystemError | SystemFull | Filtered
            | Suspend | OnHold | SyntaxError | MailerError | Undefined => BounceClass::Transient,
            Vacation => BounceClass::AutoReply,
            Feedback => BounceClass::Complaint,
            Delivered => BounceClass::Delivered,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Reason::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bounce reason {0:?}")]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;

    /// Parses a Sisimai reason name, case-insensitively; `emailtoolarge` (Sisimai 5.2's
    /// new name) is accepted as `mesgtoobig`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("emailtoolarge") {
            return Ok(Reason::MesgTooBig);
        }
        ALL.iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(t))
            .map(|(r, _)| *r)
            .ok_or_else(|| UnknownReason(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Reason::all() {
            assert_eq!(r.as_str().parse::<Reason>(), Ok(r));
            let json = format!("\"{}\"", r.as_str());
            let via_toml: Reason = toml::Value::String(r.as_str().into())
                .try_into()
                .unwrap_or(Reason::Undefined);
            assert_eq!(via_toml, r, "{json}");
        }
        assert!("nonsense".parse::<Reason>().is_err());
        assert_eq!("UserUnknown".parse::<Reason>(), Ok(Reason::UserUnknown));
    }

    #[test]
    fn only_dead_addresses_are_permanent() {
        for r in Reason::all() {
            let perm = r.class() == BounceClass::RecipientPermanent;
            let expect = matches!(
                r,
                Reason::UserUnknown
                    | Reason::HostUnknown
                    | Reason::HasMoved
                    | Reason::NotAccept
                    | Reason::Suppressed
            );
            assert_eq!(perm, expect, "{r}");
        }
        assert_eq!(Reason::MailboxFull.class(), BounceClass::Transient);
        assert_eq!(Reason::Blocked.class(), BounceClass::SenderReputation);
    }
}
