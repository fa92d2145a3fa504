//! examples/Jenkinsfile, run as Jenkins would run it: its `sh` steps in order,
//! with the environment its `parameters` and `environment` blocks give, each in
//! `sh -xe` from the workspace, and the Approval/Apply stages only when the plan
//! step's exit code said there are changes. Every run starts in a fresh
//! workspace, as on an ephemeral agent, so state must come from the S3
//! backend. Results are read back through the AWS SDK.

mod common;
#[path = "common/aws.rs"]
mod emulator;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use emulator::{emulator_env, lock_table, s3, sdk, unique};

const JENKINSFILE: &str = include_str!("../examples/Jenkinsfile");

/// One `sh` step and the stage it belongs to.
#[derive(Debug)]
struct Step {
    stage: String,
    script: String,
    /// `sh(script: ..., returnStatus: true)`: the exit code is the result, not a failure.
    return_status: bool,
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// The `sh` steps of a declarative pipeline, in file order.
fn steps(jenkinsfile: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut stage = String::new();
    let mut lines = jenkinsfile.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if let Some(name) = between(line, "stage('", "')") {
            stage = name.to_owned();
        } else if line.starts_with("post {") {
            stage = "post".to_owned();
        } else if line == "sh '''" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "'''").collect();
            steps.push(Step {
                stage: stage.clone(),
                script: body.join("\n"),
                return_status: false,
            });
        } else if let Some(script) = between(line, "sh(script: '", "', returnStatus: true)") {
            steps.push(Step {
                stage: stage.clone(),
                script: script.to_owned(),
                return_status: true,
            });
        } else if let Some(rest) = line.strip_prefix("sh '") {
            let script = rest
                .strip_suffix('\'')
                .expect("a one-line sh step ends with '");
            steps.push(Step {
                stage: stage.clone(),
                script: script.to_owned(),
                return_status: false,
            });
        }
    }
    steps
}

/// The environment a build gets: `environment { K = 'v' | "${params.P}" |
/// credentials('ID') }`, with parameters from their defaults overridden by
/// `params`; a "Secret text" credential binds as `secret-of-<ID>`.
fn build_env(jenkinsfile: &str, params: &BTreeMap<&str, String>) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = jenkinsfile
        .lines()
        .filter_map(|l| {
            let name = between(l, "string(name: '", "'")?;
            let default = between(l, "defaultValue: '", "'")?;
            Some((name.to_owned(), default.to_owned()))
        })
        .collect();
    for (k, v) in params {
        assert!(
            values.contains_key(*k),
            "the Jenkinsfile has no parameter {k}"
        );
        values.insert((*k).to_owned(), v.clone());
    }
    // The block ends at its own closing brace, on a line by itself.
    let block = between(jenkinsfile, "environment {", "\n    }").expect("an environment block");
    block
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| {
            let v = v.trim();
            let value = match (
                between(v, "\"${params.", "}\""),
                between(v, "credentials('", "')"),
            ) {
                (Some(p), _) => values[p].clone(),
                (None, Some(id)) => format!("secret-of-{id}"),
                (None, None) => v.trim_matches('\'').to_owned(),
            };
            (k.trim().to_owned(), value)
        })
        .collect()
}

/// One build in a fresh workspace holding the repository's stack. Returns the
/// plan step's exit code.
fn build(params: &BTreeMap<&str, String>) -> (i32, tempfile::TempDir) {
    let workspace = tempfile::tempdir().unwrap();
    let stack_dir = workspace.path().join("examples");
    std::fs::create_dir(&stack_dir).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stack.hcl"),
        stack_dir.join("stack.hcl"),
    )
    .unwrap();
    let bin_dir = Path::new(common::binary()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = build_env(JENKINSFILE, params);
    let mut plan_code = None;
    for step in steps(JENKINSFILE) {
        let gated = matches!(step.stage.as_str(), "Approval" | "Apply");
        if gated && plan_code != Some(2) {
            continue;
        }
        let mut sh = Command::new("sh");
        sh.args(["-xe", "-c", &step.script])
            .current_dir(workspace.path())
            .env("PATH", &path)
            .env_remove("DUMCEL_LOG")
            .envs(&env);
        let out = emulator_env(&mut sh).output().expect("run sh");
        let code = out.status.code().unwrap_or(-1);
        let log = format!(
            "stage {} step {:?}: exit {code}\n{}\n{}",
            step.stage,
            step.script,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if step.return_status {
            assert!(code == 0 || code == 2, "{log}");
            plan_code = Some(code);
        } else {
            assert_eq!(code, 0, "{log}");
        }
    }
    (plan_code.expect("the pipeline has a plan step"), workspace)
}

fn plan_json(workspace: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(workspace.join("plan.json")).expect("plan.json archived");
    serde_json::from_str(&text).expect("plan.json is JSON")
}

async fn service_image(ecs: &aws_sdk_ecs::Client, cluster: &str) -> String {
    let services = ecs
        .describe_services()
        .cluster(cluster)
        .services("app")
        .send()
        .await
        .unwrap();
    let td = services.services()[0].task_definition().unwrap().to_owned();
    let td = ecs
        .describe_task_definition()
        .task_definition(td)
        .send()
        .await
        .unwrap();
    td.task_definition().unwrap().container_definitions()[0]
        .image()
        .unwrap()
        .to_owned()
}

#[test]
fn the_pipeline_has_its_stages_in_order() {
    let stages: Vec<String> = steps(JENKINSFILE).into_iter().map(|s| s.stage).collect();
    assert_eq!(
        stages,
        [
            "Init", "Validate", "Validate", "Plan", "Plan", "Apply", "post"
        ]
    );
    // Approval and Apply only run when the plan found changes.
    assert_eq!(
        JENKINSFILE
            .matches("when { environment name: 'HAS_CHANGES', value: 'true' }")
            .count(),
        2
    );
    assert!(JENKINSFILE.contains("input message:"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_plans_and_applies_the_stack_with_state_in_s3() {
    let c = sdk().await;
    let name = unique("jk");
    let bucket = format!("{name}-state");
    let table = format!("{name}-locks");
    s3(&c).create_bucket().bucket(&bucket).send().await.unwrap();
    lock_table(&c, &table).await;
    let mut params = BTreeMap::from([
        ("STACK_NAME", name.clone()),
        ("IMAGE_TAG", "v1".to_owned()),
        ("STATE_BUCKET", bucket.clone()),
        ("LOCK_TABLE", table.clone()),
    ]);

    // First build: everything is created.
    let (code, ws) = build(&params);
    assert_eq!(code, 2);
    let plan = plan_json(ws.path());
    assert_eq!(plan["has_changes"], true);
    let service = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "aws_ecs_service.app")
        .expect("the service is in the plan");
    assert_eq!(service["change"]["actions"], serde_json::json!(["create"]));
    let ecs = aws_sdk_ecs::Client::new(&c);
    assert!(service_image(&ecs, &name).await.ends_with(":v1"));
    let key = format!("stacks/{name}.tfstate");
    s3(&c)
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .expect("the state is in S3");

    // A new agent, nothing changed: the plan says so and nothing is applied.
    let (code, ws) = build(&params);
    assert_eq!(code, 0);
    assert_eq!(plan_json(ws.path())["has_changes"], false);

    // A new image tag: applied from the saved plan. Without waiting for the
    // rollout: moto never completes a second ECS deployment (UpdateService
    // keeps the first one as PRIMARY), so the wait would time out.
    params.insert("IMAGE_TAG", "v2".to_owned());
    params.insert("WAIT_FOR_STEADY_STATE", "false".to_owned());
    let (code, ws) = build(&params);
    assert_eq!(code, 2);
    assert!(service_image(&ecs, &name).await.ends_with(":v2"));

    // Clean up from the last workspace, which has the backend block.
    let out = emulator_env(
        Command::new(common::binary())
            .args(["-chdir=examples", "destroy", "-auto-approve", "-no-color"])
            .current_dir(ws.path())
            .env("DUMCEL_VAR_name", &name)
            .env("DUMCEL_VAR_image_tag", "v2")
            .env("DUMCEL_VAR_app_secret", "secret-of-app-secret")
            .env("DUMCEL_VAR_wait_for_steady_state", "false"),
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clusters = ecs
        .describe_clusters()
        .clusters(&name)
        .send()
        .await
        .unwrap();
    assert!(
        clusters
            .clusters()
            .iter()
            .all(|c| c.status() == Some("INACTIVE"))
    );
}
