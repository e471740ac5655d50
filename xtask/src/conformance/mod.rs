//! The conformance runner: replays recorded InfluxDB answers against a server and
//! compares them check by check.
//!
//! Two corpora live in the repository, so a fresh clone needs nothing beside it:
//! - [`PUBLIC_CORPUS`]: the InfluxDB 1.6 corpus (575 checks); at least the floor in
//!   `conformance-floor.txt` must pass;
//! - [`OWN_CORPUS`]: the project's own cases recorded against InfluxDB 1.6; every check
//!   must pass.
//!
//! A missing or empty corpus directory is a failure, never a skip. The rules (body
//! formats, float tolerance, error presence, ignored and unordered paths, headers) are
//! those the expectations were recorded with (`compare`), so the pass count is the one
//! the recorder's own Python runner reports on the same server.
//!
//! `cargo xtask test` calls [`test_step`]; `cargo xtask conformance` is [`command`].

mod case;
mod compare;
mod http;
mod pytext;
mod replay;
mod report;
mod server;

use anyhow::{bail, Context, Result};
use case::{Case, Selection};
use replay::Mode;
use report::Counts;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The InfluxDB 1.6.7 corpus, relative to the workspace root.
pub(crate) const PUBLIC_CORPUS: &str = "tests/conformance/influxdb-1.6";
/// The project's own recorded cases, relative to the workspace root.
pub(crate) const OWN_CORPUS: &str = "tests/conformance/cases";

/// What a corpus must achieve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// At least this many checks pass.
    Floor(u64),
    /// Every check passes.
    All,
}

#[derive(Debug)]
struct Corpus {
    label: String,
    dir: PathBuf,
    verdict: Verdict,
}

/// The two corpora of the repository with their verdicts.
fn default_corpora(root: &Path) -> Result<Vec<Corpus>> {
    Ok(vec![
        Corpus {
            label: "InfluxDB 1.6 corpus".into(),
            dir: root.join(PUBLIC_CORPUS),
            verdict: Verdict::Floor(read_floor(root)?),
        },
        Corpus {
            label: "own recorded cases".into(),
            dir: root.join(OWN_CORPUS),
            verdict: Verdict::All,
        },
    ])
}

/// The committed floor: the first line of `conformance-floor.txt` that is not a comment.
fn read_floor(root: &Path) -> Result<u64> {
    std::fs::read_to_string(root.join("conformance-floor.txt"))
        .context("reading conformance-floor.txt")?
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .context("conformance-floor.txt holds no number")?
        .trim()
        .parse()
        .context("conformance-floor.txt: not a number")
}

/// `cargo xtask test`'s step: both corpora, each against a fresh `hyperbyted` started
/// from `bin` with `env`.
pub(crate) fn test_step(root: &Path, bin: &Path, env: &[(&str, &str)]) -> Result<()> {
    for corpus in default_corpora(root)? {
        let cases = case::load(&corpus.dir, &Selection::default())?;
        let target = Target::Fresh { bin, env };
        replay_and_judge(
            &target,
            &corpus,
            &cases,
            &Options::default(),
            &mut Vec::new(),
        )?;
    }
    Ok(())
}

/// The server a corpus is replayed against.
#[derive(Debug)]
enum Target<'a> {
    /// A server already running at this URL.
    Running(&'a str),
    /// A fresh `hyperbyted` per corpus.
    Fresh {
        bin: &'a Path,
        env: &'a [(&'a str, &'a str)],
    },
}

/// Options of `cargo xtask conformance`.
#[derive(Debug, Default)]
struct Options {
    url: Option<String>,
    corpus: Option<PathBuf>,
    selection: Selection,
    mode: Mode,
    report: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo xtask conformance [--url URL] [--corpus DIR] [--case NAME] \
[--category CAT] [--strict-errors] [--verbose] [--report FILE]";

fn parse_options(args: &[String]) -> Result<Options> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<String> {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value; {USAGE}"))
        };
        match a.as_str() {
            "--url" => o.url = Some(value("--url")?),
            "--corpus" => o.corpus = Some(PathBuf::from(value("--corpus")?)),
            "--case" | "--filter" => o.selection.name = Some(value("--case")?),
            "--category" => o.selection.category = Some(value("--category")?),
            "--report" => o.report = Some(PathBuf::from(value("--report")?)),
            "--strict-errors" => o.mode.strict_errors = true,
            "--verbose" => o.mode.verbose = true,
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    Ok(o)
}

/// `cargo xtask conformance`: with `--url`, replays against that running server (it drops
/// every database there); without, against a fresh `hyperbyted` per corpus
/// (`HYPERBYTED_BIN`, or a release build). `--corpus` picks one directory, else both
/// corpora of the repository run; `--case`/`--category` select cases.
pub(crate) fn command(root: &Path, args: &[String]) -> Result<()> {
    let opts = parse_options(args)?;
    let corpora = match &opts.corpus {
        Some(dir) => vec![Corpus {
            label: dir.display().to_string(),
            dir: dir.clone(),
            verdict: Verdict::All,
        }],
        None => default_corpora(root)?,
    };
    let mut loaded = Vec::new();
    for mut corpus in corpora {
        let cases = case::load(&corpus.dir, &opts.selection)?;
        if !opts.selection.is_all() {
            // The floor counts the whole corpus; a selection must pass entirely.
            corpus.verdict = Verdict::All;
        }
        if !cases.is_empty() {
            loaded.push((corpus, cases));
        }
    }
    if loaded.is_empty() {
        bail!("no case matches the selection");
    }
    let bin = match &opts.url {
        Some(_) => None,
        None => Some(server_binary(root)?),
    };
    let target = match (&opts.url, &bin) {
        (Some(url), _) => Target::Running(url),
        (None, Some(bin)) => Target::Fresh { bin, env: &[] },
        (None, None) => bail!("no server to replay against"),
    };
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for (corpus, cases) in &loaded {
        if let Err(e) = replay_and_judge(&target, corpus, cases, &opts, &mut outcomes) {
            failures.push(format!("{e:#}"));
        }
    }
    if let Some(path) = &opts.report {
        report::write_json(path, &outcomes)?;
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}

/// `HYPERBYTED_BIN` when set, else a provisioned release build.
fn server_binary(root: &Path) -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("HYPERBYTED_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let env = crate::provision::provision(root)?;
    crate::build_release(root, &env)
}

/// Replays one corpus, prints the result and judges it; the outcomes are appended to
/// `outcomes`. A fresh server's directory is kept (its log named) when the verdict fails.
fn replay_and_judge(
    target: &Target<'_>,
    corpus: &Corpus,
    cases: &[Case],
    opts: &Options,
    outcomes: &mut Vec<replay::Outcome>,
) -> Result<()> {
    let mut replay_at = |url: &str| -> Result<()> {
        let (counts, done) = replay_and_print(url, corpus, cases, opts)?;
        outcomes.extend(done);
        judge(corpus, counts)
    };
    match target {
        Target::Running(url) => replay_at(url),
        Target::Fresh { bin, env } => {
            let server = server::Server::start(bin, env)?;
            let verdict = replay_at(&server.url);
            server.stop(verdict.is_err());
            verdict
        }
    }
}

/// Replays `cases` against `url`, printing failing checks as they come and then the
/// per-category table.
fn replay_and_print(
    url: &str,
    corpus: &Corpus,
    cases: &[Case],
    opts: &Options,
) -> Result<(Counts, Vec<replay::Outcome>)> {
    println!(
        "    replaying {} ({}, {} cases) against {url}",
        corpus.label,
        corpus.dir.display(),
        cases.len()
    );
    let started = Instant::now();
    let mut client = http::Client::new(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcomes = replay::run(&mut client, cases, opts.mode, &mut |o| {
        for line in report::failure_lines(o) {
            println!("    {line}");
        }
    });
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(m) => {
            let total: usize = cases.iter().map(|c| c.checks.len()).sum();
            bail!("{m} (0 passed, {total} failed)");
        }
    };
    println!();
    for line in report::table(&outcomes) {
        println!("    {line}");
    }
    println!(
        "    {} cases in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    let counts = report::tally(&outcomes).1;
    Ok((counts, outcomes))
}

/// Prints the corpus's verdict line and fails when it is not met.
fn judge(corpus: &Corpus, c: Counts) -> Result<()> {
    let (p, f, t) = (c.passed, c.failed, c.total());
    match corpus.verdict {
        Verdict::Floor(floor) => {
            println!(
                "{}: {p} of {t} checks match InfluxDB (floor {floor})",
                corpus.label
            );
            if p < floor {
                bail!("conformance regressed: {p} checks pass, the floor in conformance-floor.txt is {floor}");
            }
            if p > floor {
                println!("    (more than the floor: raise conformance-floor.txt to {p})");
            }
        }
        Verdict::All => {
            println!("{}: {p} of {t} checks match InfluxDB", corpus.label);
            if f > 0 {
                bail!(
                    "{f} of {t} checks of {} fail (every one must pass)",
                    corpus.label
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn options_parse() {
        let o = parse_options(&args(&[
            "--url",
            "http://h:1",
            "--case",
            "fill--",
            "--strict-errors",
        ]))
        .unwrap();
        assert_eq!(o.url.as_deref(), Some("http://h:1"));
        assert_eq!(o.selection.name.as_deref(), Some("fill--"));
        assert!(o.mode.strict_errors && !o.mode.verbose);
        assert!(parse_options(&args(&["--url"])).is_err());
        assert!(parse_options(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn verdicts() {
        let corpus = |verdict| Corpus {
            label: "c".into(),
            dir: PathBuf::from("c"),
            verdict,
        };
        let c = Counts {
            passed: 571,
            failed: 4,
        };
        assert!(judge(&corpus(Verdict::Floor(571)), c).is_ok());
        assert!(judge(&corpus(Verdict::Floor(572)), c).is_err());
        assert!(judge(&corpus(Verdict::All), c).is_err());
        assert!(judge(
            &corpus(Verdict::All),
            Counts {
                passed: 3,
                failed: 0
            }
        )
        .is_ok());
    }

    #[test]
    fn the_repository_holds_both_corpora() {
        let root = crate::root().unwrap();
        for corpus in default_corpora(&root).unwrap() {
            let cases = case::load(&corpus.dir, &Selection::default()).unwrap();
            assert!(!cases.is_empty(), "{}", corpus.dir.display());
        }
        let public = case::load(&root.join(PUBLIC_CORPUS), &Selection::default()).unwrap();
        let checks: usize = public.iter().map(|c| c.checks.len()).sum();
        assert_eq!((public.len(), checks), (412, 575));
    }
}
