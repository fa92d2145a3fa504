//! IAM: aws_iam_role, aws_iam_policy, aws_iam_role_policy,
//! aws_iam_role_policy_attachment and data "aws_iam_policy_document",
//! end to end through the engine's plan and apply walks (as the CLI runs
//! them) against moto, checked through aws-sdk-iam.
//!
//! What moto (5.2) does not do, and these tests live with: IAM is global and
//! consistent at once (no propagation delay to wait out); trust and inline
//! policies come back URL-encoded as from AWS, but managed policy versions
//! come back as sent, not encoded; documents are stored as sent, not
//! re-serialized as AWS does (so the equivalence of a reformatted document is
//! shown by rewriting it behind dumcel's back); policy grammar is barely
//! checked (no MalformedPolicyDocument for a bad principal); permissions
//! boundaries are not checked against existing policies; the account is
//! always 123456789012.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::walk::*;
use common::*;
use dumcel_engine::provider::Provider;
use dumcel_planner::{Action, Value};
use dumcel_provider_aws::Aws;
use dumcel_state::State;

fn iam(env: &Env) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&env.sdk)
}

/// A percent-encoded document (as IAM answers trust and inline policies),
/// decoded.
fn decoded(doc: &str) -> serde_json::Value {
    if let Ok(v) = serde_json::from_str(doc) {
        return v;
    }
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = u8::from_str_radix(&doc[i + 1..i + 3], 16).expect("hex");
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    serde_json::from_slice(&out).expect("a JSON document")
}

fn stack_hcl(endpoint: &str, name: &str, path: &str, env: &str, actions: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    iam = "{endpoint}"
  }}
  default_tags {{
    tags = {{ stack = "{name}" }}
  }}
}}

data "aws_iam_policy_document" "assume" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }}
  }}
}}

resource "aws_iam_role" "app" {{
  name                  = "{name}"
  path                  = "{path}"
  description           = "the app's task role"
  assume_role_policy    = data.aws_iam_policy_document.assume.json
  force_detach_policies = true
  tags = {{
    env = "{env}"
  }}
}}

resource "aws_iam_policy" "read" {{
  name        = "{name}-read"
  path        = "/dumcel/"
  description = "read the app's bucket"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = [{actions}]
      Resource = "*"
    }}]
  }})
}}

resource "aws_iam_role_policy_attachment" "read" {{
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}}

resource "aws_iam_role_policy" "logs" {{
  name   = "logs"
  role   = aws_iam_role.app.name
  policy = "{{ \"Statement\" : [ {{ \"Resource\": \"*\",  \"Action\": [\"logs:PutLogEvents\"], \"Effect\": \"Allow\" }} ],\n  \"Version\": \"2012-10-17\" }}"
}}
"#
    )
}

fn write_stack(dir: &Path, endpoint: &str, name: &str, path: &str, env: &str, actions: &str) {
    std::fs::write(
        dir.join("main.hcl"),
        stack_hcl(endpoint, name, path, env, actions),
    )
    .expect("write main.hcl");
}

fn role_tags(role: &aws_sdk_iam::types::Role) -> BTreeMap<String, String> {
    role.tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

const ALL: &[&str] = &[
    "aws_iam_role.app",
    "aws_iam_policy.read",
    "aws_iam_role_policy_attachment.read",
    "aws_iam_role_policy.logs",
];

#[tokio::test(flavor = "multi_thread")]
async fn iam_stack_applies_drifts_imports_and_destroys() {
    let env = Env::new().await;
    let iam = iam(&env);
    let name = unique("role");
    let dir = tempfile::tempdir().unwrap();
    let get = r#""s3:GetObject""#;
    write_stack(dir.path(), &env.endpoint, &name, "/dumcel/", "one", get);

    // Apply from nothing.
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 4, "{report:?}");

    // Read back through the SDK.
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), "/dumcel/");
    assert_eq!(role.description(), Some("the app's task role"));
    let tags = role_tags(role);
    assert_eq!(tags.get("env").map(String::as_str), Some("one"));
    assert_eq!(tags.get("stack"), Some(&name), "default_tags reach IAM");
    let trust = decoded(role.assume_role_policy_document().unwrap());
    assert_eq!(
        trust,
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"}
            }]
        })
    );
    assert_eq!(attr(&state, "aws_iam_role.app", "id"), name);
    assert_eq!(attr(&state, "aws_iam_role.app", "arn"), role.arn());
    assert_eq!(
        attr(&state, "aws_iam_role.app", "unique_id"),
        role.role_id()
    );
    let policy_arn = attr(&state, "aws_iam_policy.read", "arn");
    assert_eq!(attr(&state, "aws_iam_policy.read", "id"), policy_arn);
    assert!(policy_arn.ends_with(&format!(":policy/dumcel/{name}-read")));
    let attached = iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect::<Vec<_>>(),
        vec![policy_arn.as_str()]
    );
    assert!(
        attr(&state, "aws_iam_role_policy_attachment.read", "id").starts_with(&format!("{name}-"))
    );
    let inline = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name("logs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        decoded(inline.policy_document())["Statement"][0]["Action"][0],
        "logs:PutLogEvents"
    );
    assert_eq!(
        attr(&state, "aws_iam_role_policy.logs", "id"),
        format!("{name}:logs")
    );

    // Nothing to do.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // The trust policy rewritten behind dumcel's back as the same policy in
    // other words (compact, keys reordered, lists for single values): IAM
    // now answers a different text, and that is no change.
    iam.update_assume_role_policy()
        .role_name(&name)
        .policy_document(
            r#"{"Statement":[{"Principal":{"Service":["ecs-tasks.amazonaws.com"]},"Action":["sts:AssumeRole"],"Effect":"Allow"}],"Version":"2012-10-17"}"#,
        )
        .send()
        .await
        .unwrap();
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&again),
        BTreeMap::new(),
        "an equivalent trust policy is no drift"
    );

    // A new policy document is a new default version; a tag changes in place.
    let both = r#""s3:GetObject", "s3:ListBucket""#;
    write_stack(dir.path(), &env.endpoint, &name, "/dumcel/", "two", both);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[
            ("aws_iam_policy.read", Action::Update),
            ("aws_iam_role.app", Action::Update),
        ])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let pol = iam
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let default = pol
        .policy()
        .unwrap()
        .default_version_id()
        .unwrap()
        .to_owned();
    assert_eq!(default, "v2");
    let version = iam
        .get_policy_version()
        .policy_arn(&policy_arn)
        .version_id(&default)
        .send()
        .await
        .unwrap();
    let doc = decoded(version.policy_version().unwrap().document().unwrap());
    assert_eq!(
        doc["Statement"][0]["Action"],
        serde_json::json!(["s3:GetObject", "s3:ListBucket"])
    );
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    assert_eq!(
        role_tags(role.role().unwrap())
            .get("env")
            .map(String::as_str),
        Some("two")
    );
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // The path replaces the role. As in Terraform, the attachment and the
    // inline policy name the role by its unchanged name, so they are not
    // replaced with it: force_detach_policies lets the old role go, and the
    // next plan finds them gone and makes them again.
    let old_unique = attr(&state, "aws_iam_role.app", "unique_id");
    write_stack(dir.path(), &env.endpoint, &name, "/dumcel/v2/", "two", both);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[("aws_iam_role.app", Action::Replace)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    assert_eq!(role.role().unwrap().path(), "/dumcel/v2/");
    assert_ne!(role.role().unwrap().role_id(), old_unique);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[
            ("aws_iam_role_policy.logs", Action::Create),
            ("aws_iam_role_policy_attachment.read", Action::Create),
        ])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // The inline policy deleted behind dumcel's back: the plan puts it back.
    iam.delete_role_policy()
        .role_name(&name)
        .policy_name("logs")
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[("aws_iam_role_policy.logs", Action::Create)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    iam.get_role_policy()
        .role_name(&name)
        .policy_name("logs")
        .send()
        .await
        .expect("the inline policy is back");

    // Import: forget each object, bring it back with an `import` block by
    // Terraform's import id. The role's force_detach_policies is not IAM's
    // to tell (imported as false, as Terraform does), so it alone changes.
    let import_id = |a: &str| -> String {
        match a {
            "aws_iam_role.app" => name.clone(),
            "aws_iam_policy.read" => policy_arn.clone(),
            "aws_iam_role_policy_attachment.read" => format!("{name}/{policy_arn}"),
            "aws_iam_role_policy.logs" => format!("{name}:logs"),
            other => panic!("{other}"),
        }
    };
    let blocks: String = ALL
        .iter()
        .map(|a| format!("import {{\n  to = {a}\n  id = \"{}\"\n}}\n", import_id(a)))
        .collect();
    std::fs::write(dir.path().join("imports.hcl"), blocks).unwrap();
    let before = state.clone();
    let mut forgotten = state;
    for a in ALL {
        forgotten.resources.remove(*a);
    }
    let (stack, p) = plan_of(dir.path(), &forgotten, false).await;
    for a in ALL {
        let c = p
            .plan
            .changes
            .iter()
            .find(|c| c.address == *a)
            .unwrap_or_else(|| panic!("no change for {a}"));
        assert_eq!(c.importing.as_deref(), Some(import_id(a).as_str()), "{a}");
        let expected = if *a == "aws_iam_role.app" {
            Action::Update
        } else {
            Action::NoOp
        };
        assert_eq!(
            c.action, expected,
            "{a}: before {:?}\nafter {:?}",
            c.before, c.after
        );
    }
    let (state, _) = apply_plan(stack, p, forgotten, false).await;
    for a in [
        "aws_iam_role.app",
        "aws_iam_policy.read",
        "aws_iam_role_policy.logs",
    ] {
        assert_eq!(attr(&state, a, "id"), attr(&before, a, "id"), "{a}");
    }
    assert_eq!(
        attr(&state, "aws_iam_role_policy_attachment.read", "id"),
        format!("{name}-{policy_arn}"),
        "Terraform's id for an imported attachment"
    );
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Destroy leaves nothing.
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, 4, "{report:?}");
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let gone = iam.get_role().role_name(&name).send().await;
    assert!(
        gone.unwrap_err()
            .into_service_error()
            .is_no_such_entity_exception()
    );
    let roles = iam.list_roles().send().await.unwrap();
    assert!(roles.roles().iter().all(|r| r.role_name() != name));
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(
        policies
            .policies()
            .iter()
            .all(|p| p.arn() != Some(policy_arn.as_str()))
    );
}

fn v(text: &str) -> Value {
    Value::string(text)
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// What the stack above does not show: the five-version limit, a role that
/// still has policies without force_detach_policies (IAM's DeleteConflict),
/// a role deleted behind dumcel's back, `find` after a cut-off create, and
/// the errors of wrong import ids.
#[tokio::test(flavor = "multi_thread")]
async fn iam_versions_conflicts_gone_roles_and_find() {
    let env = Env::new().await;
    let iam = iam(&env);

    // A managed policy changed six times keeps IAM's five versions at most,
    // the newest the default.
    let prt = env.resource("aws_iam_policy");
    let doc = |action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    let pname = unique("pol");
    let cfg = planned(
        prt.as_ref(),
        obj(&[("name", v(&pname)), ("policy", v(&doc("s3:Get0")))]),
    );
    found_nothing(prt.as_ref(), &cfg).await;
    let mut pol = prt.create(&cfg).await.expect("create policy");
    assert_eq!(s(&found(prt.as_ref(), &cfg).await, "arn"), s(&pol, "arn"));
    assert_eq!(pol.get("path"), Some(&v("/")));
    for i in 1..=6 {
        let next = set(&pol, "policy", v(&doc(&format!("s3:Get{i}"))));
        pol = prt.update(&pol, &next).await.expect("new version");
    }
    let arn = s(&pol, "arn");
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 5);
    let default = versions
        .versions()
        .iter()
        .find(|x| x.is_default_version())
        .and_then(|x| x.version_id())
        .unwrap()
        .to_owned();
    assert_eq!(default, "v7");
    assert_eq!(prt.read(&pol).await.unwrap().unwrap(), pol, "no drift");

    // A role with the policy attached and an inline one, without
    // force_detach_policies: IAM refuses to delete it, and says why.
    let rrt = env.resource("aws_iam_role");
    let rname = unique("role");
    let rcfg = planned(
        rrt.as_ref(),
        obj(&[("name", v(&rname)), ("assume_role_policy", v(TRUST))]),
    );
    found_nothing(rrt.as_ref(), &rcfg).await;
    let role = rrt.create(&rcfg).await.expect("create role");
    assert_eq!(s(&found(rrt.as_ref(), &rcfg).await, "arn"), s(&role, "arn"));
    assert_eq!(rrt.read(&role).await.unwrap().unwrap(), role, "no drift");
    let art = env.resource("aws_iam_role_policy_attachment");
    let acfg = planned(
        art.as_ref(),
        obj(&[("role", v(&rname)), ("policy_arn", v(&arn))]),
    );
    found_nothing(art.as_ref(), &acfg).await;
    let att = art.create(&acfg).await.expect("attach");
    assert!(found(art.as_ref(), &acfg).await.get("id").is_some());
    let irt = env.resource("aws_iam_role_policy");
    let icfg = planned(
        irt.as_ref(),
        obj(&[
            ("role", v(&rname)),
            ("name", v("inline")),
            ("policy", v(&doc("logs:*"))),
        ]),
    );
    found_nothing(irt.as_ref(), &icfg).await;
    let inline = irt.create(&icfg).await.expect("inline");
    let err = rrt.delete(&role).await.unwrap_err();
    assert!(
        err.message.contains("DeleteConflict") && err.message.contains("detach"),
        "{}",
        err.message
    );
    // With it, destroy detaches and deletes them first.
    let forced = set(&role, "force_detach_policies", Value::Bool(true));
    rrt.delete(&forced).await.expect("forced delete");
    assert!(rrt.read(&role).await.unwrap().is_none(), "the role is gone");
    assert!(
        art.read(&att).await.unwrap().is_none(),
        "its attachment too"
    );
    assert!(
        irt.read(&inline).await.unwrap().is_none(),
        "its inline policy too"
    );
    // Deleting what is already gone succeeds.
    art.delete(&att).await.expect("detach a gone attachment");
    irt.delete(&inline)
        .await
        .expect("delete a gone inline policy");
    rrt.delete(&role).await.expect("delete a gone role");

    // A role deleted behind dumcel's back reads as gone; a name_prefix
    // role gets Terraform's generated name.
    let pcfg = planned(
        rrt.as_ref(),
        obj(&[
            ("name_prefix", v("dumcel-")),
            ("assume_role_policy", v(TRUST)),
        ]),
    );
    let prefixed = rrt.create(&pcfg).await.expect("prefixed role");
    let generated = s(&prefixed, "name");
    assert!(generated.starts_with("dumcel-") && generated.len() == "dumcel-".len() + 25);
    assert!(
        rrt.find(&before_create(&pcfg)).await.is_err(),
        "a generated name cannot be told"
    );
    iam.delete_role()
        .role_name(&generated)
        .send()
        .await
        .unwrap();
    assert!(rrt.read(&prefixed).await.unwrap().is_none());

    // Imports by the wrong id, or of nothing, say so.
    assert!(rrt.import("no-such-role-here").await.is_err());
    assert!(
        prt.import(&pname)
            .await
            .unwrap_err()
            .message
            .contains("ARN")
    );
    assert!(irt.import("no-colon").await.is_err());
    assert!(art.import("no-slash").await.is_err());

    prt.delete(&pol).await.expect("delete policy");
    assert!(prt.read(&pol).await.unwrap().is_none());
}

/// The policy document data source through the provider: pure (no moto
/// needed), and the trust policy the stack above renders.
#[tokio::test]
async fn policy_document_renders_terraforms_json() {
    let aws = Aws::new();
    let ds = aws
        .data_sources()
        .into_iter()
        .find(|(n, _)| *n == "aws_iam_policy_document")
        .map(|(_, d)| d)
        .unwrap();
    let principals = obj(&[
        ("type", v("Service")),
        (
            "identifiers",
            Value::List(vec![v("ecs-tasks.amazonaws.com")]),
        ),
    ]);
    let stmt = obj(&[
        ("actions", Value::List(vec![v("sts:AssumeRole")])),
        ("principals", Value::List(vec![principals])),
    ]);
    let got = ds
        .read(&obj(&[("statement", Value::List(vec![stmt]))]))
        .await
        .unwrap();
    assert_eq!(
        s(&got, "json"),
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"sts:AssumeRole\",\n      \"Principal\": {\n        \"Service\": \"ecs-tasks.amazonaws.com\"\n      }\n    }\n  ]\n}"
    );
    assert_eq!(
        s(&got, "minified_json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ecs-tasks.amazonaws.com"}}]}"#
    );
    assert!(s(&got, "id").parse::<u32>().is_ok());
}
