//! Queries per grant, counted by the store itself (`Store::statements_executed`): on SQLite every statement it
//! starts on the store's connections, BEGIN and COMMIT included; on PostgreSQL every round trip (each statement,
//! each preparation, each BEGIN and COMMIT). Each endpoint has a budget per backend; a change that adds
//! statements to a hot path fails here and has to raise the budget on purpose. The numbers are steady-state:
//! every request is made once before it is counted, and the smallest of three counts is taken (the server's purge
//! task runs once at start and could otherwise land inside a count). The test runs on the backend the suite runs
//! on (`SFR_TEST_BACKEND`), so `scripts/test` checks both.

use sfr_wire::JWT_BEARER_GRANT;
use sfr_wire::jwt::{OutgoingClaims, sign_rs256};

use super::jwt::make_cert;
use super::*;

/// Statements per request, at most: what the store ran when this test was written, on SQLite and on
/// PostgreSQL. Lower them when the store gets leaner.
struct Budget {
    request: &'static str,
    sqlite: u64,
    postgres: u64,
}

const BUDGETS: &[Budget] = &[
    // PostgreSQL: the session, its login-history row (and refresh token) in one statement, guarded by the
    // cached facts' version.
    Budget {
        request: "jwt_bearer",
        sqlite: 5,
        postgres: 1,
    },
    Budget {
        request: "client_credentials",
        sqlite: 5,
        postgres: 1,
    },
    // SQLite: the token read, the facts' check, the use, the session and the event in one writer transaction
    // (9 when the read was a transaction of its own on the writer, 7 on a reader before that). PostgreSQL: the
    // token's read, then its use with the new session and the event in one statement.
    Budget {
        request: "refresh_token",
        sqlite: 7,
        postgres: 2,
    },
    // SQLite: the user comes from the writer's memo (`writer_memo`) once it was read at the facts' current
    // counter (11 when it and its permission sets were read on every exchange). PostgreSQL: BEGIN, the claim
    // with the code's user (and the facts' check), the tokens and the event, COMMIT, then the cap on live
    // refresh tokens (6 when the user was read apart).
    Budget {
        request: "authorization_code",
        sqlite: 9,
        postgres: 5,
    },
    // SQLite: the session, its user (from the writer's memo: 7 when read each time) and the login-history row
    // in one writer transaction (9 when the row was a transaction of its own). PostgreSQL: the facts' counter
    // (the client's cached facts), the session with its user (two statements before), the login-history row.
    Budget {
        request: "introspect",
        sqlite: 6,
        postgres: 3,
    },
    // SQLite: the session and the facts' counter its memoized user is kept under (5 when the user was read each
    // time). PostgreSQL: the session with its user, one statement (two before).
    Budget {
        request: "identity",
        sqlite: 4,
        postgres: 1,
    },
];

fn budget(org: &TestOrg, name: &str) -> u64 {
    let budget = BUDGETS
        .iter()
        .find(|b| b.request == name)
        .unwrap_or_else(|| panic!("no budget for {name}"));
    match org.database {
        DatabaseUrl::Sqlite(_) => budget.sqlite,
        DatabaseUrl::Postgres(_) => budget.postgres,
    }
}

fn statements(org: &TestOrg) -> u64 {
    org.store()
        .statements_executed()
        .expect("the store counts its statements")
}

/// The statements one call of `request` makes: the least of three counts, after one uncounted call.
fn count(org: &TestOrg, mut request: impl FnMut() -> Resp) -> u64 {
    let first = request();
    assert_eq!(first.status, 200, "{}", first.body);
    (0..3)
        .map(|_| {
            let before = statements(org);
            let resp = request();
            assert_eq!(resp.status, 200, "{}", resp.body);
            statements(org) - before
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn statements_per_grant_stay_within_budget() {
    let cert = make_cert();
    let org = TestOrg::new()
        .with_user(TestUser::admin("boss@example.com"))
        .with_user(TestUser::standard("std@example.com"))
        .with_app(
            TestApp::web("Bench")
                .scopes("api refresh_token")
                .certificate(&cert.pem)
                .admin_approved(&["System Administrator", "Standard User"], &[])
                .run_as("boss@example.com"),
        );
    let app = org.app("Bench");
    let mut measured = Vec::new();

    let jwt = sign_rs256(
        &OutgoingClaims {
            iss: &app.key,
            sub: "boss@example.com",
            aud: &org.base,
            exp: org.clock_now() / 1000 + 300,
            iat: org.clock_now() / 1000,
        },
        &cert.key,
    )
    .expect("sign");
    measured.push((
        "jwt_bearer",
        count(&org, || {
            org.token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &jwt)])
        }),
    ));

    let cc = [
        ("grant_type", "client_credentials"),
        ("client_id", app.key.as_str()),
        ("client_secret", app.secret.as_str()),
    ];
    measured.push(("client_credentials", count(&org, || org.token(&cc))));

    let login = org.web_login("Bench", "std@example.com");
    let refresh_token = s(&login, "refresh_token");
    let access_token = s(&login, "access_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("client_id", app.key.as_str()),
        ("client_secret", app.secret.as_str()),
    ];
    measured.push(("refresh_token", count(&org, || org.token(&refresh))));

    // Codes are single-use: fresh ones from the browser flow, made before any counting starts.
    let mut codes = (0..4)
        .map(|_| org.code_for("Bench", "std@example.com"))
        .collect::<Vec<_>>()
        .into_iter();
    measured.push((
        "authorization_code",
        count(&org, || {
            let (code, verifier) = codes.next().expect("a fresh code");
            org.token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &app.key),
                ("client_secret", &app.secret),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &verifier),
            ])
        }),
    ));

    let introspect = [
        ("token", access_token.as_str()),
        ("token_type_hint", "access_token"),
        ("client_id", app.key.as_str()),
        ("client_secret", app.secret.as_str()),
    ];
    measured.push((
        "introspect",
        count(&org, || {
            org.post_form("/services/oauth2/introspect", &introspect, &[])
        }),
    ));

    let id_path = url::Url::parse(&s(&login, "id"))
        .expect("identity URL")
        .path()
        .to_owned();
    let bearer = format!("Bearer {access_token}");
    measured.push((
        "identity",
        count(&org, || org.get(&id_path, &[("authorization", &bearer)])),
    ));

    let report: Vec<String> = measured
        .iter()
        .map(|(n, c)| format!("{n}={c} (budget {})", budget(&org, n)))
        .collect();
    eprintln!("statements per request: {}", report.join(", "));
    for (name, n) in &measured {
        assert!(*n > 0, "{name}: the store counted no statement at all");
        assert!(
            *n <= budget(&org, name),
            "{name} ran {n} SQL statements, over its budget of {} on {}; all: {}",
            budget(&org, name),
            org.database,
            report.join(", ")
        );
    }
}
