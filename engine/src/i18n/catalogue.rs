//! The Fluent catalogue: one bundle per language, built from the files in
//! `engine/locales/` (compiled in) and a shop's own directory
//! (`shop.locales_dir`), whose `<language>.ftl` files override built-in
//! messages and add languages.

use std::collections::BTreeMap;
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

/// The language every other one falls back to, key by key.
pub const FALLBACK: &str = "en";

/// The built-in catalogue files, by language.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../../locales/en.ftl")),
    ("id", include_str!("../../locales/id.ftl")),
];

/// Largest catalogue file read from a shop's directory.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

type Bundle = FluentBundle<FluentResource>;

/// A catalogue file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read the locales directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {why}")]
    Invalid { file: String, why: String },
}

/// Every language's messages.
#[derive(Default)]
pub struct Catalogue {
    bundles: BTreeMap<String, Bundle>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("languages", &self.bundles.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Catalogue {
    /// The built-in languages only.
    pub fn built_in() -> Result<Self, CatalogueError> {
        let mut catalogue = Catalogue::default();
        for (language, source) in BUILT_IN {
            catalogue.add(language, source, &format!("engine/locales/{language}.ftl"))?;
        }
        Ok(catalogue)
    }

    /// The built-in languages with a shop's files from `dir` on top: each
    /// `<language>.ftl` (`id.ftl`, `de.ftl`) overrides the messages it names
    /// and adds the others; a new language falls back to English key by key.
    pub fn with_dir(dir: &Path) -> Result<Self, CatalogueError> {
        let io = |source| CatalogueError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut catalogue = Catalogue::built_in()?;
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "ftl") && path.is_file())
            .collect();
        files.sort();
        for path in files {
            let file = path.display().to_string();
            let invalid = |why: String| CatalogueError::Invalid {
                file: file.clone(),
                why,
            };
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let language = super::language_of(stem).ok_or_else(|| {
                invalid("the file name must be a language tag, e.g. id.ftl".into())
            })?;
            let source = read_limited(&path).map_err(|e| invalid(e.to_string()))?;
            catalogue.add(&language, &source, &file)?;
        }
        Ok(catalogue)
    }

    fn add(&mut self, language: &str, source: &str, file: &str) -> Result<(), CatalogueError> {
        let resource = FluentResource::try_new(source.to_owned()).map_err(|(_, errors)| {
            CatalogueError::Invalid {
                file: file.to_owned(),
                why: errors
                    .iter()
                    .map(|e| format!("{:?} at bytes {:?}", e.kind, e.pos))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })?;
        let bundle = self.bundles.entry(language.to_owned()).or_insert_with(|| {
            let id: LanguageIdentifier = language.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Plain text everywhere (e-mail, SMS, PDF): no bidi isolation marks.
            bundle.set_use_isolating(false);
            bundle
        });
        bundle.add_resource_overriding(resource);
        Ok(())
    }

    /// The languages with a catalogue.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.bundles.keys().map(String::as_str)
    }

    pub fn has_language(&self, language: &str) -> bool {
        self.bundles.contains_key(language)
    }

    /// The message `key` in `language` with `args`, else in English, else
    /// the key itself (so a gap shows, never an empty label).
    pub fn text(&self, language: &str, key: &str, args: &[(&str, &str)]) -> String {
        [language, FALLBACK]
            .iter()
            .find_map(|lang| self.format(lang, key, args))
            .unwrap_or_else(|| key.to_owned())
    }

    fn format(&self, language: &str, key: &str, args: &[(&str, &str)]) -> Option<String> {
        let bundle = self.bundles.get(language)?;
        let pattern = bundle.get_message(key)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                language,
                key,
                ?errors,
                "a catalogue message did not format cleanly"
            );
        }
        Some(text.into_owned())
    }

    fn has_key(&self, language: &str, key: &str) -> bool {
        self.bundles
            .get(language)
            .is_some_and(|b| b.has_message(key))
    }

    /// The English messages `language` does not have (they fall back to
    /// English), sorted.
    pub fn missing_keys(&self, language: &str) -> Vec<String> {
        built_in_keys(FALLBACK)
            .into_iter()
            .filter(|key| !self.has_key(language, key))
            .collect()
    }
}

/// The message ids of a built-in file, sorted (a bundle does not list its
/// ids, so they are read from the source).
pub fn built_in_keys(language: &str) -> Vec<String> {
    let Some((_, source)) = BUILT_IN.iter().find(|(l, _)| *l == language) else {
        return Vec::new();
    };
    let Ok(resource) = FluentResource::try_new((*source).to_owned()) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect();
    ids.sort();
    ids
}

fn read_limited(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "larger than 1 MiB",
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
}
