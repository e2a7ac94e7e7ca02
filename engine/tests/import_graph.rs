//! The engine's top-level modules form layers (ARCHITECTURE.md, "Layers"): a
//! module may use modules of its own layer or of a layer below, never one above,
//! and no group of modules may use one another in a circle.
//!
//! Read from the source: every `crate::<module>` path outside comments, strings
//! and `#[cfg(test)]` items (grouped `use crate::{a::X, b::Y}` included). Test
//! code may reach anywhere, so it is left out. `KNOWN` lists the upward uses
//! still to be removed; the test fails on any other one, and on a `KNOWN` entry
//! that is gone (so the list only shrinks).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. Within a layer, uses go either way as long as they make no circle.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "error", "clock", "secrets", "privacy", "provider", "db", "money",
        ],
    ),
    ("rules", &["bounce", "risk", "i18n"]),
    ("settings", &["config"]),
    (
        "records",
        &[
            "metrics",
            "audit",
            "ratelimit",
            "apikeys",
            "accounts",
            "suppression",
            "erasure",
            "soft_bounces",
            "reach",
            "orders",
            "receipt",
            "links",
            "sms",
            "shop_webhooks",
        ],
    ),
    ("delivery", &["delivery"]),
    ("reactions", &["bounces", "fallback", "pool_file", "stats"]),
    ("runners", &["periodic", "retention", "demo", "testing"]),
];

/// Uses not yet removed (upward, or closing a circle): (from, to, what removes it).
const KNOWN: &[(&str, &str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// The character `k` places after `i`, if any.
fn at(c: &[char], i: usize, k: usize) -> Option<char> {
    c.get(i + k).copied()
}

/// The source with comments, string and char literals blanked (so braces
/// inside them cannot mislead the item matching below).
fn blank_literals(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && at(&c, i, 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(&c, i, 1) == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(&c, i, 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(&c, i, 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (at(&c, i, 1) == Some('"') || (at(&c, i, 1) == Some('#') && at(&c, i, 2).is_some()))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
            && {
                let mut k = 1;
                while at(&c, i, k) == Some('#') {
                    k += 1;
                }
                at(&c, i, k) == Some('"')
            }
        {
            let mut hashes = 0;
            i += 1;
            while c[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                if c[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if c.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' && at(&c, i, 1) == Some('\\') {
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c[i] == '\'' && at(&c, i, 2) == Some('\'') {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Removes every `#[cfg(test)]` item; returns the text left and the names of
/// `#[cfg(test)] mod name;` files (test-only files).
fn strip_test_items(src: &str) -> (String, Vec<String>) {
    const ATTR: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut test_mods = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find(ATTR) {
        out.push_str(&rest[..at]);
        let after = &rest[at + ATTR.len()..];
        let brace = after.find('{');
        let semi = after.find(';');
        match (brace, semi) {
            (_, Some(s)) if brace.is_none_or(|b| s < b) => {
                let item = after[..s].trim();
                if let Some(name) = item.strip_prefix("mod ") {
                    test_mods.push(name.trim().to_string());
                }
                rest = &after[s + 1..];
            }
            (Some(b), _) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (k, ch) in after[b..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            _ => rest = "",
        }
    }
    out.push_str(rest);
    (out, test_mods)
}

/// The top-level modules a (literal-blanked, test-stripped) source names.
fn used_modules(src: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in src.match_indices("crate::") {
        if at > 0 {
            let prev = src[..at].chars().next_back();
            if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `$crate::`
            }
        }
        let after = &src[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `crate::{a::X, b::{Y, Z}}`: the names at depth one.
            let mut depth = 1;
            let mut start = true;
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => start = true,
                    c if start && depth == 1 && !c.is_whitespace() => {
                        used.insert(ident(&group[k..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            used.insert(ident(after));
        }
    }
    used
}

/// Items at the crate root that are not modules: macros (`#[macro_export]`
/// puts them there) and re-exports, mapped to the module that defines them.
fn root_item(name: &str) -> &str {
    match name {
        "on_pool" | "exec_on_pool" => "db",
        "Error" | "Result" => "error",
        "Config" => "config",
        "Db" => "db",
        "Clock" | "ManualClock" | "SystemClock" => "clock",
        other => other,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read engine/src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// module -> module it uses -> files that use it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut texts = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src").to_path_buf();
        let text = std::fs::read_to_string(f).expect("read source");
        let (code, test_mods) = strip_test_items(&blank_literals(&text));
        let dir = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = match rel.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs") => dir,
            _ => dir.join(rel.file_stem().expect("stem")),
        };
        for m in test_mods {
            test_only.insert(dir.join(format!("{m}.rs")));
            test_only.insert(dir.join(&m).join("mod.rs"));
        }
        texts.insert(rel, code);
    }
    let mut g = Graph::new();
    for (rel, code) in &texts {
        if rel == Path::new("lib.rs") || rel.ancestors().any(|a| test_only.contains(a)) {
            continue;
        }
        let from = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("path")
            .trim_end_matches(".rs")
            .to_string();
        for to in used_modules(code) {
            let to = root_item(&to).to_string();
            if to != from && !to.is_empty() {
                g.entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    g
}

/// The groups of modules that use one another in a circle (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct S<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut S<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.g.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.out.push(group);
            }
        }
    }
    let mut s = S {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn every_module_has_a_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("read lib.rs");
    let missing: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';'))
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules with no layer in tests/import_graph.rs (and ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let g = graph();
    let mut upward = Vec::new();
    for (from, tos) in &g {
        for (to, files) in tos {
            let (Some(lf), Some(lt)) = (layer_of(from), layer_of(to)) else {
                continue;
            };
            if lt > lf && !KNOWN.iter().any(|(f, t, _)| f == from && t == to) {
                upward.push(format!(
                    "{from} ({}) uses {to} ({}) in {files:?}",
                    LAYERS[lf].0, LAYERS[lt].0
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "uses of a layer above:\n{}",
        upward.join("\n")
    );
    let gone: Vec<_> = KNOWN
        .iter()
        .filter(|(f, t, _)| !g.get(*f).is_some_and(|tos| tos.contains_key(*t)))
        .collect();
    assert!(
        gone.is_empty(),
        "KNOWN entries no longer in the code, remove them: {gone:?}"
    );
}

#[test]
fn no_circles_between_modules() {
    let g = graph();
    let edges: BTreeMap<String, BTreeSet<String>> = g
        .iter()
        .map(|(from, tos)| {
            let kept = tos
                .keys()
                .filter(|to| !KNOWN.iter().any(|(f, t, _)| f == from && t == *to))
                .cloned()
                .collect();
            (from.clone(), kept)
        })
        .collect();
    let found = circles(&edges);
    let detail: Vec<String> = found
        .iter()
        .map(|group| {
            let uses: Vec<String> = group
                .iter()
                .flat_map(|a| {
                    let tos = g.get(a);
                    group.iter().filter_map(move |b| {
                        tos.and_then(|tos| tos.get(b))
                            .map(|files| format!("{a} -> {b} {files:?}"))
                    })
                })
                .collect();
            format!("{group:?}:\n  {}", uses.join("\n  "))
        })
        .collect();
    assert!(
        found.is_empty(),
        "modules in a circle:\n{}",
        detail.join("\n")
    );
}

#[test]
fn the_reader_sees_grouped_uses_and_skips_tests_and_literals() {
    let src = "use crate::{a::X, b::{Y, Z}};\n// crate::c\nlet s = \"crate::d\";\n\
               fn f() { crate::e::go(); }\n#[cfg(test)]\nmod tests { use crate::f; fn g() { '{'; } }\n\
               #[cfg(test)]\nmod more;\nuse crate::h;";
    let (code, test_mods) = strip_test_items(&blank_literals(src));
    let used: Vec<String> = used_modules(&code).into_iter().collect();
    assert_eq!(used, ["a", "b", "e", "h"]);
    assert_eq!(test_mods, ["more"]);
}
