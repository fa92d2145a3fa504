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
fn two_applies_contend_for_the_dynamodb_lock_and_a_dead_holder_is_taken_over() {
    let (block, bucket) = backend("dumcel-locking");
    let s = TestStack::new(&format!(
        "{block}resource \"time_sleep\" \"slow\" {{\n  create_duration = \"3s\"\n}}\n"
    ));
    let mut first = spawn_aws(&s, &["apply", "-auto-approve"]);
    let info = wait_for_lock(&bucket);
    assert_eq!(info["pid"], first.id(), "{info}");
    assert!(
        info["host"].as_str().is_some_and(|h| !h.is_empty()),
        "{info}"
    );
    let second = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(second.stderr.contains("locked"), "{}", second.all());
    assert!(
        second.stderr.contains(&format!("pid {}", first.id())),
        "names the holder: {}",
        second.all()
    );

    // Killed outright, the holder leaves its item behind; its process is gone
    // from this host, so the next command takes the lock over, says so, and
    // recovers what the killed apply journaled.
    first.kill().unwrap();
    first.wait().unwrap();
    let id = info["id"].as_str().unwrap().to_owned();
    let again = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stderr
            .contains(&format!("Taking over the state lock {id}"))
            && again.stderr.contains("no longer runs on this host"),
        "{}",
        again.all()
    );
    assert!(remote_state(&bucket)["resources"]["time_sleep.slow"].is_object());
    assert!(lock_holder(&bucket).is_none());
}

/// Writes a lock item as a dumcel on another host would, with its lease
/// ending `expires_in` seconds from now (negative: already expired).
fn foreign_lock(bucket: &str, id: &str, expires_in: i64) {
    boto3(&format!(
        "import time\ninfo = json.dumps({{'id': '{id}', 'operation': 'apply', 'who': 'ci@agent-7', 'pid': 4242, 'created': '2026-01-01T00:00:00Z', 'version': '0.1.0', 'host': 'agent-7', 'boot': 'b', 'process_start': 1}})\nddb.put_item(TableName='{bucket}-locks', Item={{'LockID': {{'S': '{bucket}/app/dumcel.tfstate'}}, 'ID': {{'S': '{id}'}}, 'Info': {{'S': info}}, 'Expires': {{'N': str(int(time.time()) + ({expires_in}))}}}})\n"
    ));
}

#[test]
fn a_live_lease_on_another_host_is_never_broken_an_expired_one_is_taken_over() {
    let (block, bucket) = backend("dumcel-lease");
    let s = TestStack::new(&format!("{block}resource \"null_resource\" \"a\" {{}}\n"));

    // A holder on another host, renewing its lease: nobody takes it.
    foreign_lock(&bucket, "live-holder", 300);
    let blocked = aws(&s, &["plan", "-no-color"]);
    assert_eq!(blocked.code, 1, "{}", blocked.all());
    assert!(
        blocked.stderr.contains("ci@agent-7") && blocked.stderr.contains("live-holder"),
        "{}",
        blocked.all()
    );
    assert_eq!(lock_holder(&bucket).unwrap()["id"], "live-holder");
    // force-unlock still frees it, by its ID only.
    let wrong = aws(&s, &["force-unlock", "not-the-id"]);
    assert_eq!(wrong.code, 1, "{}", wrong.all());
    let freed = aws(&s, &["force-unlock", "live-holder", "-no-color"]);
    assert_eq!(freed.code, 0, "{}", freed.all());
    assert!(lock_holder(&bucket).is_none());

    // A holder whose lease ran out stopped renewing it: taken over.
    foreign_lock(&bucket, "gone-holder", -5);
    let taken = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(taken.code, 0, "{}", taken.all());
    assert!(
        taken
            .stderr
            .contains("Taking over the state lock gone-holder")
            && taken.stderr.contains("lease expired"),
        "{}",
        taken.all()
    );
    assert!(lock_holder(&bucket).is_none());
}

#[test]
fn a_state_object_changed_behind_dumcel_is_an_error_not_a_silent_read() {
    let (block, bucket) = backend("dumcel-digest");
    let s = TestStack::new(&format!("{block}resource \"null_resource\" \"a\" {{}}\n"));
    let r = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // The digest Terraform keeps beside the lock: LockID "<bucket>/<key>-md5".
    let digest = boto3(&format!(
        "print(ddb.get_item(TableName='{bucket}-locks', Key={{'LockID': {{'S': '{bucket}/app/dumcel.tfstate-md5'}}}})['Item']['Digest']['S'])"
    ));
    assert_eq!(digest.trim().len(), 32, "{digest}");
    // An older copy put back by hand.
    boto3(&format!(
        "s3.put_object(Bucket='{bucket}', Key='app/dumcel.tfstate', Body=json.dumps({{'version': 1, 'serial': 0, 'lineage': 'x', 'dumcel_version': '0', 'resources': {{}}}}))\n"
    ));
    let plan = aws(&s, &["plan", "-no-color"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        plan.stderr.contains("does not have the expected content")
            && plan.stderr.contains(digest.trim()),
        "{}",
        plan.all()
    );
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

#[test]
fn a_failed_upload_loses_nothing_the_next_command_uploads_it() {
    let (block, bucket) = backend("dumcel-upload");
    let s = TestStack::new(&format!(
        "{block}resource \"null_resource\" \"a\" {{}}\nresource \"time_sleep\" \"slow\" {{\n  create_duration = \"3s\"\n}}\n"
    ));
    let first = spawn_aws(&s, &["apply", "-auto-approve", "-no-color"]);
    let info = wait_for_lock(&bucket);
    // Someone frees the lock while the apply runs: when it is done, it no
    // longer holds the lock and must not write the state.
    let id = info["id"].as_str().unwrap().to_owned();
    let freed = aws(&s, &["force-unlock", &id, "-no-color"]);
    assert_eq!(freed.code, 0, "{}", freed.all());
    let out = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no longer held by this command"),
        "{stderr}"
    );
    let object = boto3(&format!(
        "r = s3.list_objects_v2(Bucket='{bucket}', Prefix='app/dumcel.tfstate')\nprint(sorted(o['Key'] for o in r.get('Contents', [])))"
    ));
    assert!(
        object.contains("app/dumcel.tfstate.journal/"),
        "the journal's copy stays in S3: {object}"
    );

    // The next command replays the journal onto the S3 object and uploads it.
    let next = aws(&s, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(next.code, 0, "nothing left to do: {}", next.all());
    assert!(next.stderr.contains("interrupted"), "{}", next.all());
    let state = remote_state(&bucket);
    assert!(state["resources"]["null_resource.a"].is_object(), "{state}");
    assert!(state["resources"]["time_sleep.slow"].is_object(), "{state}");
    let left = boto3(&format!(
        "r = s3.list_objects_v2(Bucket='{bucket}', Prefix='app/dumcel.tfstate.journal/')\nprint(r.get('KeyCount', 0))"
    ));
    assert_eq!(
        left.trim(),
        "0",
        "the journal's copies are deleted after the upload"
    );
}

/// Partial backend configuration: the stack says only `backend "s3" {}`;
/// CI gives bucket, key and table to `init -backend-config` (pairs and a
/// file), and later commands use them without being told again.
#[test]
fn init_backend_config_completes_an_empty_backend_block() {
    let (_, bucket) = backend("partial");
    let s = TestStack::new(
        "terraform {\n  backend \"s3\" {\n    region = \"us-east-1\"\n  }\n}\nresource \"null_resource\" \"a\" {}\n",
    );
    // Without the values, the block is incomplete.
    let r = aws(&s, &["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("bucket and key"), "{}", r.all());

    s.write(
        "ci.s3.tfbackend",
        &format!("dynamodb_table = \"{bucket}-locks\"\nencrypt = true\n"),
    );
    let r = aws(
        &s,
        &[
            "init",
            "-no-color",
            &format!("-backend-config=bucket={bucket}"),
            "-backend-config=key=app/dumcel.tfstate",
            "-backend-config=ci.s3.tfbackend",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains(&format!(
            "s3://{bucket}/app/dumcel.tfstate (lock table: {bucket}-locks)"
        )),
        "{}",
        r.all()
    );
    let r = aws(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let remote = remote_state(&bucket);
    assert!(
        remote["resources"]
            .as_object()
            .is_some_and(|r| !r.is_empty()),
        "the state went to the bucket given to init: {remote}"
    );

    // -reconfigure forgets them.
    let r = aws(&s, &["init", "-reconfigure", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("bucket and key"), "{}", r.all());
}
