//! Small, allocation-light helpers for RFC 5322-style `Name: value` blocks (DSN fields,
//! feedback reports, returned headers) and e-mail addresses in free text.

/// Parses `Name: value` lines with folding (continuation lines start with white space).
/// Lines that are not fields are skipped; a blank line ends a field but not the scan (so a
/// DSN's per-recipient blocks come out in order). Returns `(name, value, block)` where `block`
/// counts blank-line separated groups.
pub(crate) fn parse_fields(text: &str) -> Vec<(String, String, usize)> {
    let mut out: Vec<(String, String, usize)> = Vec::new();
    let mut block = 0usize;
    let mut in_field = false;
    let mut saw_field_in_block = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            in_field = false;
            if saw_field_in_block {
                block += 1;
                saw_field_in_block = false;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if in_field && let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        match field_name(line) {
            Some((name, value)) => {
                out.push((name.to_string(), value.trim().to_string(), block));
                in_field = true;
                saw_field_in_block = true;
            }
            None => in_field = false,
        }
    }
    out
}

/// `"Final-Recipient: rfc822; a@b"` → `("Final-Recipient", " rfc822; a@b")`.
pub(crate) fn field_name(line: &str) -> Option<(&str, &str)> {
    let idx = line.find(':')?;
    let name = &line[..idx];
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    Some((name, &line[idx + 1..]))
}

/// Drops an `rfc822;` / `smtp;` address-type prefix and angle brackets.
pub(crate) fn strip_addr_type(v: &str) -> &str {
    let v = v.trim();
    let v = match v.find(';') {
        Some(i) if i <= 16 => v[i + 1..].trim(),
        _ => v,
    };
    v.trim_matches(|c| c == '<' || c == '>' || c == '"' || c == '\'' || c == ' ')
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

/// Every plausible e-mail address in `text`, with its byte offset. Local parts are ASCII
/// (addresses in bounce text are); domains need a dot.
pub(crate) fn find_addresses(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = memchr_at(b, i) {
        let at = rel;
        let mut s = at;
        while s > 0 && is_local_char(b[s - 1]) {
            s -= 1;
        }
        while s < at && b[s] == b'.' {
            s += 1;
        }
        let mut e = at + 1;
        if e < b.len() && b[e] == b'[' {
            // IP literal
            while e < b.len() && b[e] != b']' && e - at < 48 {
                e += 1;
            }
            if e < b.len() && b[e] == b']' {
                e += 1;
            }
        } else {
            while e < b.len() && is_domain_char(b[e]) {
                e += 1;
            }
            while e > at + 1 && (b[e - 1] == b'.' || b[e - 1] == b'-') {
                e -= 1;
            }
        }
        // Byte scanning can stop inside a multi-byte character (found by
        // fuzzing): only slices on character boundaries are used.
        if let (Some(domain), Some(address)) = (text.get(at + 1..e), text.get(s..e))
            && s < at
            && (domain.contains('.') || domain.starts_with('['))
            && domain.len() > 2
        {
            out.push((s, address));
        }
        i = e.max(at + 1);
    }
    out
}

fn memchr_at(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&c| c == b'@')
        .map(|p| p + from)
}

/// The first address in `text`.
pub(crate) fn first_address(text: &str) -> Option<String> {
    find_addresses(text).first().map(|(_, a)| a.to_string())
}

/// Local part is a mail system's own (mailer-daemon, postmaster, ...).
pub(crate) fn is_system_address(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("").to_ascii_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon"
            | "postmaster"
            | "mail-daemon"
            | "mailerdaemon"
            | "root"
            | "noreply"
            | "no-reply"
            | "abuse"
            | "bounce"
            | "bounces"
            | "fbl"
            | "fbl-reports"
    ) || local.starts_with("mailer-daemon")
}

/// The VERP token of a `bounce+<token>@domain` (or `bounces+`) address.
pub(crate) fn verp_token(addr: &str) -> Option<String> {
    let addr = strip_addr_type(addr);
    let (local, _) = addr.rsplit_once('@')?;
    let lower = local.to_ascii_lowercase();
    let token = if lower.starts_with("bounce+") {
        &local[7..]
    } else if lower.starts_with("bounces+") {
        &local[8..]
    } else {
        return None;
    };
    if token.is_empty() || token.len() > 256 {
        return None;
    }
    Some(token.to_string())
}

/// Header fields of a header block (stops at the first blank line).
pub(crate) fn header_pairs(t: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in t.lines() {
        if line.trim().is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = field_name(line) {
            out.push((n.to_string(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fold_and_block() {
        let f = parse_fields("A: 1\n  2\nB: x\n\nC: y\n\n\nD: z\n");
        assert_eq!(f.len(), 4);
        assert_eq!(f[0], ("A".into(), "1 2".into(), 0));
        assert_eq!(f[2].2, 1);
        assert_eq!(f[3].2, 2);
    }

    #[test]
    fn addresses() {
        let a =
            find_addresses("<a.b@x.example.jp>: said to c@d... and @ nothing x@y e@[192.0.2.1]");
        let v: Vec<&str> = a.iter().map(|x| x.1).collect();
        assert_eq!(v, vec!["a.b@x.example.jp", "e@[192.0.2.1]"]);
        assert!(
            find_addresses("@@@ @ a@ @b.c").is_empty()
                || find_addresses("@@@ @ a@ @b.c").len() <= 1
        );
    }

    #[test]
    fn verp() {
        assert_eq!(
            verp_token("<bounce+abc123@mail.example>").as_deref(),
            Some("abc123")
        );
        assert_eq!(
            verp_token("Bounces+t-1=x.y@example").as_deref(),
            Some("t-1=x.y")
        );
        assert_eq!(verp_token("bounce@example"), None);
        assert_eq!(verp_token("bounce+@example"), None);
    }
}
