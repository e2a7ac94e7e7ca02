//! What the recipient's domain says before anything is sent: a likely typo of
//! a big mailbox provider (`gmial.com` → `gmail.com`) and disposable-address
//! domains (from a list file the operator configures).

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};

/// Mailbox domains common enough that a near miss is almost surely a typo.
/// Real domains one edit away from another (mail.com, gmx.com) are listed so
/// they are never "corrected".
const BIG_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "mail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "proton.me",
    "protonmail.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "yandex.ru",
    "mail.ru",
];

/// One of the big mailbox domains (lower-case, no trailing dot): known to take
/// mail, so the MX check never asks DNS about them.
pub fn is_big_domain(domain: &str) -> bool {
    BIG_DOMAINS.contains(&domain)
}

/// The big-provider domain `domain` is probably a typo of, if any: one edit
/// (insert, delete, substitute or swap two neighbours) away from exactly one
/// of [`BIG_DOMAINS`] and not one of them itself.
pub fn typo_fix(domain: &str) -> Option<&'static str> {
    let domain = domain.trim().to_ascii_lowercase();
    if domain.len() < 5 || is_big_domain(&domain) {
        return None;
    }
    // One edit changes the length by at most one character: most names are
    // ruled out before the (quadratic) distance is computed. The optimal
    // string alignment distance counts a swap of neighbours as one edit, as
    // Damerau–Levenshtein does, and agrees with it at distance 1 without its
    // per-call hash map.
    let chars = domain.chars().count();
    let mut near = BIG_DOMAINS
        .iter()
        .filter(|big| big.len().abs_diff(chars) <= 1)
        .filter(|big| strsim::osa_distance(&domain, big) == 1);
    let first = near.next()?;
    // Two candidates: no confident suggestion.
    near.next().is_none().then_some(*first)
}

/// Disposable-address domains, one per line (`#` comments).
#[derive(Debug, Default, Clone)]
pub struct DisposableDomains(HashSet<String>);

impl DisposableDomains {
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("disposable domains {}: {e}", path.display())))?;
        Ok(Self::parse(&text))
    }

    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .map(|l| {
                    l.split('#')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .filter(|l| !l.is_empty())
                .collect(),
        )
    }

    /// The domain or any parent of it is listed.
    pub fn contains(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        let mut rest = domain.as_str();
        loop {
            if self.0.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_of_big_providers_are_typos() {
        assert_eq!(typo_fix("gmial.com"), Some("gmail.com"));
        assert_eq!(typo_fix("gmail.con"), Some("gmail.com"));
        assert_eq!(typo_fix("hotmial.com"), Some("hotmail.com"));
        assert_eq!(typo_fix("yaho.com"), Some("yahoo.com"));
        assert_eq!(typo_fix("OUTLOK.COM"), Some("outlook.com"));
    }

    #[test]
    fn real_domains_are_left_alone() {
        for d in [
            "gmail.com",
            "mail.com",
            "gmx.com",
            "example.com",
            "shop.de",
            "me.com",
        ] {
            assert_eq!(typo_fix(d), None, "{d}");
        }
    }

    #[test]
    fn disposable_domains_match_parents() {
        let list = DisposableDomains::parse("# list\nmailinator.com\n\nTempMail.org  # x\n");
        assert_eq!(list.len(), 2);
        assert!(list.contains("mailinator.com"));
        assert!(list.contains("eu.mailinator.com"));
        assert!(list.contains("tempmail.org"));
        assert!(!list.contains("gmail.com"));
        assert!(!list.contains("com"));
    }
}
