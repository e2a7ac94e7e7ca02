//! `cargo bench --bench bounce_classify`: what a user waits for, cold and warm, on one thread,
//! over the Sisimai corpus (see tests/bounce_corpus.rs for where the corpus is looked up).
//!
//! - first: the process's very first rule set and message (nothing built yet: the rule set,
//!   the prefilter, the regexes that message reaches and the parser's own statics), as
//!   `rebound bounce classify one.eml` does it after start-up;
//! - cold: a fresh rule set and one message, each corpus message taken as the first one
//!   (median and worst; the parser's statics are warm by then);
//! - one pass: a fresh rule set and every corpus message once, in one thread: what
//!   `rebound bounce classify *.eml` does after start-up (issue 29's target, ≥ 7.5 k msg/s,
//!   counts process start-up too);
//! - warm: messages per second once everything a message can reach is built.
//!
//! Prints a table; no external bench harness.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engine::bounce::{BUILTIN_RULES, Classifier, parse_message};

/// The Sisimai corpus: `$REBOUND_SISIMAI_CORPUS`, else `../shared/corpus/sisimai` beside the
/// repository (computed from this crate's manifest directory). `None` when neither holds it.
fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("REBOUND_SISIMAI_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sisimai"),
    };
    (dir.join("labels.tsv").is_file() && dir.join("emails").is_dir()).then_some(dir)
}

fn run<F: FnMut(&[u8]) -> usize>(msgs: &[Vec<u8>], min: Duration, mut f: F) -> (usize, Duration) {
    let start = Instant::now();
    let mut n = 0usize;
    let mut sink = 0usize;
    while start.elapsed() < min {
        for m in msgs {
            sink = sink.wrapping_add(f(m));
            n += 1;
        }
    }
    std::hint::black_box(sink);
    (n, start.elapsed())
}

fn main() {
    let Some(dir) = corpus_dir() else {
        println!("SKIPPED: Sisimai corpus not found (set REBOUND_SISIMAI_CORPUS)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("emails"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let msgs: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let classify = |c: &Classifier, m: &[u8]| c.classify_message(m).map(|v| v.len()).unwrap_or(0);
    // TEMP-PROFILE
    if let Ok(only) = std::env::var("BOUNCE_BENCH_ONLY") {
        let c = Classifier::builtin();
        let secs = Duration::from_secs(5);
        let (n, d) = match only.as_str() {
            "parse" => run(&msgs, secs, |m| {
                parse_message(m).map(|r| r.recipients.len()).unwrap_or(0)
            }),
            "classify" => run(&msgs, secs, |m| classify(&c, m)),
            "build" => run(&msgs[..1], secs, |_| Classifier::builtin().rules().count()),
            _ => run(&msgs[..1], secs, |m| {
                let c = Classifier::builtin();
                msgs.iter().map(|m| classify(&c, m)).sum::<usize>() + m.len()
            }),
        };
        println!("{only}: {n} in {d:?}");
        return;
    }

    // First: nothing in this process has been built yet.
    let t = Instant::now();
    let first_classifier = Classifier::builtin();
    let build = t.elapsed();
    std::hint::black_box(msgs.first().map(|m| classify(&first_classifier, m)));
    let first = t.elapsed();

    // One pass: a fresh rule set, every message once.
    let t = Instant::now();
    let pass_classifier = Classifier::builtin();
    let recipients: usize = msgs.iter().map(|m| classify(&pass_classifier, m)).sum();
    let pass = t.elapsed();
    std::hint::black_box(recipients);

    // Every regex compiled up front (what a rule file loaded from a path costs).
    let t = Instant::now();
    let eager = Classifier::from_toml_str(BUILTIN_RULES).map(|c| c.rules().count());
    let eager_build = t.elapsed();

    // Cold: a new rule set per message, each message once as the first one.
    let mut cold: Vec<Duration> = msgs
        .iter()
        .map(|m| {
            let t = Instant::now();
            let c = Classifier::builtin();
            std::hint::black_box(classify(&c, m));
            t.elapsed()
        })
        .collect();
    cold.sort();
    let cold_median = cold.get(cold.len() / 2).copied().unwrap_or_default();
    let cold_worst = cold.last().copied().unwrap_or_default();

    // Warm: every message seen, then measured for at least 2 s.
    let classifier = pass_classifier;
    run(&msgs, Duration::from_millis(300), |m| {
        classify(&classifier, m)
    });
    let min = Duration::from_secs(2);
    let (n_parse, d_parse) = run(&msgs, min, |m| {
        parse_message(m).map(|r| r.recipients.len()).unwrap_or(0)
    });
    let (n_full, d_full) = run(&msgs, min, |m| classify(&classifier, m));

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    let met = |ok: bool| if ok { "MET" } else { "NOT MET" };
    println!();
    println!(
        "bounce_classify — {} messages, {:.1} KiB total, 1 thread",
        msgs.len(),
        bytes as f64 / 1024.0
    );
    println!(
        "rule set build (rules read, prefilter built, regexes left for first use): {:.2} ms ({} rules)",
        ms(build),
        classifier.rules().count()
    );
    println!(
        "rule set with every regex compiled: {:.2} ms ({:?} rules)",
        ms(eager_build),
        eager.ok()
    );
    println!(
        "first (first rule set + first message in this process): {:.2} ms (target < 50 ms: {})",
        ms(first),
        met(first < Duration::from_millis(50))
    );
    println!(
        "cold (fresh rule set + one message): median {:.2} ms, worst {:.2} ms",
        ms(cold_median),
        ms(cold_worst)
    );
    let pass_rate = rate(msgs.len(), pass);
    println!(
        "one pass (fresh rule set + all {} messages once): {:.1} ms = {:.0} msgs/s \
         (target ≥ 7500 msgs/s with start-up: {})",
        msgs.len(),
        ms(pass),
        pass_rate,
        met(pass_rate >= 7500.0)
    );
    println!(
        "{:<28} {:>12} {:>14} {:>12}",
        "warm", "messages", "msgs/s", "µs/msg"
    );
    for (name, n, d) in [
        ("parse_message", n_parse, d_parse),
        ("classify_message", n_full, d_full),
    ] {
        println!(
            "{:<28} {:>12} {:>14.0} {:>12.2}",
            name,
            n,
            rate(n, d),
            d.as_secs_f64() * 1e6 / n.max(1) as f64
        );
    }
}
