//! Expression semantics, as a Terraform user would check them.

use dumcel_engine::config::lower::Lowerer;
use dumcel_engine::eval::{Scope, eval};
use dumcel_planner::{Map, Value};

fn scope() -> Scope {
    let mut s = Scope::new(std::path::Path::new("."));
    s.set_attr(
        "var",
        "names",
        Value::List(vec!["a".into(), "b".into(), "c".into()]),
    );
    s.set_attr("var", "n", Value::Number(3.0));
    s.set_attr("var", "secret", Value::string("pw").sensitive());
    s.set_attr("var", "later", Value::Unknown);
    let mut obj = Map::new();
    obj.insert("id".into(), Value::string("i-1"));
    obj.insert(
        "tags".into(),
        Value::Map(
            [("env".to_string(), Value::string("prod"))]
                .into_iter()
                .collect(),
        ),
    );
    s.set_attr("null_resource", "one", Value::Map(obj.clone()));
    let mut other = obj.clone();
    other.insert("id".into(), Value::string("i-2"));
    s.set_attr(
        "null_resource",
        "many",
        Value::List(vec![Value::Map(obj), Value::Map(other)]),
    );
    s
}

fn ev(src: &str) -> Value {
    let expr = hcl_edit::parser::parse_expr(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let lowered = Lowerer::new(0).expr(&expr);
    eval(&lowered, &scope()).unwrap_or_else(|e| panic!("{src}: {} {}", e.summary, e.detail))
}

fn err(src: &str) -> String {
    let expr = hcl_edit::parser::parse_expr(src).unwrap();
    let lowered = Lowerer::new(0).expr(&expr);
    let e = eval(&lowered, &scope()).expect_err(src);
    format!("{} {}", e.summary, e.detail)
}

#[test]
fn arithmetic_comparison_logic_and_conditionals() {
    assert_eq!(ev("1 + 2 * 3"), Value::Number(7.0));
    assert_eq!(ev("(1 + 2) * 3 % 4"), Value::Number(1.0));
    assert_eq!(ev("\"5\" + 1"), Value::Number(6.0));
    assert_eq!(ev("var.n >= 3 && !false"), Value::Bool(true));
    assert_eq!(
        ev("var.n == 3 ? \"three\" : \"other\""),
        Value::string("three")
    );
    assert_eq!(ev("-var.n"), Value::Number(-3.0));
    assert!(err("1 / 0").contains("Division by zero"));
}

#[test]
fn templates_with_directives_and_strip_markers() {
    assert_eq!(ev("\"n=${var.n}\""), Value::string("n=3"));
    assert_eq!(
        ev("\"%{ if var.n > 2 }big%{ else }small%{ endif }\""),
        Value::string("big")
    );
    assert_eq!(
        ev("\"%{ for x in var.names }${x},%{ endfor }\""),
        Value::string("a,b,c,")
    );
    assert_eq!(ev("\"a ${~ \"b\" ~} c\""), Value::string("abc"));
    assert_eq!(
        ev("\"${var.n}\""),
        Value::Number(3.0),
        "a lone interpolation keeps its type"
    );
    let heredoc = "<<-EOT\n    hello ${var.names[0]}\n      indented\n    EOT";
    assert_eq!(ev(heredoc), Value::string("hello a\n  indented\n"));
}

#[test]
fn references_indexes_and_splats() {
    assert_eq!(ev("null_resource.one.tags[\"env\"]"), Value::string("prod"));
    assert_eq!(ev("null_resource.many[1].id"), Value::string("i-2"));
    assert_eq!(
        ev("null_resource.many[*].id"),
        Value::List(vec!["i-1".into(), "i-2".into()])
    );
    assert_eq!(
        ev("null_resource.many.*.id"),
        Value::List(vec!["i-1".into(), "i-2".into()])
    );
    assert_eq!(ev("var.names[length(var.names) - 1]"), Value::string("c"));
    assert!(err("var.names[5]").contains("out of range"));
    assert!(err("null_resource.one.nope").contains("no attribute named \"nope\""));
}

#[test]
fn for_expressions() {
    assert_eq!(
        ev("[for s in var.names : upper(s) if s != \"b\"]"),
        Value::List(vec!["A".into(), "C".into()])
    );
    let m = ev("{for i, s in var.names : s => i}");
    assert_eq!(m.get("c"), Some(&Value::Number(2.0)));
    let grouped = ev("{for s in [\"a\", \"b\", \"a\"] : s => s...}");
    assert_eq!(
        grouped.get("a"),
        Some(&Value::List(vec!["a".into(), "a".into()]))
    );
    assert!(err("{for s in [\"a\", \"a\"] : s => s}").contains("Duplicate object key"));
}

#[test]
fn unknown_and_sensitive_marks_flow_through() {
    assert_eq!(ev("var.later"), Value::Unknown);
    assert_eq!(ev("\"x-${var.later}\""), Value::Unknown);
    assert_eq!(ev("var.later == 1 ? 1 : 2"), Value::Unknown);
    assert_eq!(ev("length([var.later, 1])"), Value::Number(2.0));
    assert!(ev("\"pw=${var.secret}\"").is_sensitive());
    assert!(ev("upper(var.secret)").is_sensitive());
    assert!(ev("[for c in [var.secret] : c]").contains_sensitive());
    assert_eq!(ev("nonsensitive(var.secret)"), Value::string("pw"));
    // Errors never show a sensitive value.
    let e = err("var.secret + 1");
    assert!(!e.contains("pw"), "{e}");
}

#[test]
fn try_and_can_catch_errors() {
    assert_eq!(
        ev("try(var.names[9], \"fallback\")"),
        Value::string("fallback")
    );
    assert_eq!(ev("can(var.names[9])"), Value::Bool(false));
    assert_eq!(ev("can(var.names[0])"), Value::Bool(true));
    assert!(err("nosuchfn(1)").contains("Call to unknown function"));
    assert!(err("uper(\"x\")").contains("Did you mean \"upper\"?"));
}
