//! The S3 state backend against a real AWS API emulator (moto, started by
//! dev/services/moto.sh): state round trip, lock contention between two
//! processes, force-unlock, and migration from local state. Results are read
//! back with boto3, the AWS SDK for Python, not through dumcel.

mod common;

use std::process::Command;
use std::time::Duration;

use common::TestStack;

const ENDPOINT: &str = "http://127.0.0.1:5005";

/// Runs Python with boto3 against the emulator; returns stdout.
fn boto3(script: &str) -> String {
    let venv = std::env::var("HOME")
        .map(|h| format!("{h}/.cache/dumcel/moto-venv/bin/python"))
        .unwrap_or_default();
    let python = if std::path::Path::new(&venv).exists() {
        venv
    } else {
        "python3".to_owned()
    };
    let prelude = format!(
        "import boto3, json\ns3 = boto3.client('s3', endpoint_url='{ENDPOINT}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\nddb = boto3.client('dynamodb', endpoint_url='{ENDPOINT}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n"
    );
    let out = Command::new(python)
        .args(["-c", &format!("{prelude}{script}")])
        .output()
        .expect("python with boto3 runs (dev/services/moto.sh installs it)");
    assert!(
        out.status.success(),
        "boto3 failed; is moto running? start it with dev/services/moto.sh\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bucket and lock table of our own (unique per run), so tests can run in
/// parallel and again against the same emulator. Returns the backend block and the bucket.
fn backend(base: &str) -> (String, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("{base}-{}-{nanos}", std::process::id());
    boto3(&format!(
        "s3.create_bucket(Bucket='{name}')\nddb.create_table(TableName='{name}-locks', KeySchema=[{{'AttributeName': 'LockID', 'KeyType': 'HASH'}}], AttributeDefinitions=[{{'AttributeName': 'LockID', 'AttributeType': 'S'}}], BillingMode='PAY_PER_REQUEST')\n"
    ));
    let block = format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket         = \"{name}\"\n    key            = \"app/dumcel.tfstate\"\n    region         = \"us-east-1\"\n    dynamodb_table = \"{name}-locks\"\n    encrypt        = true\n  }}\n}}\n"
    );
    (block, name)
}

fn remote_state(bucket: &str) -> serde_json::Value {
    let text = boto3(&format!(
        "print(s3.get_object(Bucket='{bucket}', Key='app/dumcel.tfstate')['Body'].read().decode())"
    ));
    serde_json::from_str(&text).expect("the state object is JSON")
}

fn aws(s: &TestStack, args: &[&str]) -> common::Run {
    let out = s
        .command(args)
        .env("AWS_ENDPOINT_URL", ENDPOINT)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn spawn_aws(s: &TestStack, args: &[&str]) -> std::process::Child {
    s.command(args)
        .env("AWS_ENDPOINT_URL", ENDPOINT)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn lock_holder(bucket: &str) -> Option<serde_json::Value> {
    let out = boto3(&format!(
        "r = ddb.get_item(TableName='{bucket}-locks', Key={{'LockID': {{'S': '{bucket}/app/dumcel.tfstate'}}}}, ConsistentRead=True)\nprint(r['Item']['Info']['S'] if 'Item' in r else '')"
    ));
    let text = out.trim();
    (!text.is_empty()).then(|| serde_json::from_str(text).expect("lock info is JSON"))
}

fn wait_for_lock(bucket: &str) -> serde_json::Value {
    for _ in 0..100 {
        if let Some(info) = lock_holder(bucket) {
            return info;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the first apply never took the DynamoDB lock");
}

#[test]
fn state_round_trips_through_s3() {
    let (block, bucket) = backend("dumcel-roundtrip");
    let s = TestStack::new(&format!(
        "{block}resource \"null_resource\" \"a\" {{}}\noutput \"id\" {{\n  value = null_resource.a.id\n}}\n"
    ));
    let r = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let remote = remote_state(&bucket);
    assert!(
        remote["resources"]["null_resource.a"]["attributes"]["id"].is_string(),
        "{remote}"
    );
    assert_eq!(remote["serial"], 1);
    assert!(
        lock_holder(&bucket).is_none(),
        "the lock is released after the command"
    );
    let plan = aws(&s, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        !s.file("dumcel.tfstate").exists(),
        "no local state file with the S3 backend"
    );
    let out = aws(&s, &["output", "-raw", "id"]);
    assert_eq!(
        out.stdout,
        remote["resources"]["null_resource.a"]["attributes"]["id"]
            .as_str()
            .unwrap()
    );
}

#[test]
fn two_applies_contend_for_the_dynamodb_lock_and_force_unlock_frees_a_dead_ones() {
    let (block, bucket) = backend("dumcel-locking");
    let s = TestStack::new(&format!(
        "{block}resource \"time_sleep\" \"slow\" {{\n  create_duration = \"3s\"\n}}\n"
    ));
    let mut first = spawn_aws(&s, &["apply", "-auto-approve"]);
    let info = wait_for_lock(&bucket);
    assert_eq!(info["pid"], first.id(), "{info}");
    let second = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(second.stderr.contains("locked"), "{}", second.all());
    assert!(
        second.stderr.contains(&format!("pid {}", first.id())),
        "names the holder: {}",
        second.all()
    );

    // Killed outright, the holder leaves its lock behind: commands refuse until force-unlock.
    first.kill().unwrap();
    first.wait().unwrap();
    let id = info["id"].as_str().unwrap().to_owned();
    let blocked = aws(&s, &["plan", "-no-color"]);
    assert_eq!(blocked.code, 1, "{}", blocked.all());
    assert!(blocked.stderr.contains(&id), "{}", blocked.all());
    let wrong = aws(&s, &["force-unlock", "not-the-id"]);
    assert_eq!(wrong.code, 1, "{}", wrong.all());
    let freed = aws(&s, &["force-unlock", &id, "-no-color"]);
    assert_eq!(freed.code, 0, "{}", freed.all());
    assert!(lock_holder(&bucket).is_none());

    // The next apply recovers what the killed one journaled, then finishes.
    let again = aws(
        &s,
        &["apply", "-auto-approve", "-lock-timeout=30s", "-no-color"],
    );
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(remote_state(&bucket)["resources"]["time_sleep.slow"].is_object());
}

#[test]
fn a_waiting_apply_gets_the_lock_when_the_first_finishes() {
    let (block, bucket) = backend("dumcel-waiting");
    let s = TestStack::new(&format!(
        "{block}resource \"time_sleep\" \"slow\" {{\n  create_duration = \"2s\"\n}}\n"
    ));
    let first = spawn_aws(&s, &["apply", "-auto-approve"]);
    wait_for_lock(&bucket);
    let second = aws(
        &s,
        &["apply", "-auto-approve", "-lock-timeout=30s", "-no-color"],
    );
    assert_eq!(second.code, 0, "{}", second.all());
    assert!(
        second.stdout.contains("No changes."),
        "it saw the first apply's state: {}",
        second.all()
    );
    assert!(first.wait_with_output().unwrap().status.success());
    assert_eq!(
        remote_state(&bucket)["serial"],
        1,
        "written once, by the first apply"
    );
}

#[test]
fn local_state_migrates_to_s3_with_init() {
    let s = TestStack::new("resource \"null_resource\" \"kept\" {}\n");
    s.ok(&["apply", "-auto-approve"]);
    let id = s.attr("null_resource.kept", "id");
    let (block, bucket) = backend("dumcel-migrate");
    s.write("backend.hcl", &block);
    // The local state is not silently left behind: init asks for the migration.
    let init = aws(&s, &["init", "-no-color"]);
    assert_eq!(init.code, 1, "{}", init.all());
    assert!(
        init.stderr.contains("init -migrate-state"),
        "{}",
        init.all()
    );
    let migrated = aws(&s, &["init", "-migrate-state", "-no-color"]);
    assert_eq!(migrated.code, 0, "{}", migrated.all());
    assert_eq!(
        remote_state(&bucket)["resources"]["null_resource.kept"]["attributes"]["id"],
        id
    );
    let plan = aws(&s, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "the migrated object is the same object: {}",
        plan.all()
    );
    // The local file is moved aside, so a later init has nothing to migrate.
    assert!(!s.file("dumcel.tfstate").exists());
    assert!(s.file("dumcel.tfstate.migrated").exists());
    let again = aws(&s, &["init", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());
    // Local state put back by hand does not overwrite what S3 holds.
    std::fs::copy(s.file("dumcel.tfstate.migrated"), s.file("dumcel.tfstate")).unwrap();
    let twice = aws(&s, &["init", "-migrate-state", "-no-color"]);
    assert_eq!(
        twice.code,
        1,
        "the S3 state is not overwritten without -force-copy: {}",
        twice.all()
    );
}
