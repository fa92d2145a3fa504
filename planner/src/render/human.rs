//! The human plan: drift section, legend, one block per change, summary,
//! changes to outputs.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::RenderOptions;
use super::diff::{Act, Differ, Keys, Opt};
use super::style::Palette;
use crate::address::{InstanceAddr, Mode};
use crate::plan::{Action, OutputChange, Plan, ResourceChange};
use crate::value::{Map, Value};

const RULE_WIDTH: usize = 77;

pub(crate) fn plan(plan: &Plan, opts: &RenderOptions) -> String {
    let pal = Palette::new(opts.color);
    let differ = Differ { pal: &pal };
    let mut out = String::new();
    let drift = drift(plan, opts);
    if !drift.is_empty() {
        out.push_str(&drift);
        out.push('\n');
    }
    if !plan.has_changes() {
        out.push_str(&format!(
            "{} Your infrastructure matches the configuration.\n\n\
             Dumcel has compared your real infrastructure against your configuration and found no differences, so no changes are needed.\n",
            pal.bold(&pal.green("No changes."))
        ));
        return out;
    }

    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.importing.is_some())
        .collect();
    for m in &plan.moved {
        out.push_str(&format!(
            "  {} has moved to {}\n",
            pal.bold(&format!("# {}", m.from)),
            m.to
        ));
    }
    if !plan.moved.is_empty() {
        out.push('\n');
    }
    for address in &plan.forgotten {
        out.push_str(&format!(
            "  {}\n  # (destroy = false is set in the configuration)\n\n",
            pal.bold(&format!(
                "# {address} will no longer be managed by Dumcel, but will not be destroyed"
            ))
        ));
    }
    if !changes.is_empty() {
        out.push_str("Resource actions are indicated with the following symbols:\n");
        for (action, text) in [
            (Action::Create, "create"),
            (Action::Update, "update in-place"),
            (Action::Delete, "destroy"),
            (Action::Replace, "destroy and then create replacement"),
            (Action::Read, "read (data resources)"),
        ] {
            if changes.iter().any(|c| c.action == action) {
                out.push_str(&format!("{} {text}\n", resource_symbol(&pal, action)));
            }
        }
        out.push_str("\nDumcel will perform the following actions:\n\n");
        out.reserve(changes.len() * 256);
        for change in &changes {
            change_block(&mut out, &differ, change, false);
            out.push('\n');
        }
        let mut summary = super::summary_line(&plan.summary());
        if !plan.forgotten.is_empty() {
            summary.pop();
            summary.push_str(&format!(", {} to forget.", plan.forgotten.len()));
        }
        let summary = match summary.strip_prefix("Plan:") {
            Some(rest) => format!("{}{rest}", pal.bold("Plan:")),
            None => summary,
        };
        out.push_str(&summary);
        out.push('\n');
    } else if !plan.forgotten.is_empty() {
        out.push_str(&format!(
            "{} 0 to add, 0 to change, 0 to destroy, {} to forget.\n",
            pal.bold("Plan:"),
            plan.forgotten.len()
        ));
    }

    let outputs: Vec<&OutputChange> = plan
        .outputs
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .collect();
    if !outputs.is_empty() {
        if !changes.is_empty() {
            out.push('\n');
        }
        out.push_str(&pal.bold("Changes to Outputs:"));
        out.push('\n');
        out.push_str(&output_lines(&differ, &outputs));
        if changes.is_empty() {
            out.push_str(
                "\nYou can apply this plan to save these new output values to the Dumcel state, without changing any real infrastructure.\n",
            );
        }
    }
    out
}

pub(crate) fn drift(plan: &Plan, opts: &RenderOptions) -> String {
    let drifted: Vec<&ResourceChange> = plan
        .drift
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .collect();
    if drifted.is_empty() {
        return String::new();
    }
    let pal = Palette::new(opts.color);
    let differ = Differ { pal: &pal };
    let mut out = format!(
        "{}\n\n\
         Dumcel detected the following changes made outside of Dumcel since the last \"dumcel apply\":\n\n",
        pal.bold("Note: Objects have changed outside of Dumcel")
    );
    for change in drifted {
        change_block(&mut out, &differ, change, true);
        out.push('\n');
    }
    out.push_str(
        "Unless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.\n\n",
    );
    out.push_str(&"─".repeat(RULE_WIDTH));
    out.push('\n');
    out
}

/// The three-column marker in front of `resource`.
fn resource_symbol(pal: &Palette, action: Action) -> String {
    match action {
        Action::Create => format!("  {}", pal.green("+")),
        Action::Update => format!("  {}", pal.yellow("~")),
        Action::Delete => format!("  {}", pal.red("-")),
        Action::Replace => pal.cyan_bold("-/+"),
        Action::Read => format!(" {}", pal.cyan("<=")),
        Action::NoOp => "   ".to_owned(),
    }
}

/// `resource` or `data`, the type and the name, from the address.
fn names(change: &ResourceChange) -> (&'static str, String, String) {
    match change.address.parse::<InstanceAddr>() {
        Ok(addr) => {
            let keyword = match addr.resource.mode {
                Mode::Managed => "resource",
                Mode::Data => "data",
            };
            (keyword, addr.resource.resource_type, addr.resource.name)
        }
        Err(_) => {
            let name = change
                .address
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .split('[')
                .next()
                .unwrap_or_default()
                .to_owned();
            ("resource", change.resource_type.clone(), name)
        }
    }
}

fn reason_line(address: &str, reason: &str) -> String {
    match reason {
        "tainted" => format!("  # (because {address} is tainted, so must be replaced)\n"),
        "no longer in configuration" | "not in configuration" => {
            format!("  # (because {address} is not in configuration)\n")
        }
        other => format!("  # (because {other})\n"),
    }
}

/// A resource's attributes as a map; a wholly sensitive object becomes a map
/// of sensitive attributes, and empty lists (absent nested blocks) are null.
fn attributes(value: Option<&Value>) -> Option<Cow<'_, Map>> {
    let value = value?;
    let (inner, sensitive) = value.unmark();
    let empty_list = |v: &Value| matches!(v, Value::List(items) if items.is_empty());
    match inner {
        Value::Null => None,
        Value::Map(map) if !sensitive && !map.values().any(empty_list) => Some(Cow::Borrowed(map)),
        Value::Map(map) => Some(Cow::Owned(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::List(items) if items.is_empty() => Value::Null,
                        other => other.clone(),
                    };
                    (k.clone(), v.mark_if(sensitive))
                })
                .collect(),
        )),
        // Not an object: show it under a pseudo-attribute rather than drop it.
        other => Some(Cow::Owned(Map::from([(
            "value".to_owned(),
            other.clone().mark_if(sensitive),
        )]))),
    }
}

/// Writes one resource's block: its heading, then its attributes' diff.
fn change_block(out: &mut String, differ: &Differ<'_>, change: &ResourceChange, drift: bool) {
    let pal = differ.pal;
    let address = &change.address;
    let (verb, action) = if drift {
        match change.action {
            Action::Delete => ("has been deleted", Action::Delete),
            _ => ("has been changed", Action::Update),
        }
    } else {
        let verb = match change.action {
            Action::Create => "will be created",
            Action::Update => "will be updated in-place",
            Action::Replace => "must be replaced",
            Action::Delete => "will be destroyed",
            Action::Read => "will be read during apply",
            Action::NoOp => "will be imported",
        };
        (verb, change.action)
    };
    let _ = writeln!(out, "  {} {verb}", pal.bold(&format!("# {address}")));
    if !drift && let Some(id) = &change.importing {
        let _ = writeln!(out, "    # (imported from \"{id}\")");
    }
    if !drift && let Some(reason) = &change.reason {
        out.push_str(&reason_line(address, reason));
    }

    let before = attributes(change.before.as_ref());
    let after = attributes(change.after.as_ref());
    let (before, after, act) = match action {
        Action::Create => (None, after, Act::Create),
        Action::Delete => (before, None, Act::Delete),
        Action::Read if before.is_none() => (None, after, Act::Create),
        _ => (before, after, Act::Update),
    };
    let (keyword, resource_type, name) = names(change);
    let _ = write!(
        out,
        "{} {keyword} \"{resource_type}\" \"{name}\" ",
        resource_symbol(pal, action)
    );
    differ.map(
        out,
        before.as_deref(),
        after.as_deref(),
        act,
        0,
        Opt::TOP,
        Keys::Attr,
        &change.replace_because,
    );
    out.push('\n');
}

fn output_lines(differ: &Differ<'_>, outputs: &[&OutputChange]) -> String {
    let width = outputs
        .iter()
        .map(|o| o.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for o in outputs {
        let mark = |v: &Option<Value>| {
            let v = v.clone().unwrap_or_default();
            if o.sensitive && !matches!(v, Value::Null) {
                v.sensitive()
            } else {
                v
            }
        };
        let (before, after) = (mark(&o.before), mark(&o.after));
        let act = match o.action {
            Action::Create => Act::Create,
            Action::Delete => Act::Delete,
            _ => Act::Update,
        };
        let (before, after) = match act {
            Act::Create => (Value::Null, after),
            Act::Delete => (before, Value::Null),
            _ => (before, after),
        };
        let opt = Opt {
            null_suffix: true,
            ..Opt::TOP
        };
        out.push_str("  ");
        differ.sym(&mut out, act);
        let _ = write!(out, " {:<width$} = ", o.name);
        differ.rhs(&mut out, &before, &after, act, 0, opt, Keys::Object);
        out.push('\n');
    }
    out
}
