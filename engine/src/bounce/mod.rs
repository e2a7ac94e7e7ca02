//! Bounce classification: parse bounce messages (RFC 3464 DSNs and the non-standard formats
//! real MTAs send, RFC 5965 feedback reports, RFC 3834 auto-replies), recognise the MTA family
//! that wrote them ([`Mta`]) and what its format says per recipient, and classify each
//! recipient's failure into a Sisimai-compatible [`Reason`] and an actionable [`BounceClass`].
//!
//! ```no_run
//! # fn demo(raw: &[u8]) -> Result<(), engine::bounce::ParseError> {
//! use engine::bounce::{BounceClass, Classifier};
//! let classifier = Classifier::builtin(); // build once, share
//! for v in classifier.classify_message(raw)? {
//!     if v.hard_bounce { /* suppress v.recipient */ }
//!     if v.verdict.class == BounceClass::SenderReputation { /* retry via another pool */ }
//! }
//! # Ok(()) }
//! ```
//!
//! The rules are data: `engine/rules/bounce_rules.toml` (embedded; a file can be loaded at
//! runtime with [`Classifier::from_path`]). This module is self-contained: it only refers to
//! its own items.
//!
//! ESP event webhooks (Amazon SES via SNS, SendGrid, Postmark, Mailgun) are verified and
//! normalised in [`esp`], and classified into the same [`RecipientVerdict`] as a DSN.

mod arf;
mod autoreply;
mod classify;
mod decode;
pub mod esp;
mod headers;
mod literals;
mod parse;
mod reason;
mod reply;
mod report;
mod rule_spec;
mod rules;
mod text;

#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod fixture_tests;

pub use classify::{RecipientVerdict, reply_for};
pub use decode::Mta;
pub use parse::{MAX_MESSAGE_SIZE, ParseError, parse_message};
pub use reason::{BounceClass, Reason, UnknownReason};
pub use reply::SmtpReply;
pub use report::{RecipientReport, Report, ReportKind};
pub use rules::{BUILTIN_RULES, Classifier, Context, RuleSpec, RulesError, Stage, Verdict};
