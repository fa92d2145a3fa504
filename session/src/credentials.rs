//! In a sandboxed (pipeline) run the host decides the AWS credentials: the
//! role it pinned for the environment, or its own chain. A stack that names
//! a profile, keys or a role of its own would reach whatever the worker's
//! machine holds under that name (a production profile, say) from a branch,
//! so it is refused, each setting at its line, before any state is opened.

use dumcel_engine::config::{Diagnostic, Diagnostics, Module, ProviderDecl};
use dumcel_provider_aws::PROVIDER;
use dumcel_provider_aws::config::CREDENTIAL_SETTINGS;

/// Refuses every credential setting of `module`'s `provider "aws"` blocks,
/// the default one and every alias.
pub(crate) fn check_aws_provider(module: &Module, diags: &mut Diagnostics) {
    for decl in module.providers.values().filter(|d| d.name == PROVIDER) {
        check_block(decl, diags);
    }
}

fn check_block(decl: &ProviderDecl, diags: &mut Diagnostics) {
    let attributes = decl.body.attributes.values().map(|a| (&a.name, a.span));
    let blocks = decl.body.blocks.iter().map(|b| (&b.name, b.span));
    for (name, span) in attributes.chain(blocks) {
        if CREDENTIAL_SETTINGS.contains(&name.as_str()) {
            diags.push(Diagnostic::error(
                format!(
                    "pipeline runs take their AWS credentials from the daemon's role for the environment; remove `{name}` from provider \"{PROVIDER}\""
                ),
                "A pipeline run may not choose its own AWS credentials (profiles, keys, roles): the daemon assumes the role configured for the environment in its `roles` block, or uses its own credentials.",
                Some(span),
            ));
        }
    }
}
