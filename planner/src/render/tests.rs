use super::*;
use crate::plan::{Action, OutputChange, Plan, ResourceChange};
use crate::value::{Map, Value};

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Map>(),
    )
}

fn s(text: &str) -> Value {
    Value::string(text)
}

fn change(
    address: &str,
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
) -> ResourceChange {
    let resource_type = address
        .parse::<crate::address::InstanceAddr>()
        .unwrap()
        .resource
        .resource_type;
    ResourceChange {
        address: address.to_owned(),
        resource_type,
        provider: "builtin".to_owned(),
        action,
        before,
        after,
        replace_because: Vec::new(),
        reason: None,
        depends_on: Vec::new(),
        importing: None,
    }
}

fn output(name: &str, action: Action, before: Option<Value>, after: Option<Value>) -> OutputChange {
    OutputChange {
        name: name.to_owned(),
        action,
        before,
        after,
        sensitive: false,
    }
}

fn plan(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format_version: crate::plan::PLAN_FORMAT_VERSION,
        dumcel_version: "0.1.0".to_owned(),
        lineage: "lin-1".to_owned(),
        serial: 3,
        destroy: false,
        config_hash: "h".to_owned(),
        variables: Default::default(),
        drift: Vec::new(),
        changes,
        outputs: Vec::new(),
        moved: Vec::new(),
        forgotten: Vec::new(),
        prior_state: None,
        configuration: None,
        timestamp: None,
        targeted: false,
    }
}

const PLAIN: RenderOptions = RenderOptions { color: false };

fn brief_plan() -> Plan {
    let mut replace = change(
        "local_file.f",
        Action::Replace,
        Some(obj(&[
            ("content", s("a")),
            ("file_permission", s("0777")),
            ("id", s("86f7e437faa5a7fce15d1ddcb9eaeaea377667b8")),
        ])),
        Some(obj(&[
            ("content", s("b")),
            ("file_permission", s("0777")),
            ("id", Value::Unknown),
        ])),
    );
    replace.replace_because = vec!["content".into()];
    let mut destroy = change(
        "null_resource.old",
        Action::Delete,
        Some(obj(&[("id", s("123"))])),
        None,
    );
    destroy.reason = Some("no longer in configuration".into());
    let mut p = plan(vec![
        change(
            "null_resource.a",
            Action::Create,
            None,
            Some(obj(&[
                ("id", Value::Unknown),
                ("triggers", obj(&[("x", s("1"))])),
            ])),
        ),
        replace,
        destroy,
    ]);
    p.outputs
        .push(output("url", Action::Create, None, Some(s("http://x"))));
    p
}

fn drift_plan() -> Plan {
    let mut p = plan(vec![change(
        "local_file.f",
        Action::NoOp,
        Some(obj(&[("content", s("a"))])),
        Some(obj(&[("content", s("a"))])),
    )]);
    p.drift.push(change(
        "local_file.f",
        Action::Update,
        Some(obj(&[("content", s("a"))])),
        Some(obj(&[("content", s("edited by hand"))])),
    ));
    p.drift.push(change(
        "local_file.g",
        Action::Delete,
        Some(obj(&[("content", s("x"))])),
        None,
    ));
    p
}

/// The body of one change: from its `# ADDRESS` header to its closing brace.
fn block(text: &str, address: &str) -> String {
    let start = text
        .find(&format!("  # {address} "))
        .unwrap_or_else(|| panic!("no block for {address} in:\n{text}"));
    let rest = &text[start..];
    let end = rest.find("\n    }\n").expect("closing brace") + "\n    }\n".len();
    rest[..end].to_owned()
}

fn update(before: Value, after: Value) -> String {
    let p = plan(vec![change(
        "local_file.f",
        Action::Update,
        Some(before),
        Some(after),
    )]);
    block(&human_plan(&p, &PLAIN), "local_file.f")
}

#[test]
fn full_plan_matches_terraform_layout() {
    let expected = r#"Resource actions are indicated with the following symbols:
  + create
  - destroy
-/+ destroy and then create replacement

Dumcel will perform the following actions:

  # null_resource.a will be created
  + resource "null_resource" "a" {
      + id       = (known after apply)
      + triggers = {
          + "x" = "1"
        }
    }

  # local_file.f must be replaced
-/+ resource "local_file" "f" {
      ~ content         = "a" -> "b" # forces replacement
      ~ id              = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8" -> (known after apply)
        # (1 unchanged attribute hidden)
    }

  # null_resource.old will be destroyed
  # (because null_resource.old is not in configuration)
  - resource "null_resource" "old" {
      - id = "123" -> null
    }

Plan: 2 to add, 0 to change, 2 to destroy.

Changes to Outputs:
  + url = "http://x"
"#;
    assert_eq!(human_plan(&brief_plan(), &PLAIN), expected);
}

#[test]
fn summary_line_format() {
    let summary = crate::plan::Summary {
        import: 0,
        add: 1,
        change: 2,
        destroy: 0,
    };
    assert_eq!(
        summary_line(&summary),
        "Plan: 1 to add, 2 to change, 0 to destroy."
    );
}

#[test]
fn update_in_place_hides_unchanged_and_keeps_id() {
    let before = obj(&[
        ("id", s("abc")),
        ("filename", s("out.txt")),
        ("mode", s("0644")),
        ("gone", s("bye")),
        (
            "tags",
            obj(&[("Name", s("web")), ("Env", s("dev")), ("Old", s("x"))]),
        ),
    ]);
    let after = obj(&[
        ("id", s("abc")),
        ("filename", s("out.txt")),
        ("mode", s("0600")),
        ("added", Value::Bool(true)),
        (
            "tags",
            obj(&[("Name", s("web")), ("Env", s("prod")), ("New", s("y"))]),
        ),
    ]);
    let expected = r#"  # local_file.f will be updated in-place
  ~ resource "local_file" "f" {
      + added    = true
      - gone     = "bye" -> null
        id       = "abc"
      ~ mode     = "0644" -> "0600"
      ~ tags     = {
          ~ "Env"  = "dev" -> "prod"
          + "New"  = "y"
          - "Old"  = "x" -> null
            # (1 unchanged element hidden)
        }
        # (1 unchanged attribute hidden)
    }
"#;
    assert_eq!(update(before, after), expected);
}

#[test]
fn headers_markers_and_reasons() {
    let mut tainted = change(
        "module.m.null_resource.t[0]",
        Action::Replace,
        Some(obj(&[("id", s("1"))])),
        Some(obj(&[("id", Value::Unknown)])),
    );
    tainted.reason = Some("tainted".into());
    let mut other = change(
        "null_resource.o",
        Action::Delete,
        Some(obj(&[("id", s("2"))])),
        None,
    );
    other.reason = Some("index [3] is out of range for count".into());
    let read = change(
        "data.local_file.cfg",
        Action::Read,
        None,
        Some(obj(&[("filename", s("x")), ("content", Value::Unknown)])),
    );
    let upd = change(
        "null_resource.u",
        Action::Update,
        Some(obj(&[("triggers", obj(&[("a", s("1"))]))])),
        Some(obj(&[("triggers", obj(&[("a", s("2"))]))])),
    );
    let text = human_plan(&plan(vec![tainted, other, read, upd]), &PLAIN);
    assert!(text.contains(
        "  # module.m.null_resource.t[0] must be replaced\n  # (because module.m.null_resource.t[0] is tainted, so must be replaced)\n-/+ resource \"null_resource\" \"t\" {\n"
    ), "{text}");
    assert!(text.contains(
        "  # null_resource.o will be destroyed\n  # (because index [3] is out of range for count)\n  - resource"
    ));
    assert!(text.contains(
        "  # data.local_file.cfg will be read during apply\n <= data \"local_file\" \"cfg\" {\n      + content  = (known after apply)\n      + filename = \"x\"\n    }\n"
    ));
    assert!(text.contains("  # null_resource.u will be updated in-place\n  ~ resource"));
    assert!(
        !text.contains("  + create\n"),
        "create is absent from this plan, so from the legend"
    );
    assert!(text.contains(
        "Resource actions are indicated with the following symbols:\n  ~ update in-place\n  - destroy\n-/+ destroy and then create replacement\n <= read (data resources)\n\n"
    ), "{text}");
    assert!(text.contains("Plan: 1 to add, 1 to change, 2 to destroy.\n"));
}

#[test]
fn no_changes() {
    let expected = "No changes. Your infrastructure matches the configuration.\n\nDumcel has compared your real infrastructure against your configuration and found no differences, so no changes are needed.\n";
    let unchanged = change(
        "null_resource.a",
        Action::NoOp,
        Some(obj(&[("id", s("1"))])),
        Some(obj(&[("id", s("1"))])),
    );
    let p = plan(vec![unchanged]);
    assert_eq!(human_plan(&p, &PLAIN), expected);
    assert_eq!(human_drift(&p, &PLAIN), "");
    // A destroy plan with nothing to destroy reads the same.
    let mut empty = plan(Vec::new());
    empty.destroy = true;
    assert_eq!(human_plan(&empty, &PLAIN), expected);
}

#[test]
fn drift_section() {
    let rule = "─".repeat(77);
    let expected = format!(
        r#"Note: Objects have changed outside of Dumcel

Dumcel detected the following changes made outside of Dumcel since the last "dumcel apply":

  # local_file.f has been changed
  ~ resource "local_file" "f" {{
      ~ content = "a" -> "edited by hand"
    }}

  # local_file.g has been deleted
  - resource "local_file" "g" {{
      - content = "x" -> null
    }}

Unless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.

{rule}
"#
    );
    let p = drift_plan();
    assert_eq!(human_drift(&p, &PLAIN), expected);
    // The plan itself has no changes: drift, then the "No changes" text.
    let text = human_plan(&p, &PLAIN);
    assert!(text.starts_with(&expected), "{text}");
    assert!(text.ends_with(&format!("{rule}\n\nNo changes. Your infrastructure matches the configuration.\n\nDumcel has compared your real infrastructure against your configuration and found no differences, so no changes are needed.\n")));
}

#[test]
fn outputs() {
    let mut p = brief_plan();
    p.outputs = vec![
        output("url", Action::Create, None, Some(s("http://x"))),
        output(
            "count",
            Action::Update,
            Some(Value::Number(1.0)),
            Some(Value::Number(2.0)),
        ),
        output("old_name", Action::Delete, Some(s("c")), None),
        output("same", Action::NoOp, Some(s("c")), Some(s("c"))),
        output("later", Action::Create, None, Some(Value::Unknown)),
        output(
            "obj",
            Action::Create,
            None,
            Some(obj(&[("a", s("b")), ("list", Value::List(vec![s("x")]))])),
        ),
    ];
    let text = human_plan(&p, &PLAIN);
    let tail = &text[text.find("Changes to Outputs:").unwrap()..];
    assert_eq!(
        tail,
        r#"Changes to Outputs:
  + url      = "http://x"
  ~ count    = 1 -> 2
  - old_name = "c" -> null
  + later    = (known after apply)
  + obj      = {
      + a    = "b"
      + list = [
          + "x",
        ]
    }
"#
    );

    // Only outputs change: no legend, no Plan line, and a note instead.
    let mut only = plan(Vec::new());
    only.outputs = vec![output("url", Action::Create, None, Some(s("http://x")))];
    assert_eq!(
        human_plan(&only, &PLAIN),
        "Changes to Outputs:\n  + url = \"http://x\"\n\nYou can apply this plan to save these new output values to the Dumcel state, without changing any real infrastructure.\n"
    );
}

#[test]
fn multi_line_strings_are_heredocs_and_diffed_by_line() {
    let created = plan(vec![change(
        "local_file.f",
        Action::Create,
        None,
        Some(obj(&[("content", s("hello\n\nworld\n"))])),
    )]);
    assert_eq!(
        block(&human_plan(&created, &PLAIN), "local_file.f"),
        r#"  # local_file.f will be created
  + resource "local_file" "f" {
      + content = <<-EOT
            hello

            world
        EOT
    }
"#
    );

    let lines = |n: usize, changed: Option<usize>| {
        (1..=n)
            .map(|i| {
                if Some(i) == changed {
                    "CHANGED\n".to_owned()
                } else {
                    format!("line{i}\n")
                }
            })
            .collect::<String>()
    };
    let text = update(
        obj(&[("content", s(&lines(20, None)))]),
        obj(&[("content", s(&lines(20, Some(10))))]),
    );
    assert_eq!(
        text,
        r#"  # local_file.f will be updated in-place
  ~ resource "local_file" "f" {
      ~ content = <<-EOT
            # (6 unchanged lines hidden)
            line7
            line8
            line9
          - line10
          + CHANGED
            line11
            line12
            line13
            # (7 unchanged lines hidden)
        EOT
    }
"#
    );

    // Short unchanged runs are kept; a string that becomes multi-line is diffed too.
    let text = update(obj(&[("content", s("a"))]), obj(&[("content", s("a\nb"))]));
    assert!(
        text.contains("      ~ content = <<-EOT\n            a\n          + b\n        EOT\n"),
        "{text}"
    );

    // Destroyed: heredoc, then `-> null`.
    let gone = plan(vec![change(
        "local_file.f",
        Action::Delete,
        Some(obj(&[("content", s("x\ny\n"))])),
        None,
    )]);
    assert!(
        human_plan(&gone, &PLAIN).contains(
            "      - content = <<-EOT\n            x\n            y\n        EOT -> null\n"
        )
    );
}

#[test]
fn json_strings_are_diffed_as_values() {
    let before = r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}]}"#;
    let after = r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}]}"#;
    let text = update(obj(&[("policy", s(before))]), obj(&[("policy", s(after))]));
    assert_eq!(
        text,
        r#"  # local_file.f will be updated in-place
  ~ resource "local_file" "f" {
      ~ policy = jsonencode(
          ~ {
              ~ Statement = [
                  ~ {
                      ~ Action   = "s3:GetObject" -> "s3:*"
                        # (2 unchanged attributes hidden)
                    },
                ]
                # (1 unchanged attribute hidden)
            }
        )
    }
"#
    );

    let created = plan(vec![change(
        "local_file.f",
        Action::Create,
        None,
        Some(obj(&[("policy", s(r#"{"b":[1,2],"a key":null}"#))])),
    )]);
    assert!(human_plan(&created, &PLAIN).contains(
        r#"      + policy = jsonencode(
            {
              + "a key" = null
              + b       = [
                  + 1,
                  + 2,
                ]
            }
        )
"#
    ));

    let text = update(
        obj(&[("policy", s(r#"{"a": 1}"#))]),
        obj(&[("policy", s(r#"{"a":1}"#))]),
    );
    assert!(text.contains("      ~ policy = jsonencode( # whitespace changes\n            {\n                a = 1\n            }\n        )\n"), "{text}");

    // JSON on one side only: a plain string change.
    let text = update(obj(&[("policy", s("none"))]), obj(&[("policy", s("[1]"))]));
    assert!(
        text.contains(r#"      ~ policy = "none" -> "[1]""#),
        "{text}"
    );
}

#[test]
fn lists_show_element_changes_with_context() {
    let letters = |items: &[&str]| Value::List(items.iter().map(|x| s(x)).collect());
    let text = update(
        obj(&[("list", letters(&["a", "b", "c", "d", "e", "f"]))]),
        obj(&[("list", letters(&["a", "b", "c", "X", "e", "f", "g"]))]),
    );
    assert_eq!(
        text,
        r#"  # local_file.f will be updated in-place
  ~ resource "local_file" "f" {
      ~ list = [
            # (2 unchanged elements hidden)
            "c",
          - "d",
          + "X",
            "e",
            "f",
          + "g",
        ]
    }
"#
    );

    // Objects (nested blocks) changed in place, and an added one.
    let block = |port: f64| obj(&[("port", Value::Number(port)), ("path", s("/"))]);
    let text = update(
        obj(&[("rule", Value::List(vec![block(80.0)]))]),
        obj(&[("rule", Value::List(vec![block(81.0), block(82.0)]))]),
    );
    assert_eq!(
        text,
        r#"  # local_file.f will be updated in-place
  ~ resource "local_file" "f" {
      ~ rule = [
          ~ {
              ~ port = 80 -> 81
                # (1 unchanged attribute hidden)
            },
          + {
              + path = "/"
              + port = 82
            },
        ]
    }
"#
    );

    // Becoming unknown, changing type, and removal of a whole collection.
    let text = update(
        obj(&[
            ("l", letters(&["a"])),
            ("n", Value::Number(1.0)),
            ("m", obj(&[("k", s("v"))])),
        ]),
        obj(&[("l", Value::Unknown), ("n", letters(&["1"]))]),
    );
    assert!(
        text.contains("      ~ l = [\n          - \"a\",\n        ] -> (known after apply)\n"),
        "{text}"
    );
    assert!(
        text.contains("      - m = {\n          - \"k\" = \"v\"\n        } -> null\n"),
        "{text}"
    );
    assert!(
        text.contains("      ~ n = 1 -> [\n          + \"1\",\n        ]\n"),
        "{text}"
    );
}

#[test]
fn creates_show_non_null_attributes_only() {
    let p = plan(vec![change(
        "local_file.f",
        Action::Create,
        None,
        Some(obj(&[
            ("content", s("x")),
            ("unset", Value::Null),
            ("no_blocks", Value::List(Vec::new())),
            ("empty_map", obj(&[])),
            ("n", Value::Number(2.5)),
        ])),
    )]);
    assert_eq!(
        block(&human_plan(&p, &PLAIN), "local_file.f"),
        r#"  # local_file.f will be created
  + resource "local_file" "f" {
      + content   = "x"
      + empty_map = {}
      + n         = 2.5
    }
"#
    );
}

#[test]
fn colour_only_when_asked() {
    let mut p = brief_plan();
    p.drift = drift_plan().drift;
    let plain = human_plan(&p, &PLAIN);
    assert!(!plain.contains('\x1b'));
    assert!(!human_drift(&p, &PLAIN).contains('\x1b'));
    let coloured = human_plan(&p, &RenderOptions { color: true });
    assert!(coloured.contains("\x1b[32m+\x1b[0m resource"));
    assert!(coloured.contains("\x1b[31m# forces replacement\x1b[0m"));
    assert!(coloured.contains("\x1b[1m\x1b[36m-/+\x1b[0m resource"));
    let value = obj(&[("a", s("b"))]);
    assert!(!human_resource("x_y.z", "x_y", &value, &PLAIN).contains('\x1b'));
}

const SECRET: &str = "hunter2-do-not-print";

fn secret_plan() -> Plan {
    let secret = || s(SECRET).sensitive();
    let mut p = plan(vec![
        change(
            "local_file.create",
            Action::Create,
            None,
            Some(obj(&[
                ("password", secret()),
                ("map", obj(&[("k", secret())])),
                ("list", Value::List(vec![s("plain"), secret()])),
                ("doc", s(&format!("line\n{SECRET}\n")).sensitive()),
                ("json", s(&format!(r#"{{"pw":"{SECRET}"}}"#)).sensitive()),
            ])),
        ),
        change(
            "local_file.update",
            Action::Update,
            Some(obj(&[
                ("password", s("old-secret-value").sensitive()),
                ("list", Value::List(vec![secret()])),
            ])),
            Some(obj(&[
                ("password", secret()),
                ("list", Value::List(vec![secret(), s("x")])),
            ])),
        ),
        change(
            "local_file.replace",
            Action::Replace,
            Some(obj(&[("password", secret())])),
            Some(obj(&[("password", Value::Unknown)])),
        ),
        change(
            "local_file.whole",
            Action::Create,
            None,
            Some(obj(&[("password", s(SECRET)), ("n", Value::Number(1.0))]).sensitive()),
        ),
        change(
            "local_file.delete",
            Action::Delete,
            Some(obj(&[("password", secret())])),
            None,
        ),
    ]);
    p.drift.push(change(
        "local_file.update",
        Action::Update,
        Some(obj(&[("password", s("old-secret-value").sensitive())])),
        Some(obj(&[("password", secret())])),
    ));
    p.outputs.push(OutputChange {
        name: "flagged".into(),
        action: Action::Create,
        before: None,
        after: Some(s(SECRET)),
        sensitive: true,
    });
    p.outputs.push(output(
        "marked",
        Action::Update,
        Some(s("old-secret-value").sensitive()),
        Some(secret()),
    ));
    p
}

#[test]
fn secrets_never_appear() {
    let p = secret_plan();
    for color in [false, true] {
        let text = human_plan(&p, &RenderOptions { color });
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("old-secret-value"), "{text}");
        assert!(text.contains("(sensitive value)"));
    }
    let text = human_plan(&p, &PLAIN);
    assert!(
        text.contains("      + password = (sensitive value)\n"),
        "{text}"
    );
    assert!(
        text.contains("      + map      = {\n          + \"k\" = (sensitive value)\n        }\n"),
        "{text}"
    );
    assert!(text.contains("      + list     = [\n          + \"plain\",\n          + (sensitive value),\n        ]\n"), "{text}");
    assert!(
        text.contains("      ~ password = (sensitive value)\n"),
        "{text}"
    );
    assert!(
        text.contains("      ~ password = (sensitive value) -> (known after apply)\n"),
        "{text}"
    );
    assert!(
        text.contains("      - password = (sensitive value) -> null\n"),
        "{text}"
    );
    assert!(text.contains("  + flagged = (sensitive value)\n"), "{text}");
    assert!(text.contains("  ~ marked  = (sensitive value)\n"), "{text}");

    let json = serde_json::to_string(&json_plan(&p)).unwrap();
    assert!(!json.contains(SECRET), "{json}");
    assert!(!json.contains("old-secret-value"), "{json}");

    let value = obj(&[
        ("password", s(SECRET).sensitive()),
        ("list", Value::List(vec![s(SECRET).sensitive()])),
    ]);
    let shown = human_resource("local_file.f", "local_file", &value, &PLAIN);
    assert!(
        !shown.contains(SECRET) && shown.contains("password = (sensitive value)"),
        "{shown}"
    );
    assert!(!human_value(&value, 0).contains(SECRET));
    assert!(
        !human_resource(
            "local_file.f",
            "local_file",
            &value.clone().sensitive(),
            &PLAIN
        )
        .contains(SECRET)
    );
    assert_eq!(human_value(&s(SECRET).sensitive(), 4), "(sensitive value)");
}

#[test]
fn secrets_redacted_by_the_plan_file_still_show_as_sensitive() {
    let p = secret_plan();
    let back = Plan::from_file_bytes(&p.to_file_bytes()).unwrap();
    let text = human_plan(&back, &PLAIN);
    assert!(!text.contains(SECRET));
    assert!(
        text.contains("      + password = (sensitive value)\n"),
        "{text}"
    );
    assert!(
        text.contains("      - password = (sensitive value) -> null\n"),
        "{text}"
    );
}

#[test]
fn json_field_names() {
    let mut c = change(
        "module.m[\"k\"].null_resource.a[0]",
        Action::Replace,
        Some(obj(&[("id", s("1")), ("content", s("a"))])),
        Some(obj(&[("id", Value::Unknown), ("content", s("b"))])),
    );
    c.replace_because = vec!["content".into()];
    c.reason = Some("tainted".into());
    c.depends_on = vec!["null_resource.b".into()];
    let data = change(
        "data.local_file.cfg[\"x\"]",
        Action::Read,
        None,
        Some(obj(&[("filename", s("f"))])),
    );
    let noop = change(
        "null_resource.same",
        Action::NoOp,
        Some(obj(&[("id", s("1"))])),
        Some(obj(&[("id", s("1"))])),
    );
    let mut p = plan(vec![c, data, noop]);
    p.drift = drift_plan().drift;
    p.outputs
        .push(output("url", Action::Create, None, Some(s("http://x"))));
    let j = json_plan(&p);

    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "terraform_version",
            "dumcel_version",
            "lineage",
            "serial",
            "destroy",
            "variables",
            "planned_values",
            "resource_drift",
            "resource_changes",
            "output_changes",
            "applyable",
            "complete",
            "errored",
            "summary",
            "has_changes"
        ]
    );
    assert_eq!(j["format_version"], "1.2");
    assert_eq!(j["terraform_version"], "1.11.4");
    assert_eq!(j["dumcel_version"], "0.1.0");
    assert_eq!(j["lineage"], "lin-1");
    assert_eq!(j["serial"], 3);
    assert_eq!(j["destroy"], false);
    assert_eq!(j["has_changes"], true);
    assert_eq!(
        j["summary"],
        serde_json::json!({ "add": 1, "change": 0, "destroy": 1 })
    );

    let rc = &j["resource_changes"][0];
    let keys: Vec<&str> = rc.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "address",
            "module_address",
            "mode",
            "type",
            "name",
            "index",
            "provider_name",
            "action_reason",
            "depends_on",
            "change"
        ]
    );
    assert_eq!(rc["address"], "module.m[\"k\"].null_resource.a[0]");
    assert_eq!(rc["module_address"], "module.m[\"k\"]");
    assert_eq!(rc["mode"], "managed");
    assert_eq!(rc["type"], "null_resource");
    assert_eq!(rc["name"], "a");
    assert_eq!(rc["index"], 0);
    assert_eq!(rc["provider_name"], "builtin");
    assert_eq!(rc["action_reason"], "tainted");
    assert_eq!(rc["depends_on"], serde_json::json!(["null_resource.b"]));
    assert_eq!(
        rc["change"],
        serde_json::json!({
            "actions": ["delete", "create"],
            "before": { "content": "a", "id": "1" },
            "after": { "content": "b" },
            "after_unknown": { "id": true },
            "before_sensitive": {},
            "after_sensitive": {},
            "replace_paths": [["content"]],
        })
    );
    let keys: Vec<&str> = rc["change"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "actions",
            "before",
            "after",
            "after_unknown",
            "before_sensitive",
            "after_sensitive",
            "replace_paths"
        ]
    );

    let data = &j["resource_changes"][1];
    assert_eq!(data["mode"], "data");
    assert_eq!(data["index"], "x");
    assert!(data.get("module_address").is_none());
    assert!(data.get("action_reason").is_none());
    assert_eq!(data["change"]["actions"], serde_json::json!(["read"]));
    assert_eq!(data["change"]["before"], serde_json::Value::Null);
    assert_eq!(data["change"]["before_sensitive"], false);

    let noop = &j["resource_changes"][2];
    assert!(noop.get("index").is_none());
    assert_eq!(noop["change"]["actions"], serde_json::json!(["no-op"]));

    assert_eq!(
        j["resource_drift"][1]["change"]["actions"],
        serde_json::json!(["delete"])
    );
    assert_eq!(
        j["resource_drift"][1]["change"]["after"],
        serde_json::Value::Null
    );
    assert_eq!(j["resource_drift"][1]["change"]["after_unknown"], false);

    assert_eq!(
        j["output_changes"]["url"],
        serde_json::json!({
            "actions": ["create"],
            "before": null,
            "after": "http://x",
            "after_unknown": false,
            "before_sensitive": false,
            "after_sensitive": false,
        })
    );
}

#[test]
fn after_unknown_and_sensitive_trees() {
    let after = obj(&[
        ("id", Value::Unknown),
        ("known", s("x")),
        ("tags", obj(&[("a", s("1")), ("b", Value::Unknown)])),
        ("plain_map", obj(&[("a", s("1"))])),
        ("list", Value::List(vec![s("a"), Value::Unknown])),
        (
            "blocks",
            Value::List(vec![obj(&[("port", Value::Unknown), ("path", s("/"))])]),
        ),
        ("pw", s(SECRET).sensitive()),
        ("nested_pw", obj(&[("k", s(SECRET).sensitive())])),
        ("null", Value::Null),
    ]);
    let p = plan(vec![change(
        "null_resource.a",
        Action::Create,
        None,
        Some(after),
    )]);
    let j = json_plan(&p);
    let c = &j["resource_changes"][0]["change"];
    assert_eq!(
        c["after_unknown"],
        serde_json::json!({
            "blocks": [{ "port": true }],
            "id": true,
            "list": [false, true],
            "nested_pw": {},
            "plain_map": {},
            "tags": { "b": true },
        })
    );
    assert_eq!(
        c["after"],
        serde_json::json!({
            "blocks": [{ "path": "/" }],
            "known": "x",
            "list": ["a", null],
            "nested_pw": { "k": null },
            "null": null,
            "plain_map": { "a": "1" },
            "pw": null,
            "tags": { "a": "1" },
        })
    );
    assert_eq!(
        c["after_sensitive"],
        serde_json::json!({
            "blocks": [{}],
            "list": [false, false],
            "nested_pw": { "k": true },
            "plain_map": {},
            "pw": true,
            "tags": {},
        })
    );
    assert_eq!(c["before_sensitive"], false);

    let known = plan(vec![change(
        "null_resource.k",
        Action::Create,
        None,
        Some(obj(&[("id", s("1"))])),
    )]);
    assert_eq!(
        json_plan(&known)["resource_changes"][0]["change"]["after_unknown"],
        serde_json::json!({})
    );

    let mut outputs = plan(Vec::new());
    outputs
        .outputs
        .push(output("later", Action::Create, None, Some(Value::Unknown)));
    outputs.outputs.push(OutputChange {
        name: "secret".into(),
        action: Action::Update,
        before: Some(s("a")),
        after: Some(s("b")),
        sensitive: true,
    });
    let j = json_plan(&outputs);
    assert_eq!(j["output_changes"]["later"]["after_unknown"], true);
    assert!(
        j["output_changes"]["later"].get("after").is_none(),
        "Terraform leaves out an unknown output's after: {}",
        j["output_changes"]["later"]
    );
    assert_eq!(
        j["output_changes"]["secret"],
        serde_json::json!({
            "actions": ["update"],
            "before": null,
            "after": null,
            "after_unknown": false,
            "before_sensitive": true,
            "after_sensitive": true,
        })
    );
}

#[test]
fn human_value_layout() {
    assert_eq!(human_value(&s("x"), 0), "\"x\"");
    assert_eq!(human_value(&Value::Number(3.0), 0), "3");
    assert_eq!(human_value(&Value::Null, 0), "null");
    assert_eq!(human_value(&Value::Unknown, 0), "(known after apply)");
    assert_eq!(human_value(&Value::List(Vec::new()), 0), "[]");
    assert_eq!(human_value(&obj(&[]), 0), "{}");
    let v = obj(&[
        ("a", s("x")),
        (
            "list",
            Value::List(vec![Value::Number(1.0), obj(&[("k", Value::Bool(true))])]),
        ),
        ("ml", s("a\nb\n")),
    ]);
    assert_eq!(
        human_value(&v, 0),
        r#"{
  "a"    = "x"
  "list" = [
    1,
    {
      "k" = true
    },
  ]
  "ml"   = <<-EOT
    a
    b
  EOT
}"#
    );
    assert_eq!(
        human_value(&Value::List(vec![s("a")]), 4),
        "[\n      \"a\",\n    ]"
    );
}

#[test]
fn human_resource_layout() {
    let value = obj(&[
        ("id", s("1")),
        ("content", s("a\n\nb")),
        ("tags", obj(&[("x y", s("1"))])),
        (
            "rule",
            Value::List(vec![obj(&[("port", Value::Number(80.0))])]),
        ),
        ("no_blocks", Value::List(Vec::new())),
        ("unset", Value::Null),
        ("pw", s("z").sensitive()),
    ]);
    assert_eq!(
        human_resource("local_file.f", "local_file", &value, &PLAIN),
        r#"# local_file.f:
resource "local_file" "f" {
    content = <<-EOT
        a

        b
    EOT
    id      = "1"
    pw      = (sensitive value)
    rule    = [
        {
            port = 80
        },
    ]
    tags    = {
        "x y" = "1"
    }
}
"#
    );
    assert_eq!(
        human_resource("data.local_file.c[0]", "local_file", &obj(&[]), &PLAIN),
        "# data.local_file.c[0]:\ndata \"local_file\" \"c\" {}\n"
    );
}

mod leak {
    use super::*;
    use proptest::prelude::*;

    /// Random values where every sensitive mark hides the secret somewhere inside.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0..5i32).prop_map(|n| Value::Number(n.into())),
            prop::sample::select(vec!["a", "b", "x\ny\n", "{\"k\":1}", "[1,2]"]).prop_map(s),
            Just(Value::Unknown),
            Just(s(SECRET).sensitive()),
            Just(s(&format!("a\n{SECRET}\nb")).sensitive()),
            Just(s(&format!("{{\"pw\":\"{SECRET}\"}}")).sensitive()),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                prop::collection::btree_map(
                    prop::sample::select(vec!["id", "k", "tags", "x y"]).prop_map(String::from),
                    inner.clone(),
                    0..4
                )
                .prop_map(|m| Value::Map(m.into_iter().collect())),
                prop::collection::vec(inner, 0..3).prop_map(|items| Value::List(items).sensitive()),
            ]
        })
    }

    fn object() -> impl Strategy<Value = Value> {
        prop::collection::btree_map(
            prop::sample::select(vec!["id", "content", "tags", "rule", "pw"])
                .prop_map(String::from),
            value(),
            0..5,
        )
        .prop_map(|m| Value::Map(m.into_iter().collect()))
    }

    proptest! {
        #[test]
        fn no_output_ever_holds_a_secret(
            before in object(),
            after in object(),
            action in prop::sample::select(vec![
                Action::Create, Action::Update, Action::Replace, Action::Delete, Action::Read,
            ]),
        ) {
            let mut p = plan(vec![change("local_file.f", action, Some(before.clone()), Some(after.clone()))]);
            p.drift.push(change("local_file.f", Action::Update, Some(before.clone()), Some(after.clone())));
            p.outputs.push(output("o", Action::Update, Some(before.clone()), Some(after.clone())));
            for color in [false, true] {
                let text = human_plan(&p, &RenderOptions { color });
                prop_assert!(!text.contains(SECRET), "{}", text);
            }
            let json = serde_json::to_string(&json_plan(&p)).unwrap();
            prop_assert!(!json.contains(SECRET), "{}", json);
            prop_assert!(!human_resource("local_file.f", "local_file", &after, &PLAIN).contains(SECRET));
            prop_assert!(!human_value(&before, 2).contains(SECRET));
        }
    }
}
