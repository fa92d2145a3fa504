//! Tests of the functions added to cover Terraform 1.11's list: date and time,
//! templates, fileset, the text encodings and the mark functions. Expected
//! values are what `terraform console` (1.11.4) printed for the same calls.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::tests::{call_in, err, list, map, n, ok, s, strs};
use super::{Clock, FuncContext, call};
use dumcel_planner::Value;

fn with_clock(clock: Clock, name: &str, args: Vec<Value>) -> Result<Value, String> {
    let ctx = FuncContext {
        base_dir: Path::new("."),
        confine_files: None,
        clock,
    };
    call(name, args, &ctx).expect("a built-in function")
}

fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    text.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && text
            .bytes()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit())
}

// ---------------------------------------------------------------------------
// formatdate

#[test]
fn formatdate_matches_terraform() {
    let t = "2018-01-02T23:12:01Z";
    let cases = [
        ("DD MMM YYYY hh:mm ZZZ", t, "02 Jan 2018 23:12 UTC"),
        (
            "EEEE, DD-MMM-YY hh:mm:ss ZZZ",
            t,
            "Tuesday, 02-Jan-18 23:12:01 UTC",
        ),
        (
            "EEE, DD MMM YYYY hh:mm:ss Z",
            "2018-01-02T23:12:01-08:00",
            "Tue, 02 Jan 2018 23:12:01 -08:00",
        ),
        ("MMM DD, YYYY", t, "Jan 02, 2018"),
        ("h:mm AA", t, "23:12 PM"),
        ("h:mm aa", "2018-01-02T03:12:01Z", "3:12 am"),
        (
            "'Date:' YYYY-MM-DD 'o''clock' ''",
            t,
            "Date: 2018-01-02 o'clock '",
        ),
        (
            "ZZZZ ZZZZZ ZZZ Z",
            "2018-01-02T23:12:01+05:30",
            "+0530 +05:30 +0530 +05:30",
        ),
        ("ZZZZ ZZZZZ ZZZ Z", t, "+0000 +00:00 UTC Z"),
        ("EEE MMMM", t, "Tue January"),
        ("HH:mm", t, "11:12"),
        ("H M D", "2018-03-04T00:00:00Z", "12 3 4"),
    ];
    for (format, time, want) in cases {
        assert_eq!(
            ok("formatdate", vec![s(format), s(time)]),
            s(want),
            "formatdate({format:?}, {time:?})"
        );
    }
}

#[test]
fn formatdate_refuses_what_terraform_refuses() {
    let t = s("2018-01-02T23:12:01Z");
    let cases = [
        ("HH:mm BBBB", "invalid date format verb \"BBBB\""),
        ("YYYYY", "year must either be \"YY\" or \"YYYY\""),
        ("ss.sss", "second must either be \"s\" or \"ss\""),
        ("DDD", "day of month must either be \"D\" or \"DD\""),
        ("A", "must be \"AA\""),
        ("xyz! 12", "invalid date format verb \"x\""),
        ("YYYY 'unterminated", "unterminated literal '"),
    ];
    for (format, want) in cases {
        let got = err("formatdate", vec![s(format), t.clone()]);
        assert!(
            got.starts_with("Invalid value for \"format\" parameter") && got.contains(want),
            "formatdate({format:?}): {got}"
        );
    }
    for time in ["2018-01-02", "2018-01-02 23:12:01Z", "2018-01-02t23:12:01z"] {
        let got = err("formatdate", vec![s("DD"), s(time)]);
        assert!(
            got.starts_with(
                "Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: missing \
                 required time introducer 'T'"
            ),
            "{time}: {got}"
        );
    }
    let got = err("formatdate", vec![s("DD"), s("bad")]);
    assert!(got.contains("not a valid RFC3339 timestamp"), "{got}");
}

// ---------------------------------------------------------------------------
// timeadd, timecmp

#[test]
fn timeadd_matches_terraform() {
    let base = "2017-11-22T00:00:00Z";
    let cases = [
        (base, "10m", "2017-11-22T00:10:00Z"),
        (base, "-1h30m", "2017-11-21T22:30:00Z"),
        (base, "1.5h", "2017-11-22T01:30:00Z"),
        (base, "+3s", "2017-11-22T00:00:03Z"),
        (base, "0", base),
        (base, "1us2ns", base),
        (base, "1\u{b5}s", base),
        (
            "2017-11-22T00:00:00+05:00",
            "1h",
            "2017-11-22T01:00:00+05:00",
        ),
        // Fractional seconds are dropped from the result, as Go's RFC3339.
        ("2017-11-22T00:00:00.5Z", "1ms", base),
        ("2017-11-22T00:00:00+00:00", "24h", "2017-11-23T00:00:00Z"),
    ];
    for (time, duration, want) in cases {
        assert_eq!(
            ok("timeadd", vec![s(time), s(duration)]),
            s(want),
            "timeadd({time:?}, {duration:?})"
        );
    }
    assert_eq!(
        err("timeadd", vec![s(base), s("1d")]),
        "time: unknown unit \"d\" in duration \"1d\""
    );
    assert_eq!(
        err("timeadd", vec![s(base), s("")]),
        "time: invalid duration \"\""
    );
    assert_eq!(
        err("timeadd", vec![s(base), s("5")]),
        "time: missing unit in duration \"5\""
    );
    assert_eq!(
        err("timeadd", vec![s(base), s("1h.")]),
        "time: invalid duration \"1h.\""
    );
    assert_eq!(
        err("timeadd", vec![s(base), s("99999999999999999999h")]),
        "time: invalid duration \"99999999999999999999h\""
    );
    assert!(err("timeadd", vec![s("bad"), s("1h")]).contains("not a valid RFC3339 timestamp"));
}

#[test]
fn timecmp_matches_terraform() {
    let cmp = |a: &str, b: &str| ok("timecmp", vec![s(a), s(b)]);
    assert_eq!(cmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z"), n(0.0));
    assert_eq!(cmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z"), n(-1.0));
    assert_eq!(cmp("2017-11-22T01:00:00Z", "2017-11-22T00:00:00Z"), n(1.0));
    // The same instant written in two offsets is equal; 01:00+01:00 is 00:00Z.
    assert_eq!(
        cmp("2017-11-22T01:00:00Z", "2017-11-22T01:00:00+01:00"),
        n(1.0)
    );
    assert_eq!(
        cmp("2017-11-22T01:00:00+01:00", "2017-11-22T00:00:00Z"),
        n(0.0)
    );
    let got = err("timecmp", vec![s("2017-11-22T01:00:00Z"), s("nope")]);
    assert!(
        got.starts_with(
            "Invalid value for \"timestamp_b\" parameter: not a valid RFC3339 timestamp"
        ),
        "{got}"
    );
}

// ---------------------------------------------------------------------------
// timestamp, plantimestamp, uuid: the clock

#[test]
fn impure_functions_are_unknown_while_planning() {
    let plan = Clock::default();
    assert_eq!(with_clock(plan, "timestamp", vec![]), Ok(Value::Unknown));
    assert_eq!(with_clock(plan, "uuid", vec![]), Ok(Value::Unknown));
}

#[test]
fn impure_functions_have_values_while_applying() {
    let apply = Clock::default().applying(true);
    let Ok(Value::String(now)) = with_clock(apply, "timestamp", vec![]) else {
        panic!("timestamp() at apply must be a string");
    };
    assert!(is_rfc3339_utc(&now), "{now}");
    // It is now: timecmp against a time well before and well after.
    assert_eq!(
        ok("timecmp", vec![s(&now), s("2020-01-01T00:00:00Z")]),
        n(1.0)
    );
    assert_eq!(
        ok("timecmp", vec![s(&now), s("2200-01-01T00:00:00Z")]),
        n(-1.0)
    );
    let Ok(Value::String(a)) = with_clock(apply, "uuid", vec![]) else {
        panic!("uuid() at apply must be a string");
    };
    let Ok(Value::String(b)) = with_clock(apply, "uuid", vec![]) else {
        panic!("uuid() at apply must be a string");
    };
    assert_eq!(a.len(), 36, "{a}");
    assert_eq!(a.matches('-').count(), 4, "{a}");
    assert_ne!(a, b, "each uuid() call is a new UUID");
}

#[test]
fn plantimestamp_is_the_plan_start_in_plan_and_apply() {
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_514_934_721);
    let plan = Clock {
        applying: false,
        plan_started: started,
    };
    let want = s("2018-01-02T23:12:01Z");
    assert_eq!(with_clock(plan, "plantimestamp", vec![]), Ok(want.clone()));
    assert_eq!(
        with_clock(plan.applying(true), "plantimestamp", vec![]),
        Ok(want)
    );
    // Without a given start, every call of one run agrees.
    let first = with_clock(Clock::default(), "plantimestamp", vec![]).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let second = with_clock(Clock::default(), "plantimestamp", vec![]).unwrap();
    assert_eq!(first, second);
    assert!(is_rfc3339_utc(first.as_str().unwrap()), "{first:?}");
}

// ---------------------------------------------------------------------------
// fileset

/// The tree the fileset calls above were run on in Terraform.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["d/sub/deep", "d/.hid"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for file in [
        "d/a.txt",
        "d/b.txt",
        "d/c.md",
        "d/sub/x.txt",
        "d/sub/deep/y.txt",
        "d/.hid/z.txt",
        "d/.dot.txt",
    ] {
        std::fs::write(dir.path().join(file), "x").unwrap();
    }
    dir
}

#[test]
fn fileset_matches_terraform() {
    let dir = tree();
    let fileset =
        |path: &str, pattern: &str| call_in(dir.path(), "fileset", vec![s(path), s(pattern)]);
    let cases: &[(&str, &str, &[&str])] = &[
        ("d", "*.txt", &[".dot.txt", "a.txt", "b.txt"]),
        (
            "d",
            "**",
            &[
                ".dot.txt",
                ".hid/z.txt",
                "a.txt",
                "b.txt",
                "c.md",
                "sub/deep/y.txt",
                "sub/x.txt",
            ],
        ),
        (
            "d",
            "**/*.txt",
            &[
                ".dot.txt",
                ".hid/z.txt",
                "a.txt",
                "b.txt",
                "sub/deep/y.txt",
                "sub/x.txt",
            ],
        ),
        ("d", "{a,c}.*", &["a.txt", "c.md"]),
        ("d", "[ab].txt", &["a.txt", "b.txt"]),
        ("d", "?.md", &["c.md"]),
        ("d", "sub/*", &["sub/x.txt"]),
        ("d", "./sub/../*.md", &["c.md"]),
        ("d/", "sub/**/*.txt", &["sub/deep/y.txt", "sub/x.txt"]),
        ("nonexistent", "*", &[]),
        ("d/sub", "../*.md", &["../c.md"]),
    ];
    for (path, pattern, want) in cases {
        assert_eq!(
            fileset(path, pattern),
            Ok(strs(want)),
            "fileset({path:?}, {pattern:?})"
        );
    }
    let got = fileset("d", "[").unwrap_err();
    assert!(got.starts_with("failed to glob pattern \"d/[\""), "{got}");
}

#[test]
fn fileset_confined_stays_in_the_checkout() {
    let dir = tree();
    let root = dir.path().join("d");
    let ctx = FuncContext {
        base_dir: &root,
        confine_files: Some(&root),
        clock: Clock::default(),
    };
    let fileset = |path: &str, pattern: &str| {
        call("fileset", vec![s(path), s(pattern)], &ctx).expect("a built-in function")
    };
    assert_eq!(fileset("sub", "*.txt"), Ok(strs(&["x.txt"])));
    for (path, pattern) in [("..", "*"), ("sub", "../../*"), ("/etc", "*")] {
        let got = fileset(path, pattern);
        assert!(
            got.as_ref()
                .is_err_and(|e| e.contains("is outside the checkout")),
            "fileset({path:?}, {pattern:?}) = {got:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn fileset_confined_leaves_out_symlinks_out() {
    let dir = tree();
    let root = dir.path().join("d");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("outdir")).unwrap();
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("alias.txt")).unwrap();
    let ctx = FuncContext {
        base_dir: &root,
        confine_files: Some(&root),
        clock: Clock::default(),
    };
    let got = call("fileset", vec![s("."), s("**/*.txt")], &ctx).unwrap();
    assert_eq!(
        got,
        Ok(strs(&[
            ".dot.txt",
            ".hid/z.txt",
            "a.txt",
            "alias.txt",
            "b.txt",
            "sub/deep/y.txt",
            "sub/x.txt"
        ]))
    );
    // Unconfined, a symlinked file counts as Terraform's does.
    let got = call_in(&root, "fileset", vec![s("."), s("*.txt")]);
    assert_eq!(
        got,
        Ok(strs(&[
            ".dot.txt",
            "a.txt",
            "alias.txt",
            "b.txt",
            "leak.txt"
        ]))
    );
}

// ---------------------------------------------------------------------------
// templatefile, templatestring

fn template_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "t.tpl",
        "Hello ${name}!\n%{ for i in items ~}\n- ${i}\n%{ endfor ~}\n%{ if flag }yes%{ else }no%{ endif }",
    );
    write("single.tpl", "${items}");
    write("rec.tpl", "${templatefile(\"t.tpl\", {})}");
    write(
        "fn.tpl",
        "${upper(name)} $${literal} %%{x} ${length(items)}",
    );
    write("bad.tpl", "a ${ b");
    std::fs::write(dir.path().join("bin.tpl"), [0xffu8, 0xfe]).unwrap();
    dir
}

#[test]
fn templatefile_matches_terraform() {
    let dir = template_dir();
    let render = |file: &str, vars: Value| call_in(dir.path(), "templatefile", vec![s(file), vars]);
    let vars = map(&[
        ("name", s("World")),
        ("items", strs(&["a", "b"])),
        ("flag", Value::Bool(true)),
    ]);
    assert_eq!(render("t.tpl", vars), Ok(s("Hello World!\n- a\n- b\nyes")));
    let vars = map(&[
        ("name", s("W")),
        ("items", list(vec![])),
        ("flag", Value::Bool(false)),
        ("bad-key", n(1.0)),
    ]);
    assert_eq!(render("t.tpl", vars), Ok(s("Hello W!\nno")));
    // A template that is one interpolation returns its value as it is.
    assert_eq!(
        render("single.tpl", map(&[("items", strs(&["a", "b"]))])),
        Ok(strs(&["a", "b"]))
    );
    // Functions work; escapes give the literal text.
    assert_eq!(
        render(
            "fn.tpl",
            map(&[("name", s("x")), ("items", strs(&["a", "b"]))])
        ),
        Ok(s("X ${literal} %{x} 2"))
    );
}

#[test]
fn templatefile_errors_say_what_and_where() {
    let dir = template_dir();
    let render = |file: &str, vars: Value| call_in(dir.path(), "templatefile", vec![s(file), vars]);
    // Only vars are in scope.
    let got = render("t.tpl", map(&[("name", s("World"))])).unwrap_err();
    assert!(
        got.starts_with("t.tpl:2,13: Unknown name \"items\""),
        "{got}"
    );
    let got = render("rec.tpl", map(&[])).unwrap_err();
    assert!(
        got.starts_with("rec.tpl:1,3: cannot call templatefile from inside a template"),
        "{got}"
    );
    assert_eq!(
        render("t.tpl", s("x")).unwrap_err(),
        "Invalid value for \"vars\" parameter: invalid vars value: must be a map"
    );
    let got = render("nofile.tpl", map(&[])).unwrap_err();
    assert!(
        got.starts_with("Invalid value for \"path\" parameter: no file exists at \"nofile.tpl\""),
        "{got}"
    );
    let got = render("bin.tpl", map(&[])).unwrap_err();
    assert!(got.contains("are not valid UTF-8"), "{got}");
    let got = render("bad.tpl", map(&[])).unwrap_err();
    assert!(got.starts_with("bad.tpl:1,"), "{got}");
}

#[test]
fn templatefile_marks_follow_vars() {
    let dir = template_dir();
    let render = |vars: Value| call_in(dir.path(), "templatefile", vec![s("fn.tpl"), vars]);
    let got = render(map(&[
        ("name", s("hunter2").sensitive()),
        ("items", strs(&[])),
    ]));
    assert_eq!(got, Ok(s("HUNTER2 ${literal} %{x} 0").sensitive()));
    let got = render(map(&[("name", Value::Unknown), ("items", strs(&[]))]));
    assert_eq!(got, Ok(Value::Unknown));
}

#[test]
fn templatefile_is_confined() {
    let dir = template_dir();
    let sub = dir.path().join("stack");
    std::fs::create_dir(&sub).unwrap();
    let ctx = FuncContext {
        base_dir: &sub,
        confine_files: Some(&sub),
        clock: Clock::default(),
    };
    let got = call("templatefile", vec![s("../t.tpl"), map(&[])], &ctx).unwrap();
    assert!(
        got.as_ref()
            .is_err_and(|e| e.contains("is outside the checkout")),
        "{got:?}"
    );
}

#[test]
fn templatestring_renders_a_string() {
    assert_eq!(
        ok(
            "templatestring",
            vec![
                s("Hi ${x}, %{ if x > 1 }many%{ endif }"),
                map(&[("x", n(2.0))])
            ]
        ),
        s("Hi 2, many")
    );
}

// ---------------------------------------------------------------------------
// textencodebase64, textdecodebase64

#[test]
fn text_encodings_match_terraform() {
    let enc = |text: &str, e: &str| ok("textencodebase64", vec![s(text), s(e)]);
    let dec = |b64: &str, e: &str| ok("textdecodebase64", vec![s(b64), s(e)]);
    assert_eq!(
        enc("Hello World", "UTF-16LE"),
        s("SABlAGwAbABvACAAVwBvAHIAbABkAA==")
    );
    assert_eq!(enc("Hello World", "UTF-8"), s("SGVsbG8gV29ybGQ="));
    assert_eq!(enc("Héllo", "ISO-8859-1"), s("SOlsbG8="));
    assert_eq!(enc("a", "latin1"), s("YQ=="));
    assert_eq!(enc("€", "windows-1252"), s("gA=="));
    assert_eq!(enc("a", "UTF-16"), s("/v8AYQ=="));
    assert_eq!(
        dec("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE"),
        s("Hello World")
    );
    assert_eq!(dec("SOlsbG8=", "windows-1252"), s("Héllo"));
    assert_eq!(dec("/v8AYQ==", "utf-16"), s("a"));

    assert_eq!(
        err("textencodebase64", vec![s("€"), s("ISO-8859-1")]),
        "Invalid value for \"string\" parameter: the given string contains characters that \
         cannot be represented in ISO_8859-1:1987"
    );
    assert_eq!(
        err("textencodebase64", vec![s("é"), s("US-ASCII")]),
        "Invalid value for \"string\" parameter: the given string contains characters that \
         cannot be represented in US-ASCII"
    );
    assert!(
        err("textencodebase64", vec![s("a"), s("utf8")])
            .starts_with("Invalid value for \"encoding\" parameter: \"utf8\" is not an encoding")
    );
    assert_eq!(
        err("textdecodebase64", vec![s("gA=="), s("US-ASCII")]),
        "Invalid value for \"source\" parameter: the given string contains symbols that are \
         not defined for US-ASCII"
    );
    assert_eq!(
        err("textdecodebase64", vec![s("/w=="), s("UTF-8")]),
        "Invalid value for \"source\" parameter: the given string contains symbols that are \
         not defined for UTF-8"
    );
    assert_eq!(
        err("textdecodebase64", vec![s("!!"), s("UTF-8")]),
        "Invalid value for \"source\" parameter: the given value is has an invalid base64 \
         symbol at offset 0"
    );
}

// ---------------------------------------------------------------------------
// issensitive, ephemeralasnull

#[test]
fn mark_functions_match_terraform() {
    assert_eq!(
        ok("issensitive", vec![s("a").sensitive()]),
        Value::Bool(true)
    );
    assert_eq!(ok("issensitive", vec![s("a")]), Value::Bool(false));
    // Only the value's own mark counts, not its elements'.
    assert_eq!(
        ok("issensitive", vec![list(vec![s("a"), s("b").sensitive()])]),
        Value::Bool(false)
    );
    assert_eq!(ok("issensitive", vec![Value::Unknown]), Value::Unknown);
    assert_eq!(
        ok("issensitive", vec![Value::Unknown.sensitive()]),
        Value::Bool(true)
    );
    assert_eq!(ok("ephemeralasnull", vec![s("a")]), s("a"));
    assert_eq!(
        ok("ephemeralasnull", vec![s("a").sensitive()]),
        s("a").sensitive()
    );
    let partly_known = list(vec![s("a"), Value::Unknown]);
    assert_eq!(
        ok("ephemeralasnull", vec![partly_known.clone()]),
        partly_known
    );
}
