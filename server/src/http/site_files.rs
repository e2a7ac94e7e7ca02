//! The browser app's files under the site root, as the build left them.
//!
//! `cargo leptos build` (with `hash-files`) names the WASM, its JS glue and
//! the stylesheet after their content and writes the names into a hash file
//! beside the binary; pages must link those names, so the server checks at
//! start that the two agree and fails with a clear error when they do not,
//! instead of serving pages whose scripts and styles are missing.
//!
//! Which files may be cached for a year is decided by looking, not by
//! trusting the names: the build rewrites some files after naming them (the
//! JS glue gets the WASM's new name, the WASM the split loader's), so only a
//! file whose name carries the MD5 of its own bytes is content-addressed.

use anyhow::bail;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leptos::config::LeptosOptions;
use md5::{Digest, Md5};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Where Leptos reads the hash file: `LEPTOS_HASH_FILE_NAME` (default
/// `hash.txt`) beside the running binary, or that path when it is absolute.
fn hash_file(options: &LeptosOptions) -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    beside.join(options.hash_file.as_ref())
}

/// The directory the pages load `/pkg/…` from.
pub fn pkg_dir(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

/// Turns hashed names on when the build wrote a hash file, after checking
/// that every file it names is in the site; an error names what is missing.
/// A site built without hashing is served under the plain names, and with no
/// site at all (not built yet, or a process that serves no pages) the pages
/// go out without the app: they work without JavaScript.
pub fn use_build_names(options: &mut LeptosOptions) -> anyhow::Result<()> {
    let hashes_at = hash_file(options);
    let pkg = pkg_dir(options);
    if !pkg.is_dir() {
        options.hash_files = false;
        tracing::warn!(
            site = %pkg.display(),
            "no browser app here: pages are served without it (set LEPTOS_SITE_ROOT)"
        );
        return Ok(());
    }
    let Ok(hashes) = std::fs::read_to_string(&hashes_at) else {
        options.hash_files = false;
        let plain = pkg.join(format!("{}.js", options.output_name));
        if !plain.exists() && has_hashed_names(&pkg, &options.output_name) {
            bail!(
                "the browser app in {} has hashed file names but there is no hash file at {}: \
                 copy the build's hash.txt there or point LEPTOS_HASH_FILE_NAME at it",
                pkg.display(),
                hashes_at.display()
            );
        }
        return Ok(());
    };
    for name in named_files(&hashes, &options.output_name) {
        if !pkg.join(&name).is_file() {
            bail!(
                "{} names {name}, which is not in {}: the hash file and the site come from \
                 different builds (build again with `make build` or `make release`)",
                hashes_at.display(),
                pkg.display()
            );
        }
    }
    options.hash_files = true;
    Ok(())
}

/// The files a hash file names, as Leptos builds the names from it.
fn named_files(hashes: &str, output_name: &str) -> Vec<String> {
    hashes
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter_map(|(kind, hash)| {
            let hash = hash.trim();
            match kind.trim() {
                ext @ ("js" | "wasm" | "css") => Some(format!("{output_name}.{hash}.{ext}")),
                "manifest" => Some(format!("__wasm_split_manifest.{hash}.json")),
                "split" => Some(format!("__wasm_split.{hash}.js")),
                _ => None,
            }
        })
        .collect()
}

fn has_hashed_names(pkg: &Path, output_name: &str) -> bool {
    let prefix = format!("{output_name}.");
    std::fs::read_dir(pkg)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with(&prefix) && name.ends_with(".js")
        })
}

/// The names (relative to the pkg directory, `/`-separated) of the files
/// whose name carries the MD5 of their bytes, base64url as the build writes
/// it: those can never change under the same name.
pub fn content_addressed(pkg: &Path) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(pkg.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            let rel = rel.join(entry.file_name());
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(rel);
            } else if kind.is_file()
                && let Ok(bytes) = std::fs::read(entry.path())
                && names_its_content(&entry.file_name().to_string_lossy(), &bytes)
            {
                found.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

/// True when one of the name's dot-separated parts is the bytes' MD5.
fn names_its_content(name: &str, bytes: &[u8]) -> bool {
    let digest = URL_SAFE_NO_PAD.encode(Md5::digest(bytes));
    name.split('.').any(|part| part == digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_content_addressed_only_with_its_own_digest() {
        let bytes = b"body { color: black }";
        let digest = URL_SAFE_NO_PAD.encode(Md5::digest(bytes));
        assert!(names_its_content(&format!("rebound.{digest}.css"), bytes));
        assert!(names_its_content(&format!("{digest}.wasm"), bytes));
        assert!(!names_its_content(
            &format!("rebound.{digest}.css"),
            b"changed"
        ));
        assert!(!names_its_content("rebound.css", bytes));
    }

    #[test]
    fn the_hash_file_names_what_pages_link() {
        let hashes = "js: AAA\nwasm: BBB\ncss: CCC\nmanifest: DDD\nsplit: EEE\n";
        assert_eq!(
            named_files(hashes, "rebound"),
            [
                "rebound.AAA.js",
                "rebound.BBB.wasm",
                "rebound.CCC.css",
                "__wasm_split_manifest.DDD.json",
                "__wasm_split.EEE.js"
            ]
        );
    }

    /// Options for a site at `root` with its hash file at `hashes` (absolute).
    fn options(root: &Path, hashes: &Path) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("rebound")
            .site_root(root.to_string_lossy().into_owned())
            .hash_file(std::sync::Arc::<str>::from(
                hashes.to_string_lossy().as_ref(),
            ))
            .build()
    }

    #[test]
    fn start_checks_the_hash_file_against_the_site() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hashes = dir.path().join("hash.txt");
        // No site at all: served without the app, not refused.
        let mut none = options(&dir.path().join("nowhere"), &hashes);
        assert!(use_build_names(&mut none).is_ok() && !none.hash_files);

        let pkg = dir.path().join("site/pkg");
        std::fs::create_dir_all(&pkg).expect("mkdir");
        for f in ["rebound.AAA.js", "rebound.BBB.wasm", "rebound.CCC.css"] {
            std::fs::write(pkg.join(f), f).expect("write");
        }
        let mut site = options(&dir.path().join("site"), &hashes);
        let refused = use_build_names(&mut site).expect_err("hashed files, no hash file");
        assert!(
            format!("{refused:#}").contains("no hash file"),
            "{refused:#}"
        );

        std::fs::write(&hashes, "js: AAA\nwasm: BBB\ncss: CCC\n").expect("write");
        use_build_names(&mut site).expect("the two agree");
        assert!(site.hash_files);

        std::fs::write(&hashes, "js: AAA\nwasm: OLD\ncss: CCC\n").expect("write");
        let stale = use_build_names(&mut site).expect_err("a file the site lacks");
        assert!(
            format!("{stale:#}").contains("rebound.OLD.wasm"),
            "{stale:#}"
        );
    }

    #[test]
    fn only_files_named_after_their_bytes_are_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let css = b"p { margin: 0 }";
        let good = format!("rebound.{}.css", URL_SAFE_NO_PAD.encode(Md5::digest(css)));
        std::fs::write(dir.path().join(&good), css).expect("write");
        // Named after its bytes, then rewritten (as the JS glue is).
        let glue = format!(
            "rebound.{}.js",
            URL_SAFE_NO_PAD.encode(Md5::digest(b"before"))
        );
        std::fs::write(dir.path().join(&glue), b"after").expect("write");
        std::fs::create_dir(dir.path().join("snippets")).expect("mkdir");
        let inner = format!("{}.js", URL_SAFE_NO_PAD.encode(Md5::digest(b"x")));
        std::fs::write(dir.path().join("snippets").join(&inner), b"x").expect("write");
        let found = content_addressed(dir.path());
        assert_eq!(
            found,
            HashSet::from([good, format!("snippets/{inner}")]),
            "the rewritten glue must not be cached for a year"
        );
    }
}
