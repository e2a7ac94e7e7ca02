//! RFC 3834 automatic responses (vacation / out-of-office replies).

use mail_parser::Message;

/// Subject prefixes/phrases of auto-replies, lowercase.
const SUBJECTS: [&str; 14] = [
    "auto:",
    "automatic reply",
    "autoreply",
    "auto-reply",
    "auto reply",
    "out of office",
    "out of the office",
    "vacation",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "reponse automatique",
    "absence",
    "respuesta automática",
];

/// Whether the message is an automatic reply per its headers (`Auto-Submitted: auto-replied`,
/// `X-Autoreply`, `X-Autorespond`, `Precedence: auto_reply`, Microsoft's
/// `X-MS-Exchange-Inbox-Rules-Loop` with an auto-reply subject) or a vacation subject.
pub(crate) fn is_auto_reply(msg: &Message<'_>, subject: Option<&str>) -> bool {
    let h = |n: &str| msg.header_raw(n).map(|v| v.trim().to_ascii_lowercase());
    if h("Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied")) {
        return true;
    }
    if h("X-Autoreply").is_some() || h("X-Autorespond").is_some() || h("X-Autoresponse").is_some() {
        return true;
    }
    if h("Precedence").is_some_and(|v| v == "auto_reply") {
        return true;
    }
    let s = subject.unwrap_or("").trim().to_ascii_lowercase();
    SUBJECTS.iter().any(|p| s.starts_with(p) || s.contains(p))
}
