use super::*;

use proptest::prelude::*;

/// Formats `input`, checks the result against `expected`, and checks that
/// formatting is idempotent and kept the meaning without the safety net.
#[track_caller]
fn check(input: &str, expected: &str) {
    let unchecked = format_unchecked(input).expect("tokenizes");
    assert_eq!(
        parse(&unchecked).expect("output parses"),
        parse(input).expect("input parses"),
        "meaning changed:\n{unchecked}"
    );
    let got = format_source(input).expect("valid input");
    assert_eq!(
        got, expected,
        "\n--- got ---\n{got}--- expected ---\n{expected}"
    );
    assert_eq!(format_source(&got).unwrap(), got, "not idempotent");
}

#[test]
fn aligns_equals_in_a_group() {
    check("a = 1\nbbb = 2\ncc=3\n", "a   = 1\nbbb = 2\ncc  = 3\n");
}

#[test]
fn blank_lines_comments_and_blocks_end_alignment_groups() {
    let input = "\
a = 1
bbb = 2

cc = 3
# a comment
dddd = 4
block {
x = 1
}
e = 5
";
    let expected = "\
a   = 1
bbb = 2

cc = 3
# a comment
dddd = 4
block {
  x = 1
}
e = 5
";
    check(input, expected);
}

#[test]
fn multi_line_values_end_alignment_groups() {
    let input = "\
a = 1
list = [
1,
2,
]
bbbbb = 2
obj = {
k = 1
}
c = 3
dd = f(
x)
";
    let expected = "\
a = 1
list = [
  1,
  2,
]
bbbbb = 2
obj = {
  k = 1
}
c = 3
dd = f(
x)
";
    check(input, expected);
}

#[test]
fn single_line_blocks_are_not_aligned() {
    check(
        "a = 1\nb {c = 1}\nlong_name = { x = 1 }\nd={}\n",
        "a = 1\nb { c = 1 }\nlong_name = { x = 1 }\nd         = {}\n",
    );
}

#[test]
fn reindents_nested_blocks_and_objects() {
    let input = "\
outer \"a\" \"b\"   {
        inner {
  deeper{
value = {
nested = {
x = [
1,
[
2,
],
]
}
}
  }
}
            }
";
    let expected = "\
outer \"a\" \"b\" {
  inner {
    deeper {
      value = {
        nested = {
          x = [
            1,
            [
              2,
            ],
          ]
        }
      }
    }
  }
}
";
    check(input, expected);
}

#[test]
fn several_brackets_opened_on_one_line_are_one_level() {
    let input = "\
x = merge({
a = 1
}, f([
2,
]))
y = [[
1
]]
";
    let expected = "\
x = merge({
  a = 1
  }, f([
    2,
]))
y = [[
  1
]]
";
    check(input, expected);
}

#[test]
fn normalizes_spacing_between_tokens() {
    let cases = [
        ("a=b.c", "a = b.c\n"),
        ("a=b [ c ]", "a = b[c]\n"),
        ("a=b()[c]", "a = b()[c]\n"),
        ("a=[\"hello\"][0]", "a = [\"hello\"][0]\n"),
        ("a = ( b+2 )", "a = (b + 2)\n"),
        ("a = ( b+-2 )", "a = (b + -2)\n"),
        ("a = (-2+1)", "a = (-2 + 1)\n"),
        ("a = foo(1, -2,b*c, d,e)", "a = foo(1, -2, b * c, d, e)\n"),
        ("a = foo(b,c...)", "a = foo(b, c...)\n"),
        ("a = ! true", "a = !true\n"),
        ("a = - 1", "a = -1\n"),
        ("a = b?c:d", "a = b ? c : d\n"),
        ("a = [ [ ] ]", "a = [[]]\n"),
        ("a = [for x in [y] : x]", "a = [for x in [y] : x]\n"),
        (
            "a = {for k,v in m: k=>v}",
            "a = { for k, v in m : k => v }\n",
        ),
        ("a = b&&c||!d", "a = b && c || !d\n"),
        ("a = b>=1 && c!=2", "a = b >= 1 && c != 2\n"),
        ("a = x.y[*].z", "a = x.y[*].z\n"),
        ("a = x . y . 0", "a = x.y.0\n"),
        ("a = provider :: ns :: fn(1)", "a = provider::ns::fn(1)\n"),
        ("b{}", "b {}\n"),
        ("b \"l\"{}", "b \"l\" {}\n"),
        ("b {a = 1}", "b { a = 1 }\n"),
        ("a = {b=1,c=2}", "a = { b = 1, c = 2 }\n"),
    ];
    for (input, expected) in cases {
        // Each case is one line; line breaks are kept as written.
        check(&format!("{input}\n"), expected);
    }
}

#[test]
fn heredocs_are_untouched() {
    let input = "\
block {
      text     = <<EOT
   odd   =   indentation   
{ not a block
  ${ x }   %{ if y }yes%{ endif }
# not a comment
EOT
        indented   = <<-EOT
              keep   me
          EOT
  empty = <<EOT
EOT
}
";
    let expected = "\
block {
  text     = <<EOT
   odd   =   indentation   
{ not a block
  ${ x }   %{ if y }yes%{ endif }
# not a comment
EOT
  indented = <<-EOT
              keep   me
          EOT
  empty    = <<EOT
EOT
}
";
    check(input, expected);
}

#[test]
fn heredoc_inside_a_call() {
    let input = "\
x = jsonencode(<<EOT
  {\"a\": 1}
EOT
)
y = trimspace(<<EOT
  a
  EOT
  )
";
    let expected = "\
x = jsonencode(<<EOT
  {\"a\": 1}
EOT
)
y = trimspace(<<EOT
  a
  EOT
)
";
    check(input, expected);
}

#[test]
fn strings_and_templates_are_untouched() {
    let input = r#"
a = "x = { # not // a /* comment */"
bb = "${ var.a }-${var.b+1}%{ if c }{ c }%{ else }d%{ endif }"
c = "escaped \" quote = ${ "nested = \"}\"" }"
dd = "$${literal}   %%{ literal }   "
e = { "key with = sign" = "v", k = "${ {a = 1}.a }" }
"#;
    let expected = r#"
a  = "x = { # not // a /* comment */"
bb = "${ var.a }-${var.b+1}%{ if c }{ c }%{ else }d%{ endif }"
c  = "escaped \" quote = ${ "nested = \"}\"" }"
dd = "$${literal}   %%{ literal }   "
e  = { "key with = sign" = "v", k = "${ {a = 1}.a }" }
"#;
    check(input, expected);
}

#[test]
fn comments_are_kept() {
    let input = "\
# hash comment   
// slash comment
/* block comment */
  /* multi
     line   
   block */
resource \"a\" \"b\" {
# inside
    a = 1 # end of line
  bbb = \"x\"    // end of line too
    c = 3 /* inline */
    d = [
  1, # one
      2, /* two */
# last
    ]
}
";
    // Comments keep their trailing spaces, as `terraform fmt` keeps them.
    let expected = "\
# hash comment   
// slash comment
/* block comment */
/* multi
     line   
   block */
resource \"a\" \"b\" {
  # inside
  a   = 1   # end of line
  bbb = \"x\" // end of line too
  c   = 3 /* inline */
  d = [
    1, # one
    2, /* two */
    # last
  ]
}
";
    check(input, expected);
}

#[test]
fn trailing_comments_align_like_terraform() {
    // Cases from the behaviour of `terraform fmt`.
    check(
        "a = 1 # foo\nbungle = \"bonce\" # baz\nzebra = \"striped\" # baz\n",
        "a      = 1         # foo\nbungle = \"bonce\"   # baz\nzebra  = \"striped\" # baz\n",
    );
    check(
        "foo {} # here we go\na = 1 # foo\nbungle = \"bonce\" # baz\n",
        "foo {}           # here we go\na      = 1       # foo\nbungle = \"bonce\" # baz\n",
    );
    check(
        "a=\"apple\"# foo\nbungle=(# woo parens\n\"bonce\"\n)# baz\nzebra=\"striped\"# baz\n",
        "a = \"apple\" # foo\nbungle = (  # woo parens\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
    );
}

#[test]
fn whitespace_and_line_ends() {
    // As `terraform fmt` (1.11) writes them: line breaks are kept, at the
    // end of the file too, and blank lines lose their spaces.
    check("", "");
    check(" \n\n\t\n", "\n\n\n");
    check("a = 1", "a = 1");
    check("a = 1   \n\n\n\n", "a = 1\n\n\n\n");
    check("a = 1\r\nbb = 2\r\n", "a  = 1\nbb = 2\n");
    check("\na = 1\n\n\n\nb = 2\n", "\na = 1\n\n\n\nb = 2\n");
    check("# only a comment", "# only a comment");
    // Comments keep their trailing spaces; bare labels are quoted.
    check(
        "a = 1 # x   \n/* y   \n  z */\n",
        "a = 1 # x   \n/* y   \n  z */\n",
    );
    check(
        "resource aws_s3_bucket b {\n}\n",
        "resource \"aws_s3_bucket\" \"b\" {\n}\n",
    );
}

#[test]
fn realistic_file_matches_terraform_fmt() {
    let input = include_str!("testdata/realistic_input.hcl");
    let expected = include_str!("testdata/realistic_expected.hcl");
    check(input, expected);
    check(expected, expected);
}

#[test]
fn invalid_hcl_is_a_syntax_error_with_its_position() {
    let cases: [(&str, usize); 4] = [
        ("a = 1\nb = = 2\n", 2),
        ("block {\n  a = 1\n\n  b = [1,\n}\n", 5),
        ("a = \"unterminated\n", 1),
        ("a = 1\nb = 2\nc = [1 2]\n", 3),
    ];
    for (input, line) in cases {
        match format_source(input) {
            Err(FormatError::Syntax {
                line: got,
                column,
                message,
            }) => {
                assert_eq!(got, line, "{input:?}: {column}: {message}");
                assert!(column >= 1);
            }
            Ok(out) => panic!("{input:?} formatted to {out:?}"),
        }
    }
    let error = format_source("a = 1\nb = = 2\n").unwrap_err();
    assert!(error.to_string().starts_with("2:"), "{error}");
}

#[test]
fn falls_back_to_the_input_when_meaning_would_change() {
    let source = "a = 1\n";
    let before = parse(source).unwrap();
    assert_eq!(checked(source, &before, "a = 2\n".into()), source);
    assert_eq!(checked(source, &before, "a = \n".into()), source);
    assert_eq!(checked(source, &before, "a=1\n".into()), "a=1\n");
}

// --- property tests -------------------------------------------------------

/// Optional whitespace between tokens on one line.
fn gap() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", " ", "  ", "\t", " \t "]).prop_map(str::to_owned)
}

/// Whitespace between tokens inside brackets, where line breaks are allowed.
fn nl_gap() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        " ",
        "\n",
        " \n  ",
        "\n\n\t",
        "  # c\n",
        " /* c */ ",
    ])
    .prop_map(str::to_owned)
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_-]{0,5}".prop_filter("keyword", |s| {
        !matches!(s.as_str(), "in" | "for" | "if" | "true" | "false" | "null")
    })
}

fn string_lit() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a",
            " ",
            "=",
            "{",
            "}",
            "#",
            "//",
            "/*",
            "\\\"",
            "\\\\",
            "$${x}",
            "%%{y}",
            "${ x }",
            "${f(1, \"}\")}",
            "%{ if c }y%{ endif }",
            "[",
            "]",
            ":",
            "  ",
        ]),
        0..6,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        ident(),
        "[0-9]{1,3}(\\.[0-9]{1,2})?",
        string_lit(),
        Just("true".to_owned()),
        Just("null".to_owned()),
        ident().prop_map(|i| format!("var.{i}")),
        (gap(), "[0-9]{1,2}").prop_map(|(g, n)| format!("-{g}{n}")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec((nl_gap(), inner.clone()), 0..4),
                nl_gap()
            )
                .prop_map(|(items, end)| {
                    let items: Vec<String> = items.into_iter().map(|(g, e)| g + &e).collect();
                    format!("[{}{end}]", items.join(","))
                }),
            (
                prop::collection::vec((nl_gap(), ident(), gap(), inner.clone(), nl_gap()), 0..4),
                nl_gap()
            )
                .prop_map(|(items, end)| {
                    let items: Vec<String> = items
                        .into_iter()
                        .map(|(g, k, g2, v, g3)| format!("{g}{k}{g2}={g2}{v}{g3}"))
                        .collect();
                    format!("{{{}{end}}}", items.join(","))
                }),
            (
                ident(),
                prop::collection::vec((nl_gap(), inner.clone()), 0..3),
                nl_gap()
            )
                .prop_map(|(f, args, end)| {
                    let args: Vec<String> = args.into_iter().map(|(g, e)| g + &e).collect();
                    format!("{f}({}{end})", args.join(","))
                }),
            (
                inner.clone(),
                gap(),
                prop::sample::select(vec!["+", "-", "*", "==", "&&", "<"]),
                gap(),
                inner.clone()
            )
                .prop_map(|(a, g, op, g2, b)| format!("({a}{g}{op}{g2}{b})")),
            (inner.clone(), gap(), inner.clone(), inner.clone())
                .prop_map(|(c, g, a, b)| format!("({c}{g}?{g}{a}{g}:{g}{b})")),
            (ident(), inner.clone(), inner.clone(), nl_gap()).prop_map(|(v, list, body, g)| {
                format!("[{g}for {v} in {list}{g}:{g}{body}{g}]")
            }),
            (inner.clone(), gap()).prop_map(|(e, g)| format!("!{g}{e}")),
        ]
    })
}

fn heredoc() -> impl Strategy<Value = String> {
    (
        prop::bool::ANY,
        prop::collection::vec("[ \\t]{0,4}[a-z={}#\\[ ]{0,8}[ \\t]{0,2}", 0..4),
        "[ ]{0,4}",
    )
        .prop_map(|(indented, lines, close)| {
            let dash = if indented { "-" } else { "" };
            let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
            format!("<<{dash}EOT\n{body}{close}EOT")
        })
}

fn comment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "# note",
        "// note  ",
        "/* note */",
        "/* a\n   b */",
        "#",
    ])
    .prop_map(str::to_owned)
}

fn body() -> impl Strategy<Value = String> {
    let attribute = (
        gap(),
        ident(),
        gap(),
        gap(),
        prop_oneof![4 => expr(), 1 => heredoc()],
        prop::option::of((gap(), comment())),
    )
        .prop_map(|(indent, name, g1, g2, value, comment)| {
            let comment = comment.map(|(g, c)| format!(" {g}{c}")).unwrap_or_default();
            format!("{indent}{name}{g1}={g2}{value}{comment}\n")
        });
    let line = prop_oneof![
        6 => attribute,
        1 => (gap(), comment()).prop_map(|(g, c)| format!("{g}{c}\n")),
        1 => gap().prop_map(|g| format!("{g}\n")),
    ];
    let lines = prop::collection::vec(line, 0..6).prop_map(|l| l.concat());
    lines.prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec(
            prop_oneof![
                3 => inner.clone(),
                1 => (gap(), ident(), prop::option::of(string_lit()), gap(), inner)
                    .prop_map(|(g, kind, label, g2, body)| {
                        let label = label.map(|l| format!(" {l}")).unwrap_or_default();
                        format!("{g}{kind}{label}{g2}{{\n{body}{g2}}}\n")
                    }),
            ],
            0..4,
        )
        .prop_map(|parts| parts.concat())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_hcl_keeps_its_meaning(source in body()) {
        let before = match parse(&source) {
            Ok(body) => body,
            // A few generated files are not valid HCL (e.g. `1[0]`): skip them.
            Err(_) => return Ok(()),
        };
        let out = format_unchecked(&source).expect("tokenizes valid HCL");
        let after = parse(&out);
        prop_assert!(after.is_ok(), "output does not parse: {:?}\n{}\n---\n{}", after, source, out);
        prop_assert_eq!(after.unwrap(), before, "meaning changed:\n{}\n---\n{}", source, out);
        let again = format_unchecked(&out).expect("tokenizes");
        prop_assert_eq!(&again, &out, "not idempotent:\n{}", source);
        prop_assert_eq!(format_source(&source).unwrap(), out);
    }

    #[test]
    fn arbitrary_strings_never_panic(source in any::<String>()) {
        if let Ok(out) = format_source(&source) {
            prop_assert_eq!(parse(&out).unwrap(), parse(&source).unwrap());
            prop_assert_eq!(format_source(&out).unwrap(), out);
        }
    }

    #[test]
    fn hcl_like_strings_never_panic(source in "[a-c0-9 \\n\\t{}\\[\\]()=\"#/*$%<>~.,:?!-]{0,48}") {
        if let Ok(out) = format_source(&source) {
            prop_assert_eq!(parse(&out).unwrap(), parse(&source).unwrap());
            prop_assert_eq!(format_source(&out).unwrap(), out);
        }
    }
}
