//! Measures the bounce classifier against the Sisimai corpus (`shared/corpus/sisimai`):
//! 403 real bounce/feedback/auto-reply messages with Sisimai's expected reason and hard-bounce
//! flag per recipient.
//!
//! The corpus is read in place from `$REBOUND_SISIMAI_CORPUS`, else from
//! `../shared/corpus/sisimai` beside the repository (from `CARGO_MANIFEST_DIR`). When absent
//! the test prints a loud SKIPPED line and passes.
//!
//! Recipients are matched to labels by their 1-based index in the message.
//!
//! Equivalences accepted when comparing reasons (documented, general, never per file):
//! - `ratelimited` ≡ `speeding`: Sisimai folds rate limiting into `speeding` in older
//!   versions; both mean "we send too fast" and share the class `sender_reputation`.
//! - `emailtoolarge` ≡ `mesgtoobig` (Sisimai ≥ 5.2 renamed it); handled by `Reason::from_str`.
//!
//! Bars: 100 % parsed without panic; hard-bounce agreement ≥ 98 %; reason agreement ≥ 92 %.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use engine::bounce::{Classifier, Reason};

/// The Sisimai corpus: `$REBOUND_SISIMAI_CORPUS`, else `../shared/corpus/sisimai` beside the
/// repository (computed from this crate's manifest directory). `None` when neither holds it.
fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("REBOUND_SISIMAI_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sisimai"),
    };
    (dir.join("labels.tsv").is_file() && dir.join("emails").is_dir()).then_some(dir)
}

struct Label {
    index: usize,
    reason: String,
    hard: bool,
}

fn equivalent(expected: &str, got: Reason) -> bool {
    let got = got.as_str();
    if expected == got {
        return true;
    }
    matches!(
        (expected, got),
        ("speeding", "ratelimited") | ("ratelimited", "speeding")
    ) || expected.parse::<Reason>().is_ok_and(|r| r.as_str() == got)
}

fn load_labels(dir: &Path) -> BTreeMap<String, Vec<Label>> {
    let text = std::fs::read_to_string(dir.join("labels.tsv")).unwrap_or_default();
    let mut out: BTreeMap<String, Vec<Label>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 6 {
            continue;
        }
        let Ok(index) = cols[1].parse::<usize>() else {
            continue;
        };
        out.entry(cols[0].to_string()).or_default().push(Label {
            index,
            reason: cols[4].to_string(),
            hard: cols[5] == "true",
        });
    }
    out
}

#[test]
fn sisimai_corpus_agreement() {
    let Some(dir) = corpus_dir() else {
        println!(
            "\n**********\nSKIPPED: Sisimai corpus not found at ../shared/corpus/sisimai \
             (set REBOUND_SISIMAI_CORPUS)\n**********\n"
        );
        return;
    };
    let labels = load_labels(&dir);
    assert!(
        !labels.is_empty(),
        "labels.tsv is empty at {}",
        dir.display()
    );
    let classifier = Classifier::builtin();
    assert!(
        classifier.rules().count() > 0,
        "builtin rules failed to load"
    );
    let verbose = std::env::var("BOUNCE_CORPUS_VERBOSE").is_ok();

    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("emails"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();

    let (mut messages, mut parsed_ok, mut panics) = (0usize, 0usize, 0usize);
    let mut errors: Vec<String> = Vec::new();
    let (mut total, mut reason_ok, mut hard_ok, mut missing) = (0usize, 0usize, 0usize, 0usize);
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    let mut hard_misses: Vec<String> = Vec::new();

    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(raw) = std::fs::read(path) else {
            errors.push(format!("{name}: unreadable"));
            continue;
        };
        messages += 1;
        let result = std::panic::catch_unwind(|| classifier.classify_message(&raw));
        let verdicts = match result {
            Err(_) => {
                panics += 1;
                errors.push(format!("{name}: PANIC"));
                Vec::new()
            }
            Ok(Err(e)) => {
                errors.push(format!("{name}: {e}"));
                Vec::new()
            }
            Ok(Ok(v)) => {
                parsed_ok += 1;
                v
            }
        };
        for label in labels.get(&name).map(Vec::as_slice).unwrap_or(&[]) {
            total += 1;
            let Some(v) = verdicts.get(label.index - 1) else {
                missing += 1;
                *confusion
                    .entry((label.reason.clone(), "<missing>".into()))
                    .or_default() += 1;
                misses.push(format!(
                    "{name}#{}: expected {} got <missing>",
                    label.index, label.reason
                ));
                if !label.hard {
                    // A missing recipient is not suppressed: agreement when Sisimai says soft.
                    hard_ok += 1;
                }
                continue;
            };
            let got = v.verdict.reason;
            *confusion
                .entry((label.reason.clone(), got.as_str().to_string()))
                .or_default() += 1;
            if equivalent(&label.reason, got) {
                reason_ok += 1;
            } else {
                misses.push(format!(
                    "{name}#{}: expected {} got {} (rule {}, status {:?}, code {:?}, text {:?})",
                    label.index,
                    label.reason,
                    got,
                    v.verdict.rule_id,
                    v.reply.enhanced,
                    v.reply.code,
                    v.reply
                        .text
                        .chars()
                        .take(if verbose { 600 } else { 160 })
                        .collect::<String>()
                ));
            }
            if v.hard_bounce == label.hard {
                hard_ok += 1;
            } else {
                hard_misses.push(format!(
                    "{name}#{}: expected hard={} got hard={} ({} via {})",
                    label.index, label.hard, v.hard_bounce, got, v.verdict.rule_id
                ));
            }
        }
    }

    // Confusion table: rows expected, columns got (only non-empty columns).
    let expected_set: BTreeSet<&String> = confusion.keys().map(|(e, _)| e).collect();
    println!("\nConfusion (expected → got: count), * marks disagreement:");
    for e in expected_set {
        let row: Vec<String> = confusion
            .iter()
            .filter(|((ex, _), _)| ex == e)
            .map(|((_, g), n)| {
                let ok = g.parse::<Reason>().is_ok_and(|r| equivalent(e, r));
                format!("{}{g}:{n}", if ok { "" } else { "*" })
            })
            .collect();
        let n: usize = confusion
            .iter()
            .filter(|((ex, _), _)| ex == e)
            .map(|(_, n)| n)
            .sum();
        println!("  {e:<16} ({n:>3}) → {}", row.join(", "));
    }
    if !misses.is_empty() {
        println!("\nDisagreements ({}):", misses.len());
        for m in &misses {
            println!("  {m}");
        }
    }
    if !hard_misses.is_empty() {
        println!("\nHard-bounce disagreements ({}):", hard_misses.len());
        for m in &hard_misses {
            println!("  {m}");
        }
    }
    if !errors.is_empty() {
        println!("\nParse errors ({}):", errors.len());
        for e in &errors {
            println!("  {e}");
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "\nmessages: {messages}, parsed: {parsed_ok} ({:.1} %), panics: {panics}",
        pct(parsed_ok, messages)
    );
    println!("labelled recipients: {total}, missing recipients: {missing}");
    println!(
        "reason agreement:     {reason_ok}/{total} = {:.1} %",
        pct(reason_ok, total)
    );
    println!(
        "hard-bounce agreement: {hard_ok}/{total} = {:.1} %\n",
        pct(hard_ok, total)
    );

    assert_eq!(panics, 0, "panics while parsing");
    assert_eq!(parsed_ok, messages, "every message must parse: {errors:?}");
    assert!(
        pct(hard_ok, total) >= 98.0,
        "hard-bounce agreement below 98 %"
    );
    assert!(pct(reason_ok, total) >= 92.0, "reason agreement below 92 %");
}
