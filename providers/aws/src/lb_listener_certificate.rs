//! `aws_lb_listener_certificate`: one more (SNI) certificate on an HTTPS or
//! TLS listener, beside its default one (`certificate_arn` of the
//! `aws_lb_listener`). Both arguments replace it. `id` is Terraform's
//! `LISTENERARN_CERTIFICATEARN`; import takes that id.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::Certificate;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsResult, deleted, sdk};

pub struct LbListenerCertificate {
    shared: Arc<Shared>,
    schema: Schema,
}

/// The two ARNs of an id `LISTENERARN_CERTIFICATEARN`. ARNs hold no `_`
/// before their resource part, so the split is after the listener's
/// `...:listener/app/NAME/ID/ID`: the first `_` followed by `arn:`.
fn split_id(id: &str) -> Option<(&str, &str)> {
    let at = id.find("_arn:")?;
    let (listener, cert) = (&id[..at], &id[at + 1..]);
    (listener.starts_with("arn:") && !cert.is_empty()).then_some((listener, cert))
}

impl LbListenerCertificate {
    pub fn new(shared: Arc<Shared>) -> LbListenerCertificate {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("listener_arn", Attribute::required().force_new())
            .attr("certificate_arn", Attribute::required().force_new());
        LbListenerCertificate { shared, schema }
    }

    /// Whether the listener holds the certificate as a non-default one;
    /// `None` when the listener is gone.
    async fn holds(&self, listener: &str, cert: &str) -> AwsResult<Option<bool>> {
        let client = self.shared.elbv2().await;
        let mut marker: Option<String> = None;
        loop {
            let out = match client
                .describe_listener_certificates()
                .listener_arn(listener)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(sdk("DescribeListenerCertificates"))
            {
                Ok(o) => o,
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            if out
                .certificates()
                .iter()
                .any(|c| c.certificate_arn() == Some(cert) && c.is_default() != Some(true))
            {
                return Ok(Some(true));
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(Some(false)),
            }
        }
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let listener = req_str(base, "listener_arn")?;
        let cert = req_str(base, "certificate_arn")?;
        Ok(match self.holds(listener, cert).await? {
            Some(true) => Some(with_all(base, [("id", s(format!("{listener}_{cert}")))])),
            _ => None,
        })
    }
}

#[async_trait]
impl ResourceType for LbListenerCertificate {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(prior).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let listener = req_str(planned, "listener_arn")?;
        let cert = req_str(planned, "certificate_arn")?;
        self.shared
            .elbv2()
            .await
            .add_listener_certificates()
            .listener_arn(listener)
            .certificates(Certificate::builder().certificate_arn(cert).build())
            .send()
            .await
            .map_err(sdk("AddListenerCertificates"))?;
        let id = format!("{listener}_{cert}");
        let made = with_all(planned, [("id", s(&id))]);
        match self.observe(planned).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("listener certificate {id} vanished after it was added"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(planned).await?)
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Both arguments replace it: nothing changes in place.
        Ok(planned.clone())
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let listener = req_str(prior, "listener_arn")?;
        let cert = req_str(prior, "certificate_arn")?;
        deleted(
            self.shared
                .elbv2()
                .await
                .remove_listener_certificates()
                .listener_arn(listener)
                .certificates(Certificate::builder().certificate_arn(cert).build())
                .send()
                .await
                .map_err(sdk("RemoveListenerCertificates")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (listener, cert) = split_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "import id must be LISTENERARN_CERTIFICATEARN (the two ARNs joined by \"_\"), \
                 got {id:?}"
            ))
        })?;
        let base = obj([("listener_arn", s(listener)), ("certificate_arn", s(cert))]);
        self.observe(&base).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "CertificateNotFound: listener {listener} holds no certificate {cert} \
                 (beside its default one) to import"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_at_the_second_arn() {
        let l = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web_x/aa/bb";
        let c = "arn:aws:acm:us-east-1:1:certificate/cc";
        assert_eq!(split_id(&format!("{l}_{c}")), Some((l, c)));
        assert_eq!(split_id("arn:aws:x"), None);
        assert_eq!(split_id("_arn:aws:acm"), None);
    }
}
