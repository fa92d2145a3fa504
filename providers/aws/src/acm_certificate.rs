//! `aws_acm_certificate`: a certificate requested from ACM (validated by DNS
//! or email, or issued by a private CA named by `certificate_authority_arn`),
//! or one imported into ACM (`private_key`, `certificate_body` and
//! optionally `certificate_chain`, in PEM; the key is sensitive). `id` and
//! `arn` are the ARN; import takes the ARN. The domain name, the subject
//! alternative names, the validation method, the key algorithm and the CA
//! replace it (usually with `lifecycle { create_before_destroy = true }`, as
//! a listener holds it); tags change in place, and so do an imported
//! certificate's key, body and chain (imported again under the same ARN, as
//! Terraform does). ACM never gives the key back: an imported certificate's
//! key is what was recorded; its body is read back (a different one is
//! drift); its chain is not (ACM appends its own).
//!
//! `domain_validation_options` is known at plan time by its `domain_name`s
//! (the record names, types and values come at apply), as Terraform plans
//! it, so `for_each` over it keyed by `domain_name` is what the Terraform
//! documentation shows. Destroy waits while ACM still counts the certificate
//! as in use (a listener let go of it a moment ago).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::Client;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::{CertificateDetail, KeyAlgorithm, Tag, ValidationMethod};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, or_default, req_str, s, set_like, str_list, strings, with};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::iam::date;
use crate::{tags, wait};

pub struct AcmCertificate {
    shared: Arc<Shared>,
    schema: Schema,
}

const METHODS: &[&str] = &["DNS", "EMAIL", "NONE"];

fn acm_tags(all: BTreeMap<String, String>) -> AwsResult<Vec<Tag>> {
    all.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::invalid(format!("tags: {e}")))
        })
        .collect()
}

/// Whether `v` imports a certificate (has a private key).
fn imported(v: &Value) -> bool {
    v.get("private_key").is_some_and(|k| !k.is_null())
}

/// A PEM attribute as the bytes ACM takes.
fn pem(v: &Value, key: &str) -> AwsResult<Option<Blob>> {
    match v.get(key) {
        None => Ok(None),
        Some(x) if x.is_null() => Ok(None),
        Some(x) => match x.unmark().0.as_str() {
            Some(text) => Ok(Some(Blob::new(text.as_bytes()))),
            None => Err(AwsError::invalid(format!("\"{key}\" must be a PEM string"))),
        },
    }
}

/// The domains a certificate covers, the domain name first, each once.
fn domains(v: &Value) -> Option<Vec<String>> {
    let domain = opt_str(v, "domain_name")?;
    let sans = match v.get("subject_alternative_names") {
        Some(x) if x.is_unknown() => return None,
        _ => str_list(v, "subject_alternative_names"),
    };
    let mut out = vec![domain.to_owned()];
    for d in sans {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Some(out)
}

impl AcmCertificate {
    pub fn new(shared: Arc<Shared>) -> AcmCertificate {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("arn", Attribute::computed())
            .attr("domain_name", Attribute::optional_computed().force_new())
            .attr(
                "subject_alternative_names",
                Attribute::optional_computed()
                    .force_new()
                    .describe("further domains (the domain name itself is left out)"),
            )
            .attr(
                "validation_method",
                Attribute::optional_computed()
                    .force_new()
                    .describe("DNS, EMAIL or NONE (a private CA's certificate)"),
            )
            .attr(
                "key_algorithm",
                Attribute::optional_computed()
                    .force_new()
                    .describe("default RSA_2048"),
            )
            .attr("certificate_authority_arn", Attribute::optional().force_new())
            .attr(
                "private_key",
                Attribute::optional()
                    .sensitive()
                    .describe("PEM; imports the certificate"),
            )
            .attr("certificate_body", Attribute::optional().describe("PEM"))
            .attr("certificate_chain", Attribute::optional().describe("PEM"))
            .attr(
                "domain_validation_options",
                Attribute::computed().describe(
                    "domain_name, resource_record_name, resource_record_type, resource_record_value",
                ),
            )
            .attr("validation_emails", Attribute::computed())
            .attr("status", Attribute::computed())
            .attr("type", Attribute::computed())
            .attr("not_after", Attribute::computed())
            .attr("not_before", Attribute::computed())
            .attr("renewal_eligibility", Attribute::computed());
        AcmCertificate {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(client: &Client, arn: &str) -> AwsResult<Option<CertificateDetail>> {
        match client
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

    async fn observe(&self, base: &Value, arn: &str) -> AwsResult<Option<Value>> {
        let client = self.shared.acm().await;
        let Some(c) = Self::describe(&client, arn).await? else {
            return Ok(None);
        };
        let tags = match client
            .list_tags_for_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(sdk("ListTagsForCertificate"))
        {
            Ok(o) => o
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().unwrap_or("").to_owned()))
                .collect::<BTreeMap<_, _>>(),
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut v = Self::value(base, &c, tags);
        if c.r#type().map(|t| t.as_str()) == Some("IMPORTED") {
            let body = match client
                .get_certificate()
                .certificate_arn(arn)
                .send()
                .await
                .map_err(sdk("GetCertificate"))
            {
                Ok(o) => o.certificate().map(str::to_owned),
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            let recorded = opt_str(base, "certificate_body");
            let same = |a: &str, b: &str| a.trim() == b.trim();
            let body = match (recorded, body) {
                (Some(r), Some(b)) if same(r, &b) => s(r),
                (_, Some(b)) => s(b),
                (r, None) => r.map(s).unwrap_or(Value::Null),
            };
            v = with(&v, "certificate_body", body);
        }
        Ok(Some(v))
    }

    fn value(base: &Value, c: &CertificateDetail, tags: BTreeMap<String, String>) -> Value {
        let arn = c.certificate_arn().unwrap_or_default();
        let domain = c.domain_name().unwrap_or_default();
        let sans: Vec<String> = c
            .subject_alternative_names()
            .iter()
            .filter(|x| x.as_str() != domain)
            .cloned()
            .collect();
        let kind = c.r#type().map(|t| t.as_str()).unwrap_or("");
        let method = match kind {
            "IMPORTED" | "PRIVATE" => Some("NONE".to_owned()),
            _ => c
                .domain_validation_options()
                .iter()
                .find_map(|d| d.validation_method().map(|m| m.as_str().to_owned()))
                .or_else(|| opt_str(base, "validation_method").map(str::to_owned)),
        };
        // In the recorded order of the domains, then by name.
        let order: Vec<String> = base
            .get("domain_validation_options")
            .and_then(Value::as_list)
            .unwrap_or(&[])
            .iter()
            .filter_map(|d| opt_str(d, "domain_name").map(str::to_owned))
            .collect();
        let mut dvos: Vec<_> = c
            .domain_validation_options()
            .iter()
            .filter_map(|d| Some((d.domain_name().to_owned(), d.resource_record()?)))
            .collect();
        let pos = |d: &str| order.iter().position(|o| o == d).unwrap_or(usize::MAX);
        dvos.sort_by(|a, b| pos(&a.0).cmp(&pos(&b.0)).then(a.0.cmp(&b.0)));
        let dvos: Vec<Value> = dvos
            .into_iter()
            .map(|(d, r)| {
                obj([
                    ("domain_name", s(d)),
                    ("resource_record_name", s(r.name())),
                    ("resource_record_type", s(r.r#type().as_str())),
                    ("resource_record_value", s(r.value())),
                ])
            })
            .collect();
        let mut emails: Vec<String> = c
            .domain_validation_options()
            .iter()
            .flat_map(|d| d.validation_emails().iter().cloned())
            .collect();
        emails.sort();
        emails.dedup();
        let mut m = base.as_map().cloned().unwrap_or_default();
        for (k, v) in [
            ("id", s(arn)),
            ("arn", s(arn)),
            ("domain_name", s(domain)),
            (
                "subject_alternative_names",
                set_like(base.get("subject_alternative_names"), sans),
            ),
            ("validation_method", method.map(s).unwrap_or(Value::Null)),
            (
                "key_algorithm",
                c.key_algorithm()
                    .map(|k| s(k.as_str()))
                    .unwrap_or(Value::Null),
            ),
            (
                "certificate_authority_arn",
                c.certificate_authority_arn().map(s).unwrap_or(Value::Null),
            ),
            ("domain_validation_options", Value::List(dvos)),
            ("validation_emails", strings(emails)),
            (
                "status",
                c.status().map(|x| s(x.as_str())).unwrap_or(Value::Null),
            ),
            ("type", s(kind)),
            ("not_after", date(c.not_after())),
            ("not_before", date(c.not_before())),
            (
                "renewal_eligibility",
                c.renewal_eligibility()
                    .map(|x| s(x.as_str()))
                    .unwrap_or(Value::Null),
            ),
            ("tags_all", crate::attrs::string_map(tags)),
        ] {
            m.insert(k.to_owned(), v);
        }
        Value::Map(m)
    }
}

#[async_trait]
impl ResourceType for AcmCertificate {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        if imported(config) {
            if !set("certificate_body") {
                errs.push((
                    "certificate_body".into(),
                    "is required with private_key (the certificate to import, in PEM)".into(),
                ));
            }
            for k in [
                "domain_name",
                "subject_alternative_names",
                "certificate_authority_arn",
            ] {
                if set(k) {
                    errs.push((
                        k.into(),
                        "cannot be set on an imported certificate (one with private_key)".into(),
                    ));
                }
            }
            return errs;
        }
        if set("certificate_body") || set("certificate_chain") {
            errs.push((
                "private_key".into(),
                "is required to import certificate_body".into(),
            ));
        }
        if !set("domain_name") {
            errs.push((
                "domain_name".into(),
                "is required unless private_key and certificate_body import a certificate".into(),
            ));
        }
        let ca = set("certificate_authority_arn");
        match opt_str(config, "validation_method") {
            Some(m) if !METHODS.contains(&m) => errs.push((
                "validation_method".into(),
                format!("must be one of {}, got {m:?}", METHODS.join(", ")),
            )),
            None if !ca && config.get("validation_method").is_none_or(Value::is_null) => {
                errs.push((
                    "validation_method".into(),
                    "is required (DNS or EMAIL) unless certificate_authority_arn is set".into(),
                ))
            }
            _ => {}
        }
        errs
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        if imported(&proposed) {
            let mut proposed = proposed;
            if prior.is_none() {
                proposed = with(&proposed, "domain_validation_options", Value::List(vec![]));
                proposed = with(&proposed, "validation_method", s("NONE"));
            }
            return Ok(tags::plan(&self.shared.default_tags(), proposed));
        }
        let same_domains = prior.is_some_and(|p| domains(p) == domains(&proposed));
        let mut proposed = proposed;
        if prior.is_none() {
            proposed = or_default(proposed, "key_algorithm", s("RSA_2048"));
            proposed = or_default(proposed, "subject_alternative_names", Value::List(vec![]));
        }
        if !same_domains {
            // As Terraform plans it: one entry per domain, known by its
            // domain name; the record comes from ACM at apply.
            let dvos = match (domains(&proposed), opt_str(&proposed, "validation_method")) {
                (Some(ds), Some("DNS")) => Value::List(
                    ds.into_iter()
                        .map(|d| {
                            obj([
                                ("domain_name", s(d)),
                                ("resource_record_name", Value::Unknown),
                                ("resource_record_type", Value::Unknown),
                                ("resource_record_value", Value::Unknown),
                            ])
                        })
                        .collect(),
                ),
                (_, Some("EMAIL" | "NONE")) => Value::List(vec![]),
                _ => Value::Unknown,
            };
            proposed = with(&proposed, "domain_validation_options", dvos);
        }
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "arn")?;
        Ok(self.observe(prior, arn).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let client = self.shared.acm().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        if imported(planned) {
            let out = client
                .import_certificate()
                .certificate(pem(planned, "certificate_body")?.unwrap_or_else(|| Blob::new("")))
                .set_private_key(pem(planned, "private_key")?)
                .set_certificate_chain(pem(planned, "certificate_chain")?)
                .set_tags((!all.is_empty()).then(|| acm_tags(all)).transpose()?)
                .send()
                .await
                .map_err(sdk("ImportCertificate"))?;
            let arn = out
                .certificate_arn()
                .ok_or_else(|| AwsError::unexpected("ImportCertificate", "no certificate ARN"))?
                .to_owned();
            let made = crate::attrs::with_all(planned, [("id", s(&arn)), ("arn", s(&arn))]);
            return match self.observe(planned, &arn).await {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(ProviderError {
                    message: format!("certificate {arn} vanished after it was imported"),
                    partial: Some(made),
                }),
                Err(e) => Err(ProviderError {
                    message: e.to_string(),
                    partial: Some(made),
                }),
            };
        }
        let domain = req_str(planned, "domain_name")?;
        let sans = str_list(planned, "subject_alternative_names");
        let method = opt_str(planned, "validation_method")
            .filter(|m| *m != "NONE")
            .map(ValidationMethod::from);
        let out = client
            .request_certificate()
            .domain_name(domain)
            .set_validation_method(method)
            .set_subject_alternative_names((!sans.is_empty()).then_some(sans))
            .set_key_algorithm(opt_str(planned, "key_algorithm").map(KeyAlgorithm::from))
            .set_certificate_authority_arn(
                opt_str(planned, "certificate_authority_arn").map(str::to_owned),
            )
            .set_tags((!all.is_empty()).then(|| acm_tags(all)).transpose()?)
            .send()
            .await
            .map_err(sdk("RequestCertificate"))?;
        let arn = out
            .certificate_arn()
            .ok_or_else(|| AwsError::unexpected("RequestCertificate", "no certificate ARN"))?
            .to_owned();
        let made = crate::attrs::with_all(planned, [("id", s(&arn)), ("arn", s(&arn))]);
        // ACM fills in the DNS validation records a moment after the request.
        let dns = opt_str(planned, "validation_method") == Some("DNS");
        let want = domains(planned).map(|d| d.len()).unwrap_or(1);
        let (client, key) = (&client, arn.as_str());
        let ready = wait::until(
            &format!("certificate {arn}'s domain validation options"),
            wait::limit(300),
            Duration::from_secs(2),
            move || async move {
                let Some(c) = Self::describe(client, key).await? else {
                    return Ok(None);
                };
                let have = c
                    .domain_validation_options()
                    .iter()
                    .filter(|d| d.resource_record().is_some())
                    .count();
                Ok((!dns || have >= want).then_some(()))
            },
        )
        .await;
        let read = match ready {
            Ok(()) => self.observe(planned, &arn).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("certificate {arn} vanished after it was requested"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.acm().await;
        let material = ["private_key", "certificate_body", "certificate_chain"];
        if imported(planned) && material.iter().any(|k| prior.get(k) != planned.get(k)) {
            client
                .import_certificate()
                .certificate_arn(arn)
                .certificate(pem(planned, "certificate_body")?.unwrap_or_else(|| Blob::new("")))
                .set_private_key(pem(planned, "private_key")?)
                .set_certificate_chain(pem(planned, "certificate_chain")?)
                .send()
                .await
                .map_err(sdk("ImportCertificate"))?;
        }
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !removed.is_empty() {
            let old = tags::recorded(prior);
            let gone: BTreeMap<String, String> = removed
                .into_iter()
                .map(|k| {
                    let v = old.get(&k).cloned().unwrap_or_default();
                    (k, v)
                })
                .collect();
            client
                .remove_tags_from_certificate()
                .certificate_arn(arn)
                .set_tags(Some(acm_tags(gone)?))
                .send()
                .await
                .map_err(sdk("RemoveTagsFromCertificate"))?;
        }
        if !set.is_empty() {
            client
                .add_tags_to_certificate()
                .certificate_arn(arn)
                .set_tags(Some(acm_tags(set)?))
                .send()
                .await
                .map_err(sdk("AddTagsToCertificate"))?;
        }
        Ok(self.observe(planned, arn).await?.ok_or_else(|| {
            ProviderError::new(format!("certificate {arn} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.acm().await;
        let result = wait::retry(
            &format!("certificate {arn} to be released by the services using it"),
            wait::limit(600),
            (Duration::from_secs(2), Duration::from_secs(15)),
            |e| e.code() == Some("ResourceInUseException"),
            || {
                let client = &client;
                async move {
                    client
                        .delete_certificate()
                        .certificate_arn(arn)
                        .send()
                        .await
                        .map_err(sdk("DeleteCertificate"))
                }
            },
        )
        .await;
        deleted(result)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null)]);
        let v = self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "ResourceNotFoundException: no certificate {id:?} to import (give its ARN)"
            ))
        })?;
        let own = tags::imported(&self.shared.default_tags(), &tags::recorded(&v));
        Ok(with(&v, "tags", own))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_options_are_planned_by_domain_name() {
        let cfg = obj([
            ("domain_name", s("example.com")),
            (
                "subject_alternative_names",
                strings(["www.example.com", "example.com"]),
            ),
            ("validation_method", s("DNS")),
        ]);
        assert_eq!(
            domains(&cfg),
            Some(vec!["example.com".to_owned(), "www.example.com".to_owned()])
        );
        let unknown_sans = with(&cfg, "subject_alternative_names", Value::Unknown);
        assert_eq!(domains(&unknown_sans), None);
    }
}
