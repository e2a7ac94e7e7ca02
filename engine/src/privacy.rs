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
    fn masks_phones() {
        assert_eq!(mask_phone("+4915112345678"), "+49********678");
        assert_eq!(mask_phone("12345"), "***");
    }
}
