//! Replaying cases against a server: for each case every database is dropped, the setup
//! is sent (answers not compared), then every check is sent and evaluated. A broken
//! exchange fails the rest of its case; an unreachable server stops the run.

use super::case::Case;
use super::compare::{cut, evaluate, parse_body, short, Body};
use super::http::{Answer, Client, SendError};
use super::pytext::{str_repr, urlencode};
use serde_json::Value;

/// The verdict on one check.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) case: String,
    pub(crate) category: String,
    pub(crate) index: usize,
    /// What was sent, in one line.
    pub(crate) check: String,
    /// Empty when the check passed.
    pub(crate) problems: Vec<String>,
}

impl Outcome {
    pub(crate) fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How the checks are replayed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Mode {
    /// Compare error texts exactly instead of for presence.
    pub(crate) strict_errors: bool,
    /// Print failing setup steps and append the whole answer to each problem.
    pub(crate) verbose: bool,
}

/// Replays `cases` in order; `on_outcome` sees each check's verdict as it is reached.
/// Returns the outcomes, or the reason the server could not be reached.
pub(crate) fn run(
    client: &mut Client,
    cases: &[Case],
    mode: Mode,
    on_outcome: &mut dyn FnMut(&Outcome),
) -> Result<Vec<Outcome>, String> {
    let mut all = Vec::new();
    for case in cases {
        let mut results: Vec<Outcome> = Vec::new();
        let played = play_case(client, case, mode, &mut results);
        match played {
            Ok(()) => {}
            Err(SendError::Unreachable(m)) => {
                client.close();
                return Err(m);
            }
            Err(SendError::Broken(m)) => {
                for (i, check) in case.checks.iter().enumerate().skip(results.len()) {
                    results.push(outcome(case, i, check, vec![format!("case aborted: {m}")]));
                }
            }
        }
        for o in &results {
            on_outcome(o);
        }
        all.extend(results);
    }
    client.close();
    Ok(all)
}

fn play_case(
    client: &mut Client,
    case: &Case,
    mode: Mode,
    results: &mut Vec<Outcome>,
) -> Result<(), SendError> {
    wipe(client)?;
    for req in &case.setup {
        let answer = client.send(req)?;
        if mode.verbose && answer.status >= 300 {
            println!(
                "  setup {} {} -> {} {}",
                req.get("method").and_then(Value::as_str).unwrap_or("GET"),
                req.get("path").and_then(Value::as_str).unwrap_or(""),
                answer.status,
                str_repr(&String::from_utf8_lossy(
                    &answer.body[..answer.body.len().min(200)]
                ))
            );
        }
    }
    for (i, check) in case.checks.iter().enumerate() {
        let Answer {
            status,
            headers,
            body,
        } = client.send(check)?;
        let content_type = headers.get("content-type").map_or("", String::as_str);
        let body: Body = parse_body(check, content_type, &body);
        let mut problems = evaluate(check, status, &headers, &body, mode.strict_errors);
        if !problems.is_empty() && mode.verbose {
            problems.push(format!(
                "got status {status}, body {}",
                short(&body.value, 600)
            ));
        }
        results.push(outcome(case, i, check, problems));
    }
    Ok(())
}

fn outcome(case: &Case, index: usize, check: &Value, problems: Vec<String>) -> Outcome {
    Outcome {
        case: case.name.clone(),
        category: case.category.clone(),
        index,
        check: describe(check),
        problems,
    }
}

/// Drops every database the server lists.
fn wipe(client: &mut Client) -> Result<(), SendError> {
    let show =
        serde_json::json!({"method": "GET", "path": "/query", "params": {"q": "SHOW DATABASES"}});
    let answer = client.send(&show)?;
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let mut names = Vec::new();
    let results = body.get("results").and_then(Value::as_array);
    for res in results.into_iter().flatten() {
        let series = res.get("series").and_then(Value::as_array);
        for s in series.into_iter().flatten() {
            let values = s.get("values").and_then(Value::as_array);
            for row in values.into_iter().flatten() {
                if let Some(first) = row.as_array().and_then(|r| r.first()) {
                    names.push(match first {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
            }
        }
    }
    for n in names {
        let q = format!(
            "DROP DATABASE \"{}\"",
            n.replace('\\', "\\\\").replace('"', "\\\"")
        );
        client
            .send(&serde_json::json!({"method": "POST", "path": "/query", "params": {"q": q}}))?;
    }
    Ok(())
}

/// One line saying what a check sends: method, path, parameters, and the statement
/// or body.
pub(crate) fn describe(check: &Value) -> String {
    let text = |v: Option<&Value>| -> Option<String> {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let params = check.get("params").and_then(Value::as_object);
    let what = text(params.and_then(|p| p.get("q")))
        .or_else(|| text(check.get("form").and_then(|f| f.get("q"))))
        .or_else(|| text(check.get("body")))
        .unwrap_or_default();
    let mut s = format!(
        "{} {}",
        check.get("method").and_then(Value::as_str).unwrap_or("GET"),
        check.get("path").and_then(Value::as_str).unwrap_or("")
    );
    if let Some(p) = params {
        let mut extra = p.clone();
        extra.remove("q");
        if !extra.is_empty() {
            s.push(' ');
            s.push_str(&urlencode(&extra));
        }
    }
    if !what.is_empty() {
        s.push(' ');
        s.push_str(&cut(str_repr(what.trim()), 110));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn describes_a_check_in_one_line() {
        let c =
            json!({"method": "POST", "path": "/query", "params": {"db": "d", "q": " SELECT 1 "}});
        assert_eq!(describe(&c), "POST /query db=d 'SELECT 1'");
        let w =
            json!({"method": "POST", "path": "/write", "params": {"db": "d"}, "body": "m v=1\n"});
        assert_eq!(describe(&w), "POST /write db=d 'm v=1'");
        assert_eq!(describe(&json!({"path": "/ping"})), "GET /ping");
    }

    #[test]
    fn an_unreachable_server_stops_the_run() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // closed again: nothing listens there
        let mut client = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let case = Case {
            name: "ping--x".into(),
            category: "ping".into(),
            setup: vec![],
            checks: vec![json!({"path": "/ping", "expect_status": 204})],
        };
        let err = run(&mut client, &[case], Mode::default(), &mut |_| {}).unwrap_err();
        assert!(err.contains("cannot connect"), "{err}");
    }
}
