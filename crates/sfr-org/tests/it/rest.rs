//! The REST calls sf makes after login, and REST errors.

use super::*;

struct Logged {
    org: TestOrg,
    auth: String,
    user: sfr_org::model::User,
}

fn logged() -> Logged {
    let org = TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(TestApp::web("Demo"));
    let t = org.web_login("Demo", "std@example.com");
    let auth = format!("Bearer {}", s(&t, "access_token"));
    let user = org.user("std@example.com");
    Logged { org, auth, user }
}

fn q(text: &str) -> String {
    sfr_wire::encoding::stringify([("q", text)])
}

#[test]
fn versions_need_no_auth() {
    let org = TestOrg::new();
    for path in ["/services/data", "/services/data/"] {
        let resp = org.get(path, &[]);
        assert_eq!(resp.status, 200);
        let list = resp.json();
        let versions: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions.first(), Some(&"31.0"));
        assert_eq!(versions.last(), Some(&"66.0"));
        assert!(versions.iter().all(|v| v.len() == 4 && v.ends_with(".0")));
        assert_eq!(list[35]["url"], "/services/data/v66.0");
        assert_eq!(list[35]["label"], "Spring '26");
    }
}

#[test]
fn the_calls_sf_makes() {
    let Logged { org, auth, user } = logged();
    let h = [
        ("authorization", auth.as_str()),
        ("user-agent", "sfdx toolbelt:"),
    ];
    // sobjects/User at v51.0
    let resp = org.get(
        &format!("/services/data/v51.0/sobjects/User/{}", user.id),
        &h,
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let u = resp.json();
    assert_eq!(u["Username"], "std@example.com");
    assert_eq!(u["Id"], user.id.as_str());
    assert_eq!(u["attributes"]["type"], "User");
    assert_eq!(u["IsActive"], true);
    assert_eq!(u["ProfileId"], user.profile.id.as_str());
    assert!(
        resp.header("sforce-limit-info")
            .unwrap()
            .starts_with("api-usage=")
    );
    assert!(
        resp.header("sforce-limit-info")
            .unwrap()
            .ends_with("/15000")
    );
    // Dev Hub probe.
    let resp = org.get(
        &format!(
            "/services/data/v51.0/query?{}",
            q("SELECT Id FROM ScratchOrgInfo limit 1")
        ),
        &h,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json(),
        serde_json::json!({"totalSize": 0, "done": true, "records": []})
    );
    // Organization query.
    let text = "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization";
    let resp = org.get(&format!("/services/data/v66.0/query?{}", q(text)), &h);
    assert_eq!(resp.status, 200);
    let o = resp.json();
    assert_eq!(o["totalSize"], 1);
    let r = &o["records"][0];
    assert_eq!(r["IsSandbox"], false);
    assert!(r["TrialExpirationDate"].is_null() && r["NamespacePrefix"].is_null());
    assert_eq!(r["OrganizationType"], "Developer Edition");
    assert_eq!(r["attributes"]["type"], "Organization");
    // Tooling SandboxProcess.
    let org15 = &org.state().config.org_id.to_string()[..15];
    let text = format!(
        "SELECT Id,Status,SandboxName,SandboxInfoId,LicenseType,CreatedDate,CopyProgress,SandboxOrganization,SourceId,Description,EndDate,Features FROM SandboxProcess WHERE SandboxOrganization='{org15}' ORDER BY CreatedDate DESC"
    );
    let resp = org.get(
        &format!("/services/data/v66.0/tooling/query?{}", q(&text)),
        &h,
    );
    assert_eq!(resp.status, 200);
    let v = resp.json();
    assert_eq!(
        (v["size"].clone(), v["totalSize"].clone(), v["done"].clone()),
        (0.into(), 0.into(), true.into())
    );
    assert_eq!(v["records"], serde_json::json!([]));
    // Version resource map with identity.
    let resp = org.get("/services/data/v66.0", &h);
    assert_eq!(resp.status, 200);
    let m = resp.json();
    assert_eq!(m["sobjects"], "/services/data/v66.0/sobjects");
    assert!(s(&m, "identity").ends_with(user.id.as_str()));
    assert_eq!(org.get("/services/data/v66.0/sobjects", &h).status, 200);
}

#[test]
fn dev_hub_off_means_invalid_type() {
    let Logged { org, auth, .. } = logged();
    org.store()
        .update_org(&sfr_org::model::OrgSettingsUpdate {
            dev_hub: Some(false),
            ..Default::default()
        })
        .unwrap();
    let resp = org.get(
        &format!(
            "/services/data/v51.0/query?{}",
            q("SELECT Id FROM ScratchOrgInfo limit 1")
        ),
        &[("authorization", &auth)],
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()[0]["errorCode"], "INVALID_TYPE");
}

#[test]
fn errors() {
    let Logged { org, auth, .. } = logged();
    let h = [("authorization", auth.as_str())];
    let resp = org.get(
        &format!("/services/data/v66.0/query?{}", q("SELECT Id FROM Account")),
        &h,
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()[0]["errorCode"], "MALFORMED_QUERY");
    let resp = org.get(&format!("/services/data/v66.0/query?{}", q("garbage")), &h);
    assert_eq!(resp.json()[0]["errorCode"], "MALFORMED_QUERY");
    let resp = org.get("/services/data/v66.0/query", &h);
    assert_eq!(resp.status, 400);
    let resp = org.get("/services/data/v66.0/nothing/here", &h);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()[0]["errorCode"], "NOT_FOUND");
    assert_eq!(org.get("/services/data/v99.0/", &h).status, 404);
    assert_eq!(
        org.get("/services/data/v51.0/sobjects/User/005000000000999AAA", &h)
            .status,
        404
    );
    assert_eq!(org.get("/nowhere", &[]).status, 404);
    // No or bad token: the exact 401 array.
    for headers in [
        vec![],
        vec![("authorization", "Bearer 00D000000000001!nope")],
        vec![("authorization", "Bearer")],
    ] {
        let resp = org.get("/services/data/v66.0/sobjects", &headers);
        assert_eq!(resp.status, 401);
        assert_eq!(
            resp.body,
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
        );
    }
}

#[test]
fn a_token_without_api_scope_is_not_for_rest() {
    let org = TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(TestApp::web("WebOnly").scopes("web refresh_token"));
    let t = org.web_login("WebOnly", "std@example.com");
    let resp = org.get(
        "/services/data/v66.0",
        &[(
            "authorization",
            &format!("Bearer {}", s(&t, "access_token")),
        )],
    );
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.json()[0]["message"],
        "This session is not valid for use with the REST API"
    );
}
