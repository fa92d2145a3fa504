//! `aws_acm_certificate_validation`: no object of its own, but a wait: its
//! create returns once ACM has issued the certificate (its status is
//! `ISSUED`), so whatever uses `certificate_arn` from it gets a certificate
//! that works. With `validation_record_fqdns` (the `fqdn`s of the DNS
//! validation records), every record ACM asks for must be among them, as
//! Terraform checks. The wait is `timeouts { create = "75m" }` by default
//! (Terraform's), `DUMCEL_AWS_WAIT_SECONDS` overriding the default. Both
//! arguments replace it. `id` is the time ACM issued the certificate,
//! written as Terraform writes it (`2024-01-02 03:04:05 +0000 UTC`).
//! Destroy forgets it and leaves the certificate alone. A certificate that
//! is gone, or no longer `ISSUED`, reads as gone, so the next apply waits
//! again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::primitives::{DateTime, DateTimeFormat};
use aws_sdk_acm::types::CertificateDetail;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{req_str, s, str_list, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::route53::normalize;
use crate::{timeouts, wait};

/// Terraform's create timeout for this type: 75 minutes.
const CREATE_SECS: u64 = 75 * 60;

pub struct AcmCertificateValidation {
    shared: Arc<Shared>,
    schema: Schema,
}

/// A time as Go's `time.Time.String()` writes a UTC time (Terraform's id).
fn go_time(t: &DateTime) -> Option<String> {
    let text = t.fmt(DateTimeFormat::DateTime).ok()?;
    let text = text.strip_suffix('Z')?.replacen('T', " ", 1);
    Some(format!("{text} +0000 UTC"))
}

impl AcmCertificateValidation {
    pub fn new(shared: Arc<Shared>) -> AcmCertificateValidation {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("certificate_arn", Attribute::required().force_new())
            .attr(
                "validation_record_fqdns",
                Attribute::optional()
                    .force_new()
                    .describe("the fqdns of the DNS validation records"),
            );
        AcmCertificateValidation {
            shared,
            schema: timeouts::add(schema),
        }
    }

    async fn describe(&self, arn: &str) -> AwsResult<Option<CertificateDetail>> {
        match self
            .shared
            .acm()
            .await
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(sdk("DescribeCertificate"))
        {
            Ok(o) => Ok(o.certificate().cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn issued_id(c: &CertificateDetail) -> String {
        c.issued_at()
            .and_then(go_time)
            .or_else(|| c.certificate_arn().map(str::to_owned))
            .unwrap_or_default()
    }

    /// What is wrong with `fqdns` for the DNS-validated certificate `c`: the
    /// validation records it lacks.
    fn missing_records(c: &CertificateDetail, fqdns: &[String]) -> Vec<String> {
        let have: Vec<String> = fqdns.iter().map(|f| normalize(f)).collect();
        c.domain_validation_options()
            .iter()
            .filter(|d| {
                d.validation_method().map(|m| m.as_str()) == Some("DNS")
                    || d.resource_record().is_some()
            })
            .filter_map(|d| d.resource_record().map(|r| normalize(r.name())))
            .filter(|name| !have.contains(name))
            .collect()
    }
}

#[async_trait]
impl ResourceType for AcmCertificateValidation {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        timeouts::validate(config)
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "certificate_arn")?;
        let Some(c) = self.describe(arn).await? else {
            return Ok(None);
        };
        if c.status().map(|x| x.as_str()) != Some("ISSUED") {
            return Ok(None);
        }
        Ok(Some(prior.clone()))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(planned, "certificate_arn")?;
        let limit = timeouts::of(planned, "create", CREATE_SECS)?;
        let c = self.describe(arn).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "ResourceNotFoundException: no certificate {arn} to wait for"
            ))
        })?;
        if planned
            .get("validation_record_fqdns")
            .is_some_and(|v| !v.is_null())
        {
            let missing = Self::missing_records(&c, &str_list(planned, "validation_record_fqdns"));
            if !missing.is_empty() {
                return Err(ProviderError::new(format!(
                    "validation_record_fqdns lacks the DNS validation record(s) {} of \
                     certificate {arn}; create them (aws_route53_record over the certificate's \
                     domain_validation_options) and list their fqdns",
                    missing.join(", ")
                )));
            }
        }
        let issued = wait::until(
            &format!("certificate {arn} to be ISSUED"),
            limit,
            Duration::from_secs(5),
            move || async move {
                let Some(c) = self.describe(arn).await? else {
                    return Err(AwsError::invalid(format!(
                        "certificate {arn} was deleted while waiting for it to be issued"
                    )));
                };
                match c.status().map(|x| x.as_str()) {
                    Some("ISSUED") => Ok(Some(c)),
                    Some("PENDING_VALIDATION") | None => Ok(None),
                    Some(other) => Err(AwsError::invalid(format!(
                        "certificate {arn} is {other}, not ISSUED{}: it will not be issued; \
                         request a new one",
                        c.failure_reason()
                            .map(|r| format!(" ({})", r.as_str()))
                            .unwrap_or_default()
                    ))),
                }
            },
        )
        .await?;
        Ok(with_all(planned, [("id", s(Self::issued_id(&issued)))]))
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Only `timeouts` can change in place; nothing to send.
        Ok(planned.clone())
    }

    async fn delete(&self, _prior: &Value) -> ProviderResult<()> {
        Ok(())
    }

    /// Nothing is made: a cut-off create left nothing behind to find.
    async fn find(&self, _planned: &Value) -> ProviderResult<Option<Value>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_go_times() {
        let t = DateTime::from_secs(1_700_000_000);
        assert_eq!(
            go_time(&t).as_deref(),
            Some("2023-11-14 22:13:20 +0000 UTC")
        );
    }
}
