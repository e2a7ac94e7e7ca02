//! Masking of personal data for logs and for roles that must not see it.

/// `jane.doe@example.com` → `j***@example.com`. Never logs a full address.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// Every address-looking word in free text (an SMTP reply, say) masked with
/// [`mask_email`], so the text can be logged or audited.
pub fn mask_emails_in(text: &str) -> String {
    static ADDRESS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+").expect("static pattern")
    });
    ADDRESS
        .replace_all(text, |c: &regex::Captures<'_>| mask_email(&c[0]))
        .into_owned()
}

/// `+4915112345678` → `+49*******678`: country prefix and last three digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "***".to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email("not-an-email"), "***");
        assert_eq!(mask_email("é@x.org"), "é***@x.org");
    }

    #[test]
    fn masks_addresses_inside_text() {
        assert_eq!(
            mask_emails_in("550 5.1.1 <jane.doe@gmail.com>: no such user (bob@x.org too)"),
            "550 5.1.1 <j***@gmail.com>: no such user (b***@x.org too)"
        );
        assert_eq!(mask_emails_in("421 4.7.28 rate"), "421 4.7.28 rate");
    }

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("+4915112345678"), "+49********678");
        assert_eq!(mask_phone("12345"), "***");
    }
}
