//! In a sandboxed (pipeline) run the host decides the AWS credentials: the
//! role it pinned for the environment, or its own chain. A stack that names
//! a profile, keys or a role of its own would reach whatever the worker's
//! machine holds under that name (a production profile, say) from a branch,
//! so it is refused, each setting at its line, before any state is opened.

use dumcel_engine::config::{Diagnostic, Diagnostics, Module};
use dumcel_provider_aws::PROVIDER;
use dumcel_provider_aws::config::CREDENTIAL_SETTINGS;

/// Refuses every credential setting of `module`'s `provider "aws"` block.
pub(crate) fn check_aws_provider(module: &Module, diags: &mut Diagnostics) {
    let Some(decl) = module.providers.get(PROVIDER) else {
        return;
    };
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
