//! dev/pipeline/local.sh, as dev/demo.sh and bench/pipeline*.sh use it: the
//! daemon it starts on the Docker-host target deploys a signed push, its
//! `pipeline_wait` sees the push end, and the router serves the page. The
//! script reads the worker's log, so a renamed log line breaks the demo; this
//! test is where that shows. It also starts the deployments API, which the
//! demo calls with the token the script made.

use std::path::Path;
use std::process::Command;

const SCRIPT: &str = r#"
set -euo pipefail
. dev/env.sh
. dev/pipeline/local.sh
pipeline_setup "$WORK" "$BROKERS" 5m docker
trap 'pipeline_stop; docker ps -aq --filter "label=dumcel.project=$PIPELINE_PROJECT" | xargs -r docker rm -f >/dev/null' EXIT
pipeline_start "$DAEMON"
sha="$(git -C "$PIPELINE_WORK/app" rev-parse HEAD)"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
curl -fsS "http://$PIPELINE_PROJECT.localhost:8480/"
echo "sha=$sha"
pipeline_api GET "projects/$PIPELINE_PROJECT"
"#;

#[test]
fn the_demos_pipeline_script_deploys_a_push_and_sees_it_end() {
    let brokers = std::env::var("DUMCEL_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into());
    let work = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg("-c")
        .arg(SCRIPT)
        .current_dir(&root)
        .env("WORK", work.path())
        .env("BROKERS", brokers)
        .env("DAEMON", env!("CARGO_BIN_EXE_dumcel-pipeline"))
        .env("DOCKER_HOST", "unix:///var/run/docker.sock")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Hello from a container Dumcel built and runs."),
        "{stdout}"
    );
    // The API it starts answers with the token it wrote for the demo.
    let sha = stdout
        .lines()
        .find_map(|l| l.strip_prefix("sha="))
        .expect("the script printed the SHA");
    let project: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let production = &project["environments"][0];
    assert_eq!(production["name"], "production", "{project}");
    assert_eq!(production["serving"]["sha"], sha, "{project}");
    assert_eq!(
        production["last_deployment"]["outcome"], "succeeded",
        "{project}"
    );
}
