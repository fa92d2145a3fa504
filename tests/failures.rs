//! A failed resource stops its dependents, not its siblings; everything that
//! completed is recorded and the run ends with exit 1 and a list of failures.

mod common;

use common::TestStack;

#[test]
fn a_failure_stops_dependents_not_siblings() {
    let s = TestStack::new(
        r#"
resource "local_file" "broken" {
  # /proc refuses new files: the create fails.
  filename = "/proc/dumcel-cannot-write-here/x.txt"
  content  = "x"
}
resource "null_resource" "after_broken" {
  triggers   = { id = local_file.broken.id }
}
resource "local_file" "sibling" {
  filename = "sibling.txt"
  content  = "fine"
}
"#,
    );
    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("local_file.broken"),
        "the failure is listed: {}",
        r.all()
    );
    assert!(
        r.stderr.contains("null_resource.after_broken"),
        "the skipped dependent is listed: {}",
        r.all()
    );
    assert_eq!(s.read("sibling.txt"), "fine", "the sibling was created");
    assert_eq!(
        s.state_addresses(),
        ["local_file.sibling"],
        "what completed is recorded, nothing else"
    );

    // Fixing the cause and applying again finishes the job.
    s.write(
        "main.hcl",
        &s.read("main.hcl")
            .replace("/proc/dumcel-cannot-write-here/x.txt", "x.txt"),
    );
    s.ok(&["apply", "-auto-approve"]);
    let mut addrs = s.state_addresses();
    addrs.sort();
    assert_eq!(
        addrs,
        [
            "local_file.broken",
            "local_file.sibling",
            "null_resource.after_broken"
        ]
    );
}
