//! The customer's address as one RFC 5321 `Mailbox`, checked at intake so
//! that what the shop API accepts is what the sender can put in `RCPT TO`.
//! Lists, display names, comments, quoted local parts and route tricks are
//! refused; IDN domains are kept as A-labels (what goes on the wire, what
//! bounces and suppressions name) and shown in Unicode.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// RFC 5321 §4.5.3.1.1 and the 254-octet path limit of RFC 3696 errata 1690.
const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;

/// Why an address cannot be used; the text is what the shop is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressProblem {
    NotOneMailbox,
    LocalPart,
    NeedsSmtpUtf8,
    LocalTooLong,
    Domain,
    TooLong,
}

impl AddressProblem {
    pub fn message(self) -> &'static str {
        match self {
            Self::NotOneMailbox => {
                "must be exactly one address such as jane@example.com: no lists, names, \
                 comments or angle brackets"
            }
            Self::LocalPart => {
                "the part before @ may contain only letters, digits, single dots and \
                 ! # $ % & ' * + - / = ? ^ _ ` { | } ~"
            }
            Self::NeedsSmtpUtf8 => {
                "the part before @ is not ASCII: sending to it needs SMTPUTF8 (RFC 6531), \
                 which no sender pool in the chain offers"
            }
            Self::LocalTooLong => "the part before @ must be at most 64 characters",
            Self::Domain => {
                "the domain must be a name with at least one dot (e.g. example.com) \
                 or an address literal such as [192.0.2.1]"
            }
            Self::TooLong => "must be at most 254 characters",
        }
    }
}

/// Parses `raw` (surrounding whitespace ignored) as one mailbox and returns
/// it normalised for sending: lower-cased, the domain in A-labels. A local
/// part that is not ASCII is refused ([`AddressProblem::NeedsSmtpUtf8`]).
pub fn parse_mailbox(raw: &str) -> Result<String, AddressProblem> {
    parse_mailbox_for(raw, false)
}

/// Whether `raw` has a local part that is not ASCII: only a sender pool that
/// offers SMTPUTF8 (RFC 6531) can carry it.
pub fn needs_smtputf8(raw: &str) -> bool {
    raw.trim()
        .rsplit_once('@')
        .is_some_and(|(local, _)| !local.is_ascii())
}

/// [`parse_mailbox`], with a non-ASCII local part accepted when `smtputf8`
/// (a pool in the chain offers SMTPUTF8): RFC 6531's `atext` adds every
/// non-ASCII character to the ASCII ones; its ASCII letters are lower-cased,
/// the rest kept as given. The 64-octet limit counts UTF-8 octets.
pub fn parse_mailbox_for(raw: &str, smtputf8: bool) -> Result<String, AddressProblem> {
    let raw = raw.trim();
    let (local, domain) = match raw.split_once('@') {
        Some((l, d)) if !d.contains('@') => (l, d),
        _ => return Err(AddressProblem::NotOneMailbox),
    };
    // Anything that can separate, wrap or annotate addresses in a header or
    // an SMTP path: not one mailbox. A colon only inside `[IPv6:…]`.
    let separator = |s: &str| {
        s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || ",;<>()\"\\".contains(c))
    };
    if separator(local)
        || separator(domain)
        || local.contains(':')
        || domain.contains(':') && !domain.starts_with("[IPv6:")
    {
        return Err(AddressProblem::NotOneMailbox);
    }
    let local = check_local(local, smtputf8)?;
    let domain = check_domain(domain)?;
    let address = format!("{local}@{domain}");
    if address.len() > MAX_ADDRESS {
        return Err(AddressProblem::TooLong);
    }
    // The sender builds its envelope with lettre: what it refuses would be
    // accepted here and then held as "invalid To address".
    lettre::Address::from_str(&address).map_err(|_| AddressProblem::NotOneMailbox)?;
    Ok(address)
}

fn check_local(local: &str, smtputf8: bool) -> Result<String, AddressProblem> {
    if !local.is_ascii() && !smtputf8 {
        return Err(AddressProblem::NeedsSmtpUtf8);
    }
    if local.len() > MAX_LOCAL {
        return Err(AddressProblem::LocalTooLong);
    }
    // RFC 5321 Dot-string: atoms of atext joined by single dots. The
    // Quoted-string form is refused (RFC 5321 §4.1.2 advises against it).
    let atext =
        |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
    if local
        .split('.')
        .any(|atom| atom.is_empty() || !atom.chars().all(atext))
    {
        return Err(AddressProblem::LocalPart);
    }
    Ok(local.to_ascii_lowercase())
}

fn check_domain(domain: &str) -> Result<String, AddressProblem> {
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return check_literal(literal).map(|l| format!("[{l}]"));
    }
    // UTS 46 with STD3 rules and DNS lengths; A-labels are what is sent.
    let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| AddressProblem::Domain)?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let ldh = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let numeric_tld = labels
        .last()
        .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()));
    if labels.len() < 2 || !labels.iter().all(ldh) || numeric_tld {
        return Err(AddressProblem::Domain);
    }
    Ok(ascii)
}

/// RFC 5321 §4.1.3: `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
fn check_literal(literal: &str) -> Result<String, AddressProblem> {
    if let Some(v6) = literal.strip_prefix("IPv6:") {
        let ip = Ipv6Addr::from_str(v6).map_err(|_| AddressProblem::Domain)?;
        return Ok(format!("IPv6:{ip}"));
    }
    let ip = Ipv4Addr::from_str(literal).map_err(|_| AddressProblem::Domain)?;
    Ok(ip.to_string())
}

/// An address as people read it: the domain's A-labels shown in Unicode
/// (`jane@xn--bcher-kva.example` → `jane@bücher.example`). Anything that
/// does not convert cleanly is shown as stored.
pub fn display_email(address: &str) -> String {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return address.to_string();
    };
    if !domain.split('.').any(|l| l.starts_with("xn--")) {
        return address.to_string();
    }
    match idna::domain_to_unicode(domain) {
        (unicode, Ok(())) => format!("{local}@{unicode}"),
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_plain_mailbox_is_normalised() {
        assert_eq!(
            parse_mailbox("  Jane.Doe+shop@Example.COM ").as_deref(),
            Ok("jane.doe+shop@example.com")
        );
        assert_eq!(
            parse_mailbox("o'brien@sub.example.co.uk").as_deref(),
            Ok("o'brien@sub.example.co.uk")
        );
        assert_eq!(
            parse_mailbox("a@[192.0.2.1]").as_deref(),
            Ok("a@[192.0.2.1]")
        );
        assert_eq!(
            parse_mailbox("a@[IPv6:2001:DB8:0:0::1]").as_deref(),
            Ok("a@[IPv6:2001:db8::1]")
        );
    }

    #[test]
    fn lists_names_comments_and_tricks_are_not_one_mailbox() {
        for bad in [
            "a@b.co,x@y.z",
            "a@b.co>x@y.z",
            "a@b@y.z",
            "a@b.co;x@y.z",
            "Jane <jane@example.com>",
            "<jane@example.com>",
            "jane@example.com (Jane)",
            "\"jane doe\"@example.com",
            "jane\\@x@example.com",
            "@relay.example:jane@example.com",
            "jane @example.com",
            "jane@example.com\r\nBcc: x@y.z",
            "jane\0@example.com",
            "",
        ] {
            assert_eq!(
                parse_mailbox(bad),
                Err(AddressProblem::NotOneMailbox),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bad_parts_are_named_for_what_they_are() {
        use AddressProblem::*;
        for (bad, why) in [
            ("jörg@bücher.example", NeedsSmtpUtf8),
            (".jane@example.com", LocalPart),
            ("ja..ne@example.com", LocalPart),
            ("jane.@example.com", LocalPart),
            ("jane[1]@example.com", LocalPart),
            (&format!("{}@example.com", "a".repeat(65)), LocalTooLong),
            ("jane@localhost", Domain),
            ("jane@example.", Domain),
            ("jane@.example.com", Domain),
            ("jane@exa_mple.com", Domain),
            ("jane@-example.com", Domain),
            ("jane@1.2.3.4", Domain),
            ("jane@[1.2.3]", Domain),
            ("jane@[IPv6:nope]", Domain),
            (
                &format!(
                    "aaaaaaaaaa@{}.{}.{}.{}.com",
                    "b".repeat(63),
                    "c".repeat(63),
                    "d".repeat(63),
                    "e".repeat(51)
                ),
                TooLong,
            ),
        ] {
            assert_eq!(parse_mailbox(bad), Err(why), "{bad:?}");
        }
        // 64 octets of local part and 254 in all are still fine.
        let local = "a".repeat(64);
        let ok = format!(
            "{local}@{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(57)
        );
        assert_eq!(ok.len(), 254);
        assert_eq!(parse_mailbox(&ok).as_deref(), Ok(ok.as_str()));
    }

    #[test]
    fn a_non_ascii_local_part_needs_a_pool_with_smtputf8() {
        assert!(needs_smtputf8(" jörg@bücher.example"));
        assert!(!needs_smtputf8("jorg@bücher.example"));
        assert_eq!(
            parse_mailbox_for("Jörg@Bücher.Example", true).as_deref(),
            Ok("jörg@xn--bcher-kva.example")
        );
        assert_eq!(
            parse_mailbox_for("jörg@bücher.example", false),
            Err(AddressProblem::NeedsSmtpUtf8)
        );
        // The other rules still hold: atoms, dots, 64 octets (ö is two).
        for (bad, why) in [
            ("jö..rg@example.com", AddressProblem::LocalPart),
            ("jö rg@example.com", AddressProblem::NotOneMailbox),
            (
                &format!("{}@example.com", "ö".repeat(33)),
                AddressProblem::LocalTooLong,
            ),
        ] {
            assert_eq!(parse_mailbox_for(bad, true), Err(why), "{bad:?}");
        }
        let at_limit = format!("{}@example.com", "ö".repeat(32));
        assert_eq!(
            parse_mailbox_for(&at_limit, true).as_deref(),
            Ok(at_limit.as_str())
        );
    }

    #[test]
    fn idn_domains_are_sent_as_a_labels_and_shown_in_unicode() {
        let sent = parse_mailbox("Jorg@Bücher.Example").expect("valid");
        assert_eq!(sent, "jorg@xn--bcher-kva.example");
        assert_eq!(display_email(&sent), "jorg@bücher.example");
        assert_eq!(display_email("jane@example.com"), "jane@example.com");
        assert_eq!(display_email("not an address"), "not an address");
        // An A-label already given is kept as it is.
        assert_eq!(
            parse_mailbox("jorg@xn--bcher-kva.example").as_deref(),
            Ok("jorg@xn--bcher-kva.example")
        );
    }
}
