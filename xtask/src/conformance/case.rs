//! Case files: one JSON object per `*.json` file of a corpus directory, read in file-name
//! order (the corpus README, "Case format"). Requests and checks stay JSON values: the
//! runner reads their fields the way the recorder does, with the same defaults.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One case: setup requests (answers not compared) and checks (each one test).
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) category: String,
    pub(crate) setup: Vec<Value>,
    pub(crate) checks: Vec<Value>,
}

/// Which cases of a corpus to replay.
#[derive(Debug, Default, Clone)]
pub(crate) struct Selection {
    /// Only cases whose name contains this text.
    pub(crate) name: Option<String>,
    /// Only cases of this category.
    pub(crate) category: Option<String>,
}

impl Selection {
    pub(crate) fn is_all(&self) -> bool {
        self.name.is_none() && self.category.is_none()
    }
}

/// Reads the selected cases of `corpus`. A missing directory, or one without a single
/// case file, is an error: a corpus that is not there must not pass as an empty run.
pub(crate) fn load(corpus: &Path, selection: &Selection) -> Result<Vec<Case>> {
    if !corpus.is_dir() {
        bail!(
            "conformance corpus {} does not exist (it is part of the repository)",
            corpus.display()
        );
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)
        .with_context(|| format!("listing {}", corpus.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("listing {}", corpus.display()))?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json") && p.is_file());
    files.sort();
    if files.is_empty() {
        bail!("conformance corpus {} holds no case file", corpus.display());
    }
    let mut cases = Vec::new();
    for file in files {
        let case = parse(&file)?;
        if selection
            .name
            .as_ref()
            .is_some_and(|n| !case.name.contains(n.as_str()))
        {
            continue;
        }
        if selection
            .category
            .as_ref()
            .is_some_and(|c| &case.category != c)
        {
            continue;
        }
        cases.push(case);
    }
    Ok(cases)
}

fn parse(file: &Path) -> Result<Case> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .with_context(|| format!("{}: the case has no \"name\"", file.display()))?
        .to_string();
    let list = |key: &str| -> Vec<Value> {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    Ok(Case {
        category: v
            .get("category")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        setup: list("setup"),
        checks: list("checks"),
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("xtask-conformance-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn missing_or_empty_corpus_is_an_error() {
        let d = dir("empty");
        assert!(load(&d.join("absent"), &Selection::default()).is_err());
        std::fs::write(d.join("README.md"), "no cases").unwrap();
        let err = load(&d, &Selection::default()).unwrap_err().to_string();
        assert!(err.contains("holds no case file"), "{err}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn cases_load_in_file_order_and_filter() {
        let d = dir("load");
        let case = |name: &str, cat: &str| {
            format!(
                r#"{{"name": "{name}", "category": "{cat}", "setup": [], "checks": [{{"path": "/ping"}}]}}"#
            )
        };
        std::fs::write(d.join("b.json"), case("fill--b", "fill")).unwrap();
        std::fs::write(d.join("a.json"), case("where--a", "where")).unwrap();
        std::fs::write(d.join("c.json"), r#"{"name": "bare"}"#).unwrap();
        let all = load(&d, &Selection::default()).unwrap();
        let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["where--a", "fill--b", "bare"]);
        assert_eq!(all[2].category, "?");
        assert!(all[2].checks.is_empty());
        let sel = Selection {
            name: Some("--".into()),
            category: Some("fill".into()),
        };
        let some = load(&d, &sel).unwrap();
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].checks.len(), 1);
        let _ = std::fs::remove_dir_all(&d);
    }
}
