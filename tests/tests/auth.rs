//! Authentication and authorization against the real server with `auth.enabled = true`:
//! InfluxDB's bootstrap rule, then a matrix of statement kinds and writes × users
//! (admin, READ, WRITE, none) × credential forms (`u`/`p`, Basic, `Token`, JWT), wrong and
//! empty credentials, expired and empty-secret JWTs, and `/ping` staying public.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use serde_json::{json, Value};

const SECRET: &str = "e2e-shared-secret";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    Params,
    Basic,
    Token,
    Jwt,
}

const FORMS: [Form; 4] = [Form::Params, Form::Basic, Form::Token, Form::Jwt];

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn base64(input: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = input.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A request with credentials in one form: (URL suffix, Authorization header).
fn creds(form: Form, user: &str, password: &str) -> (String, Option<String>) {
    match form {
        Form::Params => (format!("u={user}&p={password}"), None),
        Form::Basic => (
            String::new(),
            Some(format!("Basic {}", base64(&format!("{user}:{password}")))),
        ),
        Form::Token => (String::new(), Some(format!("Token {user}:{password}"))),
        Form::Jwt => (
            String::new(),
            Some(format!(
                "Bearer {}",
                jwt(json!({"username": user, "exp": now() + 600}), SECRET)
            )),
        ),
    }
}

type Answer = (u16, String, Option<String>);

fn answer(r: Result<ureq::Response, ureq::Error>) -> Answer {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let challenge = resp.header("WWW-Authenticate").map(str::to_string);
    let status = resp.status();
    // InfluxDB's JSON bodies end with a newline; the assertions compare what precedes it.
    let body = resp.into_string().unwrap();
    let body = body.strip_suffix('\n').map(str::to_string).unwrap_or(body);
    (status, body, challenge)
}

fn query(s: &Server, url_params: &str, auth: Option<&str>, db: &str, q: &str) -> Answer {
    let mut r = ureq::post(&format!("{}/query?{url_params}", s.url));
    if let Some(a) = auth {
        r = r.set("Authorization", a);
    }
    answer(r.send_form(&[("db", db), ("q", q)]))
}

fn write(s: &Server, path: &str, url_params: &str, auth: Option<&str>) -> Answer {
    let mut r = ureq::post(&format!("{}{path}&{url_params}", s.url));
    if let Some(a) = auth {
        r = r.set("Authorization", a);
    }
    answer(r.send_string("cpu v=1 1000000000"))
}

fn query_as(s: &Server, form: Form, user: &str, q: &str) -> Answer {
    let (params, header) = creds(form, user, &format!("{user}-pw"));
    query(s, &params, header.as_deref(), "db", q)
}

fn statement_errors(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["error"].as_str().map(str::to_string))
        .collect()
}

fn start() -> Server {
    Server::start_with_env(&[
        ("HYPERBYTE_AUTH__ENABLED", "true"),
        ("HYPERBYTE_AUTH__SHARED_SECRET", SECRET),
    ])
}

/// Creates the admin (bootstrap), the database and the READ, WRITE and privilege-less users.
fn bootstrap(s: &Server) {
    let (st, body, _) = query(s, "", None, "", "SHOW DATABASES");
    assert_eq!(st, 403, "{body}");
    assert_eq!(
        body,
        r#"{"error":"error authorizing query: create admin user first or disable authentication"}"#
    );
    let (st, body, _) = query(s, "", None, "", "CREATE USER nonadmin WITH PASSWORD 'x'");
    assert_eq!(st, 403, "{body}");
    let (st, body, _) = query(
        s,
        "",
        None,
        "",
        "CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES",
    );
    assert_eq!((st, statement_errors(&body)), (200, vec![]), "{body}");
    let setup = "CREATE DATABASE db; CREATE DATABASE other; \
        CREATE USER r WITH PASSWORD 'r-pw'; CREATE USER w WITH PASSWORD 'w-pw'; \
        CREATE USER n WITH PASSWORD 'n-pw'; GRANT READ ON db TO r; GRANT WRITE ON db TO w";
    let (st, body, _) = query(s, "u=admin&p=admin-pw", None, "", setup);
    assert_eq!((st, statement_errors(&body)), (200, vec![]), "{body}");
    let (st, body) = s.write_params("db=db&u=admin&p=admin-pw", "cpu v=1 1000000000");
    assert_eq!(st, 204, "{body}");
}

/// Who may run what: `a` admin, `r` READ on db, `w` WRITE on db, `n` nothing.
const STATEMENTS: &[(&str, &str)] = &[
    ("SELECT * FROM cpu", "ar"),
    ("SHOW MEASUREMENTS", "ar"),
    ("SHOW TAG KEYS FROM cpu", "ar"),
    ("SHOW FIELD KEYS", "ar"),
    ("SHOW SERIES", "ar"),
    ("SHOW RETENTION POLICIES ON db", "ar"),
    ("SHOW DATABASES", "arwn"),
    ("DELETE FROM cpu WHERE time < 0", "aw"),
    ("DROP SERIES FROM nothing", "aw"),
    (
        "CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1h) END",
        "ar",
    ),
    ("DROP CONTINUOUS QUERY nothing ON db", "aw"),
    ("SHOW CONTINUOUS QUERIES", "ar"),
    ("SELECT * INTO other..copy FROM cpu", "a"),
    ("DROP MEASUREMENT nothing", "a"),
    ("CREATE DATABASE made", "a"),
    ("SHOW USERS", "a"),
    ("SHOW GRANTS FOR r", "a"),
    ("SHOW STATS", "a"),
    (
        "CREATE RETENTION POLICY p1 ON db DURATION 2h REPLICATION 1",
        "a",
    ),
];

#[test]
fn authorization_matrix() {
    let s = start();
    bootstrap(&s);
    let users = [("admin", 'a'), ("r", 'r'), ("w", 'w'), ("n", 'n')];
    for form in FORMS {
        for (user, tag) in users {
            for (q, allowed) in STATEMENTS {
                let (st, body, _) = query_as(&s, form, user, q);
                if allowed.contains(tag) {
                    assert_eq!(st, 200, "{form:?} {user}: {q}: {body}");
                } else {
                    assert_eq!(st, 403, "{form:?} {user}: {q}: {body}");
                    assert!(
                        body.starts_with(&format!(
                            "{{\"error\":\"error authorizing query: {user} not authorized to execute statement '"
                        )),
                        "{body}"
                    );
                }
            }
            let (params, header) = creds(form, user, &format!("{user}-pw"));
            for path in ["/write?db=db", "/api/v2/write?bucket=db"] {
                let (st, body, _) = write(&s, path, &params, header.as_deref());
                let want = if "aw".contains(tag) { 204 } else { 403 };
                assert_eq!(st, want, "{form:?} {user} {path}: {body}");
                if want == 403 {
                    assert_eq!(
                        body,
                        format!(
                            r#"{{"error":"\"{user}\" user is not authorized to write to database \"db\""}}"#
                        )
                    );
                }
            }
        }
    }
    // SHOW DATABASES lists what the user may read or write.
    let (_, body, _) = query_as(&s, Form::Basic, "r", "SHOW DATABASES");
    assert!(body.contains(r#"[["db"]]"#), "{body}");
    let (_, body, _) = query_as(&s, Form::Basic, "n", "SHOW DATABASES");
    assert!(!body.contains("\"db\""), "{body}");
    // The exact 403 text of a READ user asking for an admin statement.
    let (_, body, _) = query_as(&s, Form::Params, "r", "SHOW USERS");
    assert_eq!(
        body,
        r#"{"error":"error authorizing query: r not authorized to execute statement 'SHOW USERS', requires admin privilege"}"#
    );
    // A missing database still answers 404 to an authenticated writer.
    let (st, _, _) = write(&s, "/write?db=nodb", "u=w&p=w-pw", None);
    assert_eq!(st, 404);
}

#[test]
fn wrong_and_missing_credentials() {
    let s = start();
    bootstrap(&s);
    let unauthorized = |a: Answer, text: &str| {
        assert_eq!(a.0, 401, "{a:?}");
        assert_eq!(a.1, format!(r#"{{"error":"{text}"}}"#));
        assert_eq!(a.2.as_deref(), Some("Basic realm=\"InfluxDB\""));
    };
    let no_creds = "unable to parse authentication credentials";
    unauthorized(query(&s, "", None, "db", "SHOW DATABASES"), no_creds);
    unauthorized(query(&s, "u=&p=", None, "db", "SHOW DATABASES"), no_creds);
    unauthorized(write(&s, "/write?db=db", "", None), no_creds);
    unauthorized(write(&s, "/api/v2/write?bucket=db", "", None), no_creds);
    for form in [Form::Params, Form::Basic, Form::Token] {
        let (params, header) = creds(form, "r", "wrong");
        let a = query(&s, &params, header.as_deref(), "db", "SHOW DATABASES");
        unauthorized(a, "authorization failed");
        let (params, header) = creds(form, "nobody", "x");
        let a = query(&s, &params, header.as_deref(), "db", "SHOW DATABASES");
        unauthorized(a, "authorization failed");
        let (params, header) = creds(form, "r", "wrong");
        unauthorized(
            write(&s, "/write?db=db", &params, header.as_deref()),
            "authorization failed",
        );
    }
    let basic_no_user = format!("Basic {}", base64(":pw"));
    unauthorized(
        query(&s, "", Some(&basic_no_user), "db", "SHOW DATABASES"),
        "username required",
    );
    // JWTs: expired, wrong secret, no exp, unknown user.
    let bearer = |claims: Value, secret: &str| format!("Bearer {}", jwt(claims, secret));
    let expired = bearer(json!({"username": "admin", "exp": now() - 5}), SECRET);
    unauthorized(
        query(&s, "", Some(&expired), "db", "SHOW DATABASES"),
        "Token is expired",
    );
    let forged = bearer(json!({"username": "admin", "exp": now() + 60}), "guess");
    unauthorized(
        query(&s, "", Some(&forged), "db", "SHOW DATABASES"),
        "signature is invalid",
    );
    let no_exp = bearer(json!({"username": "admin"}), SECRET);
    unauthorized(
        query(&s, "", Some(&no_exp), "db", "SHOW DATABASES"),
        "token expiration required",
    );
    let ghost = bearer(json!({"username": "ghost", "exp": now() + 60}), SECRET);
    unauthorized(
        query(&s, "", Some(&ghost), "db", "SHOW DATABASES"),
        "user not found",
    );
    // /ping stays public.
    assert_eq!(s.get("/ping").0, 204);
    // A changed password takes effect at once (the verification cache follows it).
    let (st, _, _) = query(&s, "u=r&p=r-pw", None, "db", "SHOW MEASUREMENTS");
    assert_eq!(st, 200);
    let (st, _, _) = query(
        &s,
        "u=admin&p=admin-pw",
        None,
        "",
        "SET PASSWORD FOR r = 'new'",
    );
    assert_eq!(st, 200);
    unauthorized(
        query(&s, "u=r&p=r-pw", None, "db", "SHOW MEASUREMENTS"),
        "authorization failed",
    );
    let (st, _, _) = query(&s, "u=r&p=new", None, "db", "SHOW MEASUREMENTS");
    assert_eq!(st, 200);
    let (st, _, _) = query(&s, "u=admin&p=admin-pw", None, "", "DROP USER r");
    assert_eq!(st, 200);
    unauthorized(
        query(&s, "u=r&p=new", None, "db", "SHOW MEASUREMENTS"),
        "authorization failed",
    );
}

#[test]
fn jwt_refused_while_the_secret_is_empty() {
    let s = Server::start_with_env(&[("HYPERBYTE_AUTH__ENABLED", "true")]);
    let (st, _, _) = query(
        &s,
        "",
        None,
        "",
        "CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES",
    );
    assert_eq!(st, 200);
    for secret in ["", SECRET] {
        let token = format!(
            "Bearer {}",
            jwt(json!({"username": "admin", "exp": now() + 60}), secret)
        );
        let (st, body, _) = query(&s, "", Some(&token), "", "SHOW DATABASES");
        assert_eq!(st, 401);
        assert_eq!(body, r#"{"error":"bearer auth disabled"}"#);
    }
    let (st, _, _) = query(&s, "u=admin&p=admin-pw", None, "", "SHOW DATABASES");
    assert_eq!(st, 200);
}
