//! CloudWatch Logs, ECR lifecycle policies, Secrets Manager and SSM:
//! aws_cloudwatch_log_group, aws_ecr_lifecycle_policy,
//! aws_secretsmanager_secret, aws_secretsmanager_secret_version and
//! aws_ssm_parameter, end to end through the engine's plan and apply walks
//! (as the CLI runs them) against moto, checked through the AWS SDK.
//!
//! What moto (5.2) does not do, and these tests live with: CloudWatch Logs
//! has no AssociateKmsKey / DisassociateKmsKey (a changed `kms_key_id` cannot
//! be applied there) and ignores `logGroupClass` (every group reads as
//! STANDARD); the KMS key ids given are not checked. ECR stores a lifecycle
//! policy as sent, not re-serialized as ECR does (so the equivalence of a
//! reformatted policy is shown by rewriting it behind dumcel's back). Secrets
//! Manager deletes at once (a forced delete is not asynchronous) and does not
//! check resource policy principals; GetSecretValue without a version or
//! label answers the version it last made current itself, not the one
//! UpdateSecretVersionStage moved AWSCURRENT to (so the tests ask by label). SSM refuses names that begin with
//! "ssm" even as a path (`/ssm-x/...`), and does not check `allowed_pattern`,
//! KMS keys, or tier limits, and never quotes a value back in an error; the
//! taking out of a quoted value is covered by a unit test in ssm_parameter.rs.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::walk::*;
use common::*;
use dumcel_engine::plan::Planned;
use dumcel_planner::render::{RenderOptions, human_plan, json_plan};
use dumcel_planner::{Action, Value};
use dumcel_state::State;

fn logs(env: &Env) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&env.sdk)
}

fn secrets(env: &Env) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&env.sdk)
}

fn ssm(env: &Env) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&env.sdk)
}

fn provider_hcl(endpoint: &str, stack: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    ecr            = "{endpoint}"
    logs           = "{endpoint}"
    secretsmanager = "{endpoint}"
    ssm            = "{endpoint}"
  }}
  default_tags {{
    tags = {{ stack = "{stack}" }}
  }}
}}
"#
    )
}

fn write(dir: &Path, hcl: String) {
    std::fs::write(dir.join("main.hcl"), hcl).expect("write main.hcl");
}

fn write_imports(dir: &Path, pairs: &[(&str, String)]) {
    let blocks: String = pairs
        .iter()
        .map(|(a, id)| format!("import {{\n  to = {a}\n  id = \"{id}\"\n}}\n"))
        .collect();
    std::fs::write(dir.join("imports.hcl"), blocks).expect("write imports.hcl");
}

/// The plan as `dumcel plan` and `dumcel plan -json` print it.
fn rendered(p: &Planned) -> String {
    format!(
        "{}\n{}",
        human_plan(&p.plan, &RenderOptions::default()),
        json_plan(&p.plan)
    )
}

/// The change planned for `address`.
fn change<'a>(p: &'a Planned, address: &str) -> &'a dumcel_planner::ResourceChange {
    p.plan
        .changes
        .iter()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

fn forget(state: &State, addresses: &[&str]) -> State {
    let mut s = state.clone();
    for a in addresses {
        s.resources.remove(*a);
    }
    s
}

// ---------------------------------------------------------------------------
// aws_cloudwatch_log_group

fn log_stack(endpoint: &str, name: &str, suffix: &str, days: u32, env: &str, skip: bool) -> String {
    format!(
        r#"{}
resource "aws_cloudwatch_log_group" "app" {{
  name              = "/dumcel/{name}{suffix}"
  retention_in_days = {days}
  kms_key_id        = "arn:aws:kms:us-east-1:123456789012:key/{name}"
  tags = {{
    env = "{env}"
  }}
}}

resource "aws_cloudwatch_log_group" "prefixed" {{
  name_prefix  = "{name}-"
  skip_destroy = {skip}
}}
"#,
        provider_hcl(endpoint, name)
    )
}

async fn log_group(
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
) -> Option<aws_sdk_cloudwatchlogs::types::LogGroup> {
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .unwrap();
    out.log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .cloned()
}

async fn log_tags(logs: &aws_sdk_cloudwatchlogs::Client, arn: &str) -> BTreeMap<String, String> {
    let out = logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_groups_apply_drift_import_and_destroy() {
    let env = Env::new().await;
    let logs = logs(&env);
    let name = unique("lg");
    let group = format!("/dumcel/{name}");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        log_stack(&env.endpoint, &name, "", 7, "one", false),
    );

    // Apply from nothing; read back through the SDK.
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 2, "{report:?}");
    let g = log_group(&logs, &group).await.expect("the group exists");
    assert_eq!(g.retention_in_days(), Some(7));
    assert_eq!(
        g.kms_key_id(),
        Some(format!("arn:aws:kms:us-east-1:123456789012:key/{name}").as_str())
    );
    let arn = attr(&state, "aws_cloudwatch_log_group.app", "arn");
    assert_eq!(attr(&state, "aws_cloudwatch_log_group.app", "id"), group);
    assert!(
        arn.ends_with(&format!(":log-group:{group}")),
        "no :* suffix: {arn}"
    );
    let tags = log_tags(&logs, &arn).await;
    assert_eq!(tags.get("env").map(String::as_str), Some("one"));
    assert_eq!(
        tags.get("stack"),
        Some(&name),
        "default_tags reach the group"
    );
    let generated = attr(&state, "aws_cloudwatch_log_group.prefixed", "name");
    assert!(
        generated.starts_with(&format!("{name}-")) && generated.len() == name.len() + 1 + 25,
        "{generated}"
    );
    assert!(log_group(&logs, &generated).await.is_some());

    // Nothing to do.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Retention and tags change in place.
    write(
        dir.path(),
        log_stack(&env.endpoint, &name, "", 14, "two", false),
    );
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[("aws_cloudwatch_log_group.app", Action::Update)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let g = log_group(&logs, &group).await.unwrap();
    assert_eq!(g.retention_in_days(), Some(14));
    assert_eq!(
        log_tags(&logs, &arn).await.get("env").map(String::as_str),
        Some("two")
    );

    // Drift: retention and a tag changed behind dumcel's back. The plan
    // finds both; apply puts them back.
    logs.put_retention_policy()
        .log_group_name(&group)
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    logs.tag_resource()
        .resource_arn(&arn)
        .tags("rogue", "yes")
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[("aws_cloudwatch_log_group.app", Action::Update)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(
        log_group(&logs, &group).await.unwrap().retention_in_days(),
        Some(14)
    );
    assert!(!log_tags(&logs, &arn).await.contains_key("rogue"));
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Retention 0 is "never expire": the policy is removed.
    write(
        dir.path(),
        log_stack(&env.endpoint, &name, "", 0, "two", false),
    );
    let (state, _) = plan_apply(dir.path(), state, false).await;
    assert_eq!(
        log_group(&logs, &group).await.unwrap().retention_in_days(),
        None
    );

    // Deleted behind dumcel's back: made again.
    logs.delete_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[("aws_cloudwatch_log_group.app", Action::Create)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert!(log_group(&logs, &group).await.is_some());

    // A new name replaces the group.
    let renamed = format!("{group}-v2");
    write(
        dir.path(),
        log_stack(&env.endpoint, &name, "-v2", 0, "two", true),
    );
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[
            ("aws_cloudwatch_log_group.app", Action::Replace),
            ("aws_cloudwatch_log_group.prefixed", Action::Update),
        ]),
        "skip_destroy is only dumcel's: it changes in place"
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert!(
        log_group(&logs, &group).await.is_none(),
        "the old group is gone"
    );
    assert!(log_group(&logs, &renamed).await.is_some());

    // Import both by name: nothing left to change but skip_destroy, which is
    // not AWS's to tell (imported as false, as Terraform does).
    let all = [
        "aws_cloudwatch_log_group.app",
        "aws_cloudwatch_log_group.prefixed",
    ];
    write_imports(
        dir.path(),
        &[(all[0], renamed.clone()), (all[1], generated.clone())],
    );
    let (stack, p) = plan_of(dir.path(), &forget(&state, &all), false).await;
    assert_eq!(
        change(&p, all[0]).importing.as_deref(),
        Some(renamed.as_str())
    );
    assert_eq!(
        change(&p, all[0]).action,
        Action::NoOp,
        "{:?}",
        change(&p, all[0])
    );
    assert_eq!(
        change(&p, all[1]).action,
        Action::Update,
        "name_prefix comes back from the generated name, so no replace: {:?}",
        change(&p, all[1])
    );
    let (state, _) = apply_plan(stack, p, forget(&state, &all), false).await;
    assert_eq!(attr(&state, all[0], "arn"), format!("{}-v2", arn));
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Destroy: the group goes; the skip_destroy one is only forgotten.
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, 2, "{report:?}");
    assert!(state.resources.is_empty());
    assert!(log_group(&logs, &renamed).await.is_none());
    assert!(
        log_group(&logs, &generated).await.is_some(),
        "skip_destroy keeps the group"
    );
    logs.delete_log_group()
        .log_group_name(&generated)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn log_group_errors_say_what_to_do() {
    let env = Env::new().await;
    let rt = env.resource("aws_cloudwatch_log_group");
    let bad = rt.validate(&obj(&[
        ("name", Value::string("x")),
        ("name_prefix", Value::string("y")),
        ("retention_in_days", Value::Number(8.0)),
        ("log_group_class", Value::string("COLD")),
    ]));
    let keys: Vec<&str> = bad.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["name_prefix", "retention_in_days", "log_group_class"],
        "{bad:?}"
    );
    let err = rt.import("/no/such/group/here").await.unwrap_err();
    assert!(err.message.contains("no log group"), "{}", err.message);

    // find after a cut-off create, by name.
    let name = unique("/dumcel/find");
    let cfg = planned(rt.as_ref(), obj(&[("name", Value::string(&name))]));
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    assert_eq!(s(&found(rt.as_ref(), &cfg).await, "arn"), s(&made, "arn"));
    assert_eq!(rt.read(&made).await.unwrap().unwrap(), made, "no drift");
    rt.delete(&made).await.expect("delete");
    rt.delete(&made)
        .await
        .expect("deleting a gone group succeeds");
    assert!(rt.read(&made).await.unwrap().is_none());
}

// ---------------------------------------------------------------------------
// aws_ecr_lifecycle_policy

fn ecr_stack(endpoint: &str, name: &str, policy: &str) -> String {
    format!(
        r#"{}
resource "aws_ecr_repository" "app" {{
  name = "{name}"
}}

resource "aws_ecr_lifecycle_policy" "app" {{
  repository = aws_ecr_repository.app.name
  policy     = {policy}
}}
"#,
        provider_hcl(endpoint, name)
    )
}

/// Two rules, as a heredoc (Terraform's docs write it so).
fn heredoc(days: u32) -> String {
    format!(
        r#"<<EOF
{{
  "rules": [
    {{
      "rulePriority": 1,
      "description": "Expire untagged images older than {days} days",
      "selection": {{
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": {days}
      }},
      "action": {{ "type": "expire" }}
    }},
    {{
      "rulePriority": 2,
      "description": "Keep the last 30 releases",
      "selection": {{
        "tagStatus": "tagged",
        "tagPrefixList": ["v", "release"],
        "countType": "imageCountMoreThan",
        "countNumber": 30
      }},
      "action": {{ "type": "expire" }}
    }}
  ]
}}
EOF"#
    )
}

/// The same policy through jsonencode: rules in another order, keys sorted,
/// the tag prefixes reordered.
fn encoded(days: u32) -> String {
    format!(
        r#"jsonencode({{
    rules = [
      {{
        action       = {{ type = "expire" }}
        description  = "Keep the last 30 releases"
        rulePriority = 2
        selection = {{
          countNumber   = 30
          countType     = "imageCountMoreThan"
          tagPrefixList = ["release", "v"]
          tagStatus     = "tagged"
        }}
      }},
      {{
        action       = {{ type = "expire" }}
        description  = "Expire untagged images older than {days} days"
        rulePriority = 1
        selection = {{
          countNumber = {days}
          countType   = "sinceImagePushed"
          countUnit   = "days"
          tagStatus   = "untagged"
        }}
      }}
    ]
  }})"#
    )
}

async fn lifecycle_text(ecr: &aws_sdk_ecr::Client, repo: &str) -> Option<serde_json::Value> {
    match ecr
        .get_lifecycle_policy()
        .repository_name(repo)
        .send()
        .await
    {
        Ok(out) => Some(serde_json::from_str(out.lifecycle_policy_text().unwrap()).unwrap()),
        Err(e) => {
            let e = e.into_service_error();
            assert!(e.is_lifecycle_policy_not_found_exception(), "{e:?}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ecr_lifecycle_policy_applies_drifts_imports_and_destroys() {
    let env = Env::new().await;
    let ecr = env.ecr();
    let name = unique("lcp");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ecr_stack(&env.endpoint, &name, &heredoc(14)));

    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 2, "{report:?}");
    let live = lifecycle_text(&ecr, &name).await.expect("a policy");
    assert_eq!(live["rules"][0]["selection"]["countNumber"], 14);
    assert_eq!(live["rules"][1]["selection"]["tagPrefixList"][1], "release");
    let addr = "aws_ecr_lifecycle_policy.app";
    assert_eq!(attr(&state, addr, "id"), name);
    assert_eq!(
        attr(&state, addr, "registry_id"),
        attr(&state, "aws_ecr_repository.app", "registry_id")
    );

    // The same policy written otherwise is no change.
    write(dir.path(), ecr_stack(&env.endpoint, &name, &encoded(14)));
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new(), "a reformatted policy");

    // So is ECR answering it in other words (rewritten behind dumcel's back,
    // compact, rules sorted by priority).
    let compact = r#"{"rules":[{"action":{"type":"expire"},"description":"Expire untagged images older than 14 days","rulePriority":1,"selection":{"countNumber":14,"countType":"sinceImagePushed","countUnit":"days","tagStatus":"untagged"}},{"action":{"type":"expire"},"description":"Keep the last 30 releases","rulePriority":2,"selection":{"countNumber":30,"countType":"imageCountMoreThan","tagPrefixList":["release","v"],"tagStatus":"tagged"}}]}"#;
    ecr.put_lifecycle_policy()
        .repository_name(&name)
        .lifecycle_policy_text(compact)
        .send()
        .await
        .unwrap();
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&again),
        BTreeMap::new(),
        "an equivalent live policy"
    );

    // A different policy replaces it, as in Terraform.
    write(dir.path(), ecr_stack(&env.endpoint, &name, &encoded(7)));
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Replace)]));
    assert!(
        change(&p, addr)
            .replace_because
            .contains(&"policy".to_owned())
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let live = lifecycle_text(&ecr, &name).await.expect("a policy");
    let days: Vec<_> = live["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["selection"]["countNumber"].clone())
        .collect();
    assert!(days.contains(&serde_json::json!(7)), "{live}");

    // A policy changed behind dumcel's back is drift, replaced by apply.
    let other = compact.replace("\"countNumber\":14", "\"countNumber\":99");
    ecr.put_lifecycle_policy()
        .repository_name(&name)
        .lifecycle_policy_text(other)
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Replace)]));
    let (state, _) = apply_plan(stack, p, state, false).await;

    // Deleted behind dumcel's back: put back.
    ecr.delete_lifecycle_policy()
        .repository_name(&name)
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Create)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert!(lifecycle_text(&ecr, &name).await.is_some());

    // Import by the repository's name.
    write_imports(dir.path(), &[(addr, name.clone())]);
    let (stack, p) = plan_of(dir.path(), &forget(&state, &[addr]), false).await;
    assert_eq!(change(&p, addr).importing.as_deref(), Some(name.as_str()));
    assert_eq!(
        change(&p, addr).action,
        Action::NoOp,
        "{:?}",
        change(&p, addr)
    );
    let (state, _) = apply_plan(stack, p, forget(&state, &[addr]), false).await;
    assert_eq!(attr(&state, addr, "id"), name);
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();

    // Destroy leaves nothing.
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, 2, "{report:?}");
    assert!(state.resources.is_empty());
    let gone = ecr
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await;
    assert!(
        gone.unwrap_err()
            .into_service_error()
            .is_repository_not_found_exception()
    );
}

// ---------------------------------------------------------------------------
// aws_secretsmanager_secret and aws_secretsmanager_secret_version

fn secret_stack(endpoint: &str, name: &str, suffix: &str, desc: &str, password: &str) -> String {
    format!(
        r#"{}
resource "aws_secretsmanager_secret" "db" {{
  name                    = "{name}{suffix}"
  description             = "{desc}"
  recovery_window_in_days = 0
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ AWS = "arn:aws:iam::123456789012:root" }}
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
    }}]
  }})
  tags = {{
    env = "one"
  }}
}}

resource "aws_secretsmanager_secret_version" "db" {{
  secret_id      = aws_secretsmanager_secret.db.id
  secret_string  = jsonencode({{ username = "app", password = "{password}" }})
  version_stages = ["AWSCURRENT"]
}}
"#,
        provider_hcl(endpoint, name)
    )
}

async fn current(sm: &aws_sdk_secretsmanager::Client, id: &str) -> (String, String) {
    // By label: moto answers a call without one from its own record of the
    // current version, which moving AWSCURRENT does not update.
    let out = sm
        .get_secret_value()
        .secret_id(id)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap();
    (
        out.version_id().unwrap().to_owned(),
        out.secret_string().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_apply_rotate_drift_import_and_destroy() {
    let env = Env::new().await;
    let sm = secrets(&env);
    let name = unique("sec");
    let pw1 = format!("pw1-{}", unique("s3cr3t"));
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        secret_stack(&env.endpoint, &name, "", "the db password", &pw1),
    );
    let (sa, va) = (
        "aws_secretsmanager_secret.db",
        "aws_secretsmanager_secret_version.db",
    );

    // The first plan never shows the value.
    let (stack, p) = plan_of(dir.path(), &State::new(), false).await;
    assert!(!rendered(&p).contains(&pw1), "the plan shows the secret");
    let (state, report) = apply_plan(stack, p, State::new(), false).await;
    assert_eq!(report.added, 2, "{report:?}");

    // Read back through the SDK.
    let arn = attr(&state, sa, "arn");
    assert_eq!(attr(&state, sa, "id"), arn);
    let d = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    assert_eq!(d.name(), Some(name.as_str()));
    assert_eq!(d.description(), Some("the db password"));
    let tags: BTreeMap<_, _> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert_eq!(tags.get("env").map(String::as_str), Some("one"));
    assert_eq!(tags.get("stack"), Some(&name));
    let pol = sm
        .get_resource_policy()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    let pol: serde_json::Value = serde_json::from_str(pol.resource_policy().unwrap()).unwrap();
    assert_eq!(
        pol["Statement"][0]["Action"],
        "secretsmanager:GetSecretValue"
    );
    let (v1, value) = current(&sm, &arn).await;
    let value: serde_json::Value = serde_json::from_str(&value).unwrap();
    assert_eq!(value["password"], pw1.as_str());
    assert_eq!(attr(&state, va, "id"), format!("{arn}|{v1}"));
    assert_eq!(attr(&state, va, "version_id"), v1);
    assert_eq!(attr(&state, va, "arn"), arn);

    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // A description changes in place (same ARN).
    write(
        dir.path(),
        secret_stack(&env.endpoint, &name, "", "rotated monthly", &pw1),
    );
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(sa, Action::Update)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    let d = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    assert_eq!(d.description(), Some("rotated monthly"));
    assert_eq!(attr(&state, sa, "arn"), arn);

    // A new value is a new version (replace); neither value is shown.
    let pw2 = format!("pw2-{}", unique("s3cr3t"));
    write(
        dir.path(),
        secret_stack(&env.endpoint, &name, "", "rotated monthly", &pw2),
    );
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(va, Action::Replace)]));
    assert!(
        change(&p, va)
            .replace_because
            .contains(&"secret_string".to_owned())
    );
    let text = rendered(&p);
    assert!(!text.contains(&pw1) && !text.contains(&pw2), "{text}");
    assert!(text.contains("(sensitive value)"), "{text}");
    let (state, _) = apply_plan(stack, p, state, false).await;
    let (v2, value) = current(&sm, &arn).await;
    assert_ne!(v2, v1);
    assert!(value.contains(&pw2));
    assert_eq!(attr(&state, va, "version_id"), v2);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Drift: a value put behind dumcel's back takes AWSCURRENT from our
    // version, and the description is changed. The plan moves the label back
    // (in place) without showing either value, and restores the description.
    let rogue = format!("rogue-{}", unique("s3cr3t"));
    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string(&rogue)
        .send()
        .await
        .unwrap();
    sm.update_secret()
        .secret_id(&arn)
        .description("changed by hand")
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(sa, Action::Update), (va, Action::Update)])
    );
    let text = rendered(&p);
    assert!(!text.contains(&rogue) && !text.contains(&pw2), "{text}");
    let (state, _) = apply_plan(stack, p, state, false).await;
    let (now, value) = current(&sm, &arn).await;
    assert_eq!(now, v2, "AWSCURRENT is back on our version");
    assert!(value.contains(&pw2));
    let d = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    assert_eq!(d.description(), Some("rotated monthly"));
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Import: the secret by ARN, the version by ARN|version. The secret's
    // recovery window is not AWS's to tell (imported as 30, as Terraform
    // does), so it alone changes, in place.
    let vid = format!("{arn}|{v2}");
    write_imports(dir.path(), &[(sa, arn.clone()), (va, vid.clone())]);
    let (stack, p) = plan_of(dir.path(), &forget(&state, &[sa, va]), false).await;
    assert_eq!(change(&p, sa).importing.as_deref(), Some(arn.as_str()));
    assert_eq!(change(&p, va).importing.as_deref(), Some(vid.as_str()));
    assert_eq!(
        change(&p, sa).action,
        Action::Update,
        "{:?}",
        change(&p, sa)
    );
    assert_eq!(change(&p, va).action, Action::NoOp, "{:?}", change(&p, va));
    // Both renderings: the `before` of an object being imported keeps its
    // secrets marked.
    let text = rendered(&p);
    assert!(!text.contains(&pw2), "{text}");
    let (state, _) = apply_plan(stack, p, forget(&state, &[sa, va]), false).await;
    assert_eq!(attr(&state, va, "id"), vid);
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // A new name replaces the secret, and its version with it; with
    // recovery_window_in_days = 0 the old one is deleted at once.
    write(
        dir.path(),
        secret_stack(&env.endpoint, &name, "-v2", "rotated monthly", &pw2),
    );
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(sa, Action::Replace), (va, Action::Replace)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let gone = sm.describe_secret().secret_id(&arn).send().await;
    assert!(
        gone.unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception(),
        "the old secret is deleted without recovery"
    );
    let arn2 = attr(&state, sa, "arn");
    let (_, value) = current(&sm, &arn2).await;
    assert!(value.contains(&pw2));

    // Destroy leaves nothing.
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, 2, "{report:?}");
    assert!(state.resources.is_empty());
    let gone = sm.describe_secret().secret_id(&arn2).send().await;
    assert!(
        gone.unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
}

/// What the stack above does not show: a binary value, labels moved in
/// place and taken off on destroy, a recovery window, a secret deleted
/// behind dumcel's back, and wrong import ids.
#[tokio::test(flavor = "multi_thread")]
async fn secret_versions_binary_stages_and_recovery() {
    let env = Env::new().await;
    let sm = secrets(&env);
    let srt = env.resource("aws_secretsmanager_secret");
    let vrt = env.resource("aws_secretsmanager_secret_version");

    // A secret with a recovery window and a name_prefix.
    let prefix = format!("{}-", unique("bin"));
    let scfg = planned(
        srt.as_ref(),
        obj(&[
            ("name_prefix", Value::string(&prefix)),
            ("recovery_window_in_days", Value::Number(7.0)),
        ]),
    );
    let secret = srt.create(&scfg).await.expect("create secret");
    let arn = s(&secret, "arn");
    assert!(s(&secret, "name").starts_with(&prefix));
    assert_eq!(
        srt.read(&secret).await.unwrap().unwrap(),
        secret,
        "no drift"
    );

    // A binary value, base64 in the configuration as in Terraform.
    let bytes: Vec<u8> = vec![0, 1, 2, 254, 255, b'x'];
    let b64 = "AAEC/v94";
    let vcfg = planned(
        vrt.as_ref(),
        obj(&[
            ("secret_id", Value::string(&arn)),
            ("secret_binary", Value::string(b64)),
        ]),
    );
    let version = vrt.create(&vcfg).await.expect("create version");
    let vid = s(&version, "version_id");
    let out = sm
        .get_secret_value()
        .secret_id(&arn)
        .version_id(&vid)
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_binary().unwrap().as_ref(), bytes.as_slice());
    assert_eq!(version.get("secret_binary"), Some(&Value::string(b64)));
    assert_eq!(
        version.get("version_stages"),
        Some(&Value::List(vec![Value::string("AWSCURRENT")]))
    );
    assert_eq!(
        vrt.read(&version).await.unwrap().unwrap(),
        version,
        "no drift"
    );

    // A second version, labelled "staging"; then the label moves in place.
    let second = vrt
        .create(&planned(
            vrt.as_ref(),
            obj(&[
                ("secret_id", Value::string(&arn)),
                ("secret_string", Value::string("second")),
                (
                    "version_stages",
                    Value::List(vec![Value::string("staging")]),
                ),
            ]),
        ))
        .await
        .expect("second version");
    let both = set(
        &version,
        "version_stages",
        Value::List(vec![Value::string("AWSCURRENT"), Value::string("staging")]),
    );
    let moved = vrt.update(&version, &both).await.expect("move the label");
    assert_eq!(moved.get("version_stages"), both.get("version_stages"));
    let d = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    let stages = d.version_ids_to_stages().unwrap();
    assert!(stages[&vid].contains(&"staging".to_owned()), "{stages:?}");
    let second_id = s(&second, "version_id");
    assert!(
        !stages
            .get(&second_id)
            .is_some_and(|s| s.contains(&"staging".to_owned())),
        "{stages:?}"
    );
    // Destroy takes its labels off (all but AWSCURRENT).
    vrt.delete(&moved).await.expect("delete version");
    let d = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    let stages = d.version_ids_to_stages().unwrap();
    assert_eq!(stages[&vid], vec!["AWSCURRENT".to_owned()], "{stages:?}");

    // Wrong import ids say what is wanted.
    let e = vrt.import(&arn).await.unwrap_err();
    assert!(e.message.contains("SECRET_ARN|VERSION_ID"), "{}", e.message);
    let e = srt.import(s(&secret, "name").as_str()).await.unwrap_err();
    assert!(e.message.contains("ARN"), "{}", e.message);
    let v = vrt.validate(&obj(&[
        ("secret_id", Value::string(&arn)),
        ("secret_binary", Value::string("not base64!")),
    ]));
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(!v[0].1.contains("not base64!"), "the value is not quoted");

    // Destroy with a recovery window schedules the deletion: the secret
    // reads as gone (and its versions too), but can still be restored.
    srt.delete(&secret).await.expect("schedule deletion");
    assert!(srt.read(&secret).await.unwrap().is_none());
    assert!(vrt.read(&version).await.unwrap().is_none());
    let d = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    assert!(d.deleted_date().is_some(), "scheduled, not gone");
    srt.delete(&secret)
        .await
        .expect("deleting it again succeeds");
    sm.delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// aws_ssm_parameter

fn ssm_stack(
    endpoint: &str,
    name: &str,
    secret: &str,
    plain_type: &str,
    plain: &str,
    list_suffix: &str,
) -> String {
    format!(
        r#"{}
resource "aws_ssm_parameter" "plain" {{
  name           = "/{name}/plain"
  type           = "{plain_type}"
  insecure_value = "{plain}"
  description    = "not a secret"
  tags = {{
    env = "one"
  }}
}}

resource "aws_ssm_parameter" "secret" {{
  name  = "/{name}/secret"
  type  = "SecureString"
  value = "{secret}"
  tier  = "Standard"
}}

resource "aws_ssm_parameter" "list" {{
  name  = "/{name}/list{list_suffix}"
  type  = "StringList"
  value = "a,b"
}}
"#,
        provider_hcl(endpoint, name)
    )
}

async fn param(ssm: &aws_sdk_ssm::Client, name: &str) -> Option<aws_sdk_ssm::types::Parameter> {
    match ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(out) => out.parameter().cloned(),
        Err(e) => {
            let e = e.into_service_error();
            assert!(e.is_parameter_not_found(), "{e:?}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ssm_parameters_apply_drift_import_and_destroy() {
    let env = Env::new().await;
    let ssm = ssm(&env);
    let name = unique("par");
    let pw1 = format!("pw1-{}", unique("s3cr3t"));
    let dir = tempfile::tempdir().unwrap();
    let stack_with = |secret: &str, ty: &str, plain: &str, list: &str| {
        ssm_stack(&env.endpoint, &name, secret, ty, plain, list)
    };
    write(dir.path(), stack_with(&pw1, "String", "hello", ""));
    let (plain, secret, list) = (
        "aws_ssm_parameter.plain",
        "aws_ssm_parameter.secret",
        "aws_ssm_parameter.list",
    );
    let (pname, sname, lname) = (
        format!("/{name}/plain"),
        format!("/{name}/secret"),
        format!("/{name}/list"),
    );

    let (stack, p) = plan_of(dir.path(), &State::new(), false).await;
    let text = rendered(&p);
    assert!(!text.contains(&pw1), "{text}");
    assert!(text.contains("hello"), "insecure_value is shown: {text}");
    let (state, report) = apply_plan(stack, p, State::new(), false).await;
    assert_eq!(report.added, 3, "{report:?}");

    // Read back through the SDK.
    let sp = param(&ssm, &sname).await.expect("secret parameter");
    assert_eq!(sp.value(), Some(pw1.as_str()));
    assert_eq!(sp.r#type().map(|t| t.as_str()), Some("SecureString"));
    let pp = param(&ssm, &pname).await.expect("plain parameter");
    assert_eq!(pp.value(), Some("hello"));
    let lp = param(&ssm, &lname).await.expect("list parameter");
    assert_eq!(lp.r#type().map(|t| t.as_str()), Some("StringList"));
    assert_eq!(attr(&state, secret, "id"), sname);
    assert_eq!(attr(&state, secret, "arn"), sp.arn().unwrap());
    assert_eq!(
        state.resources[secret]
            .attributes
            .get("version")
            .and_then(|v| v.as_f64()),
        Some(1.0)
    );
    assert_eq!(attr(&state, plain, "value"), "hello");
    let tags = ssm
        .list_tags_for_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id(&pname)
        .send()
        .await
        .unwrap();
    let tags: BTreeMap<_, _> = tags
        .tag_list()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    assert_eq!(tags.get("env").map(String::as_str), Some("one"));
    assert_eq!(tags.get("stack"), Some(&name));

    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // A new secret value and a new type change in place (new versions);
    // the plan shows neither the old nor the new secret.
    let pw2 = format!("pw2-{}", unique("s3cr3t"));
    write(dir.path(), stack_with(&pw2, "StringList", "x,y", ""));
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(plain, Action::Update), (secret, Action::Update)])
    );
    let text = rendered(&p);
    assert!(!text.contains(&pw1) && !text.contains(&pw2), "{text}");
    let (state, _) = apply_plan(stack, p, state, false).await;
    let sp = param(&ssm, &sname).await.unwrap();
    assert_eq!(sp.value(), Some(pw2.as_str()));
    assert_eq!(sp.version(), 2);
    let pp = param(&ssm, &pname).await.unwrap();
    assert_eq!(pp.r#type().map(|t| t.as_str()), Some("StringList"));
    assert_eq!(pp.value(), Some("x,y"));
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // A new name replaces it.
    write(dir.path(), stack_with(&pw2, "StringList", "x,y", "-v2"));
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(list, Action::Replace)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert!(param(&ssm, &lname).await.is_none());
    let lname = format!("{lname}-v2");
    assert!(param(&ssm, &lname).await.is_some());

    // Drift: the secret overwritten and the description changed behind
    // dumcel's back. The plan finds both without showing any secret; apply
    // puts them back.
    let rogue = format!("rogue-{}", unique("s3cr3t"));
    ssm.put_parameter()
        .name(&sname)
        .value(&rogue)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap();
    ssm.put_parameter()
        .name(&pname)
        .value("x,y")
        .description("changed by hand")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(plain, Action::Update), (secret, Action::Update)])
    );
    let text = rendered(&p);
    assert!(!text.contains(&rogue) && !text.contains(&pw2), "{text}");
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(
        param(&ssm, &sname).await.unwrap().value(),
        Some(pw2.as_str())
    );
    let meta = ssm
        .describe_parameters()
        .parameter_filters(
            aws_sdk_ssm::types::ParameterStringFilter::builder()
                .key("Name")
                .option("Equals")
                .values(&pname)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(meta.parameters()[0].description(), Some("not a secret"));

    // Deleted behind dumcel's back: made again.
    ssm.delete_parameter().name(&sname).send().await.unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(secret, Action::Create)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(
        param(&ssm, &sname).await.unwrap().value(),
        Some(pw2.as_str())
    );

    // Making it again over an existing one without overwrite: SSM's
    // ParameterAlreadyExists, with what to do, and never the value.
    let rt = env.resource("aws_ssm_parameter");
    let err = rt
        .create(&planned(
            rt.as_ref(),
            obj(&[
                ("name", Value::string(&sname)),
                ("type", Value::string("SecureString")),
                ("value", Value::string(&rogue)),
            ]),
        ))
        .await
        .unwrap_err();
    assert!(
        err.message.contains("ParameterAlreadyExists") && err.message.contains("import"),
        "{}",
        err.message
    );
    assert!(!err.message.contains(&rogue), "{}", err.message);

    // Import all three by name. The plain one's value comes back as
    // `value`; the configuration's `insecure_value` is recorded in place,
    // without a new version.
    let all = [plain, secret, list];
    write_imports(
        dir.path(),
        &[
            (plain, pname.clone()),
            (secret, sname.clone()),
            (list, lname.clone()),
        ],
    );
    let (stack, p) = plan_of(dir.path(), &forget(&state, &all), false).await;
    assert_eq!(
        change(&p, secret).importing.as_deref(),
        Some(sname.as_str())
    );
    assert_eq!(
        change(&p, secret).action,
        Action::NoOp,
        "{:?}",
        change(&p, secret)
    );
    assert_eq!(
        change(&p, list).action,
        Action::NoOp,
        "{:?}",
        change(&p, list)
    );
    assert_eq!(
        change(&p, plain).action,
        Action::Update,
        "{:?}",
        change(&p, plain)
    );
    // Both renderings: the `before` of an object being imported keeps its
    // secrets marked.
    let text = rendered(&p);
    assert!(!text.contains(&pw2), "{text}");
    let version = param(&ssm, &pname).await.unwrap().version();
    let (state, _) = apply_plan(stack, p, forget(&state, &all), false).await;
    assert_eq!(param(&ssm, &pname).await.unwrap().version(), version);
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Destroy leaves nothing.
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, 3, "{report:?}");
    assert!(state.resources.is_empty());
    for n in [&pname, &sname, &lname] {
        assert!(param(&ssm, n).await.is_none(), "{n} is gone");
    }
}

/// What the stack above does not show: a tier lowered from Advanced (which
/// SSM refuses in place, so the update makes the parameter again), and the
/// checks made before any call.
#[tokio::test(flavor = "multi_thread")]
async fn ssm_parameter_tiers_and_checks() {
    let env = Env::new().await;
    let ssm = ssm(&env);
    let rt = env.resource("aws_ssm_parameter");
    let name = format!("/{}/tiered", unique("par"));
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(&name)),
            ("type", Value::string("String")),
            ("value", Value::string("v1")),
            ("tier", Value::string("Advanced")),
        ]),
    );
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    assert_eq!(s(&found(rt.as_ref(), &cfg).await, "arn"), s(&made, "arn"));
    assert_eq!(rt.read(&made).await.unwrap().unwrap(), made, "no drift");
    assert_eq!(made.get("tier"), Some(&Value::string("Advanced")));
    let lower = set(&made, "tier", Value::string("Standard"));
    let lowered = rt.update(&made, &lower).await.expect("lower the tier");
    assert_eq!(lowered.get("tier"), Some(&Value::string("Standard")));
    let p = param(&ssm, &name).await.unwrap();
    assert_eq!(p.version(), 1, "made again, not a new version");
    assert_eq!(p.value(), Some("v1"));

    let bad = rt.validate(&obj(&[
        ("name", Value::string(&name)),
        ("type", Value::string("SecureString")),
        ("insecure_value", Value::string("shown")),
        ("tier", Value::string("Premium")),
    ]));
    let keys: Vec<&str> = bad.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["tier", "insecure_value"], "{bad:?}");
    let both = rt.validate(&obj(&[
        ("name", Value::string(&name)),
        ("type", Value::string("String")),
        ("value", Value::string("a")),
        ("insecure_value", Value::string("a")),
    ]));
    assert_eq!(both.len(), 1, "{both:?}");
    assert!(rt.import("/no/such/parameter").await.is_err());

    rt.delete(&lowered).await.expect("delete");
    rt.delete(&lowered)
        .await
        .expect("deleting a gone one succeeds");
    assert!(param(&ssm, &name).await.is_none());
}
