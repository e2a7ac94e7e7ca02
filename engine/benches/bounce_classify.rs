//! `cargo bench --bench bounce_classify`: what a user waits for, cold and warm, on one thread,
//! over the Sisimai corpus (see tests/bounce_corpus.rs for where the corpus is looked up).
//!
//! - cold: a fresh rule set (TOML read, rules indexed) and its first message, as
//!   `rebound bounce classify one.eml` does it; the regex sets of the stages that message
//!   reaches are compiled then. Reported as the median and worst over every corpus message
//!   taken as the first one.
//! - warm: messages per second once every stage's regexes are built.
//!
//! Prints a table; no external bench harness.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use engine::bounce::{BUILTIN_RULES, Classifier, parse_message};

fn corpus_dir() -> Option<PathBuf> {
    let mut c = Vec::new();
    if let Ok(d) = std::env::var("REBOUND_CORPUS_DIR") {
        c.push(PathBuf::from(d));
    }
    c.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/sisimai"
    )));
    c.push(PathBuf::from("/work/shared/corpus/sisimai"));
    c.into_iter().find(|p| p.join("emails").is_dir())
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
        println!("SKIPPED: corpus not found (set REBOUND_CORPUS_DIR)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("emails"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let msgs: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();

    let t = Instant::now();
    let classifier = Classifier::builtin();
    let build = t.elapsed();

    // Every stage's regexes compiled up front (what a rule file loaded from a path costs).
    let t = Instant::now();
    let eager = Classifier::from_toml_str(BUILTIN_RULES).map(|c| c.rules().count());
    let eager_build = t.elapsed();

    // Cold: a new classifier per message, each message once as the first one.
    let mut cold: Vec<Duration> = msgs
        .iter()
        .map(|m| {
            let t = Instant::now();
            let c = Classifier::builtin();
            std::hint::black_box(c.classify_message(m).map(|v| v.len()).unwrap_or(0));
            t.elapsed()
        })
        .collect();
    cold.sort();
    let cold_median = cold.get(cold.len() / 2).copied().unwrap_or_default();
    let cold_worst = cold.last().copied().unwrap_or_default();

    // Warm-up.
    run(&msgs, Duration::from_millis(300), |m| {
        classifier.classify_message(m).map(|v| v.len()).unwrap_or(0)
    });
    let min = Duration::from_secs(2);
    let (n_parse, d_parse) = run(&msgs, min, |m| {
        parse_message(m).map(|r| r.recipients.len()).unwrap_or(0)
    });
    let (n_full, d_full) = run(&msgs, min, |m| {
        classifier.classify_message(m).map(|v| v.len()).unwrap_or(0)
    });

    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!();
    println!(
        "bounce_classify — {} messages, {:.1} KiB total, 1 thread",
        msgs.len(),
        bytes as f64 / 1024.0
    );
    println!(
        "rule set build (regexes left for first use): {:.2} ms ({} rules)",
        build.as_secs_f64() * 1e3,
        classifier.rules().count()
    );
    println!(
        "rule set with every regex compiled: {:.2} ms ({:?} rules)",
        eager_build.as_secs_f64() * 1e3,
        eager.ok()
    );
    println!(
        "cold (rule set + first message): median {:.1} ms, worst {:.1} ms (target < 50 ms: {})",
        cold_median.as_secs_f64() * 1e3,
        cold_worst.as_secs_f64() * 1e3,
        if cold_worst < Duration::from_millis(50) {
            "MET"
        } else {
            "NOT MET"
        }
    );
    println!(
        "{:<28} {:>12} {:>14} {:>12}",
        "stage", "messages", "msgs/s", "µs/msg"
    );
    for (name, n, d) in [
        ("parse_message", n_parse, d_parse),
        ("classify_message (warm)", n_full, d_full),
    ] {
        println!(
            "{:<28} {:>12} {:>14.0} {:>12.2}",
            name,
            n,
            rate(n, d),
            d.as_secs_f64() * 1e6 / n.max(1) as f64
        );
    }
    let r = rate(n_full, d_full);
    println!(
        "\ntarget ≥ 20000 msgs/s: {}",
        if r >= 20000.0 { "MET" } else { "NOT MET" }
    );
}
