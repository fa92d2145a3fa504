//! Terraform's rules for its JSON syntax: which keys of which bodies are
//! blocks and how many labels they take, and how each argument's strings
//! are read ("block-type-specific exceptions" in Terraform's documentation).

/// The kind of body an object stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    Root,
    Resource,
    Lifecycle,
    Condition,
    Dynamic,
    Content,
    Provisioner,
    Connection,
    Variable,
    Output,
    Module,
    Provider,
    /// `terraform { ... }`: every value literal.
    Settings,
    /// A body whose values are all literal (`backend`, `required_providers`).
    Literal,
    Locals,
    Moved,
    Import,
    Removed,
    RemovedLifecycle,
    Check,
    /// An unknown top-level block type: not read; the loader names it.
    Unknown,
}

/// How a JSON string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A template (the general rule).
    Template,
    /// An expression written as a string: a reference, keyword or type.
    Reference,
    /// The string itself, no template.
    Literal,
}

/// `key` in a `ctx` body as a nested block type: its label count and body.
pub(super) fn nested_block(ctx: Ctx, key: &str) -> Option<(usize, Ctx)> {
    use Ctx::*;
    Some(match (ctx, key) {
        (Root, "resource" | "data" | "ephemeral") => (2, Resource),
        (Root, "variable") => (1, Variable),
        (Root, "output") => (1, Output),
        (Root, "module") => (1, Module),
        (Root, "provider") => (1, Provider),
        (Root, "locals") => (0, Locals),
        (Root, "terraform" | "dumcel") => (0, Settings),
        (Root, "moved") => (0, Moved),
        (Root, "import") => (0, Import),
        (Root, "removed") => (0, Removed),
        (Root, "check") => (1, Check),
        (Root, _) => (0, Unknown),
        (Resource, "lifecycle") => (0, Lifecycle),
        (Resource | Removed, "provisioner") => (1, Provisioner),
        (Resource | Provisioner, "connection") => (0, Connection),
        (Resource | Content, "dynamic") => (1, Dynamic),
        (Lifecycle | Output, "precondition") | (Lifecycle, "postcondition") => (0, Condition),
        (Variable, "validation") | (Check, "assert") => (0, Condition),
        (Dynamic, "content") => (0, Content),
        (Settings, "backend" | "provider_meta") => (1, Literal),
        (Settings, "required_providers" | "cloud") => (0, Literal),
        (Removed, "lifecycle") => (0, RemovedLifecycle),
        (Check, "data") => (2, Resource),
        _ => return None,
    })
}

/// How the strings of argument `key` in a `ctx` body are read (Terraform's
/// "block-type-specific exceptions" of its JSON syntax).
pub(super) fn argument_mode(ctx: Ctx, key: &str) -> Mode {
    use Ctx::*;
    match (ctx, key) {
        (Resource, "provider" | "depends_on")
        | (Lifecycle, "ignore_changes" | "replace_triggered_by")
        | (Dynamic, "iterator")
        | (Provisioner, "when" | "on_failure")
        | (Variable, "type")
        | (Output | Module, "depends_on")
        | (Module, "providers")
        | (Moved, "from" | "to")
        | (Import, "to" | "provider")
        | (Removed, "from") => Mode::Reference,
        (Lifecycle, "create_before_destroy" | "prevent_destroy")
        | (Connection, "type")
        | (Variable, "default" | "description" | "sensitive" | "nullable" | "ephemeral")
        | (Output, "description" | "sensitive" | "ephemeral")
        | (Module, "source" | "version")
        | (Provider, "alias" | "version")
        | (Settings | Literal | RemovedLifecycle, _) => Mode::Literal,
        _ => Mode::Template,
    }
}
