//! `aws_cloudfront_distribution`: the subset of Terraform's arguments a
//! static site served from S3 (or a custom origin) needs; see
//! [`crate::cloudfront::schema`]. `id` is CloudFront's id, and so is the
//! import id. Every argument changes in place: an update sends the whole
//! configuration with the current ETag (`IfMatch`), keeping the
//! distribution's caller reference. With `wait_for_deployment` (default
//! true) create and update wait until CloudFront reports `Deployed`.
//! Destroy disables the distribution, waits for that to deploy, then
//! deletes it (with `retain_on_delete`, it only disables it). Computed:
//! `arn`, `caller_reference`, `domain_name`, `etag`, `hosted_zone_id`
//! (CloudFront's, `Z2FDTNDATAQYW2`), `status`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_cloudfront::types::{
    Distribution, DistributionConfig, DistributionConfigWithTags, Tag, TagKeys, Tags,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Schema, Value};

use crate::attrs::{block, blocks, obj, opt_bool, or_default, req_str, s, string_map, with_all};
use crate::cloudfront::{HOSTED_ZONE_ID, expand, flatten};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::{nested, tags, wait};

/// How long a deployment may take before dumcel gives up (CloudFront's
/// usually take minutes; Terraform allows 90).
const DEPLOY_SECS: u64 = 90 * 60;

/// Arguments that are dumcel's, not CloudFront's: changing them alone sends
/// no update.
const LOCAL: [&str; 4] = [
    "wait_for_deployment",
    "retain_on_delete",
    "tags",
    "tags_all",
];

pub struct CloudfrontDistribution {
    shared: Arc<Shared>,
    schema: Schema,
}

/// A fresh caller reference (CloudFront's idempotency token).
fn caller_reference() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("dumcel-{nanos}-{}", std::process::id())
}

/// `proposed` with a block attribute the configuration leaves null carried
/// from the prior object (Terraform's optional-and-computed inside a
/// block: CloudFront picks it).
fn carry(prior: Option<&Value>, proposed: Value, path: &[&str], attr: &str) -> Value {
    let Some(from) = prior.and_then(|p| dig(p, path)) else {
        return proposed;
    };
    let Some(old) = from.get(attr).cloned() else {
        return proposed;
    };
    set_in(proposed, path, attr, old)
}

/// [`carry`] for each object of a list block, matched by position.
fn carry_each(prior: Option<&Value>, proposed: Value, key: &str, attr: &str) -> Value {
    let olds = prior.map(|p| blocks(p, key)).unwrap_or_default();
    let Value::Map(mut m) = proposed else {
        return proposed;
    };
    if let Some(Value::List(items)) = m.get_mut(key) {
        for (item, old) in items.iter_mut().zip(olds) {
            if let (Value::Map(o), Some(x)) = (item, old.get(attr))
                && o.get(attr).is_none_or(Value::is_null)
            {
                o.insert(attr.to_owned(), x.clone());
            }
        }
    }
    Value::Map(m)
}

/// The first object at a path of single blocks.
fn dig<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    match path.split_first() {
        None => Some(v),
        Some((k, rest)) => dig(block(v, k)?, rest),
    }
}

fn set_in(v: Value, path: &[&str], attr: &str, x: Value) -> Value {
    let Value::Map(mut m) = v else {
        return v;
    };
    match path.split_first() {
        None => {
            if m.get(attr).is_none_or(Value::is_null) {
                m.insert(attr.to_owned(), x);
            }
        }
        Some((k, rest)) => {
            if let Some(Value::List(items)) = m.get_mut(*k)
                && let Some(first) = items.first_mut()
            {
                *first = set_in(std::mem::replace(first, Value::Null), rest, attr, x);
            }
        }
    }
    Value::Map(m)
}

impl CloudfrontDistribution {
    pub fn new(shared: Arc<Shared>) -> CloudfrontDistribution {
        CloudfrontDistribution {
            shared,
            schema: tags::add(crate::cloudfront::schema()),
        }
    }

    /// The distribution and its ETag; `None` when it is gone.
    async fn get(&self, id: &str) -> AwsResult<Option<(Distribution, String)>> {
        match self
            .shared
            .cloudfront()
            .await
            .get_distribution()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetDistribution"))
        {
            Ok(o) => {
                let etag = o.e_tag().unwrap_or_default().to_owned();
                match o.distribution {
                    Some(d) => Ok(Some((d, etag))),
                    None => Err(AwsError::unexpected(
                        "GetDistribution",
                        format!("no distribution {id} in the answer"),
                    )),
                }
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The configuration and ETag; `None` when it is gone.
    async fn get_config(&self, id: &str) -> AwsResult<Option<(DistributionConfig, String)>> {
        match self
            .shared
            .cloudfront()
            .await
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetDistributionConfig"))
        {
            Ok(o) => {
                let etag = o.e_tag().unwrap_or_default().to_owned();
                match o.distribution_config {
                    Some(c) => Ok(Some((c, etag))),
                    None => Err(AwsError::unexpected(
                        "GetDistributionConfig",
                        format!("no configuration for distribution {id}"),
                    )),
                }
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn read_tags(&self, arn: &str) -> AwsResult<std::collections::BTreeMap<String, String>> {
        let out = self
            .shared
            .cloudfront()
            .await
            .list_tags_for_resource()
            .resource(arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        Ok(out
            .tags()
            .map(|t| t.items())
            .unwrap_or_default()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect())
    }

    /// The distribution as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let Some((d, etag)) = self.get(id).await? else {
            return Ok(None);
        };
        let Some(config) = d.distribution_config() else {
            return Err(AwsError::unexpected(
                "GetDistribution",
                format!("no configuration for distribution {id}"),
            ));
        };
        let all = self.read_tags(d.arn()).await?;
        let mut pairs = flatten(base, config);
        pairs.extend([
            ("id", s(d.id())),
            ("arn", s(d.arn())),
            ("caller_reference", s(config.caller_reference())),
            ("domain_name", s(d.domain_name())),
            ("etag", s(etag)),
            ("hosted_zone_id", s(HOSTED_ZONE_ID)),
            ("status", s(d.status())),
            ("tags_all", string_map(all)),
        ]);
        Ok(Some(with_all(base, pairs)))
    }

    /// Waits until CloudFront reports the distribution `Deployed`.
    async fn deployed(&self, id: &str) -> AwsResult<()> {
        wait::until(
            &format!("CloudFront distribution {id} to be deployed"),
            wait::limit(DEPLOY_SECS),
            Duration::from_secs(5),
            move || async move {
                match self.get(id).await? {
                    Some((d, _)) => Ok((d.status() == "Deployed").then_some(())),
                    None => Err(AwsError::invalid(format!(
                        "CloudFront distribution {id} vanished while it was deploying"
                    ))),
                }
            },
        )
        .await
    }

    /// Sends `config` with the current ETag.
    async fn put_config(&self, id: &str, config: DistributionConfig, etag: &str) -> AwsResult<()> {
        self.shared
            .cloudfront()
            .await
            .update_distribution()
            .id(id)
            .if_match(etag)
            .distribution_config(config)
            .send()
            .await
            .map_err(sdk("UpdateDistribution"))?;
        Ok(())
    }

    async fn retag(&self, arn: &str, prior: &Value, planned: &Value) -> AwsResult<()> {
        let old = tags::recorded(prior);
        let new = tags::merged(&self.shared.default_tags(), planned);
        let (set, removed) = tags::delta(&old, &new);
        let client = self.shared.cloudfront().await;
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource(arn)
                .tag_keys(TagKeys::builder().set_items(Some(removed)).build())
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource(arn)
                .tags(cf_tags(set)?)
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        Ok(())
    }

    /// Disables the distribution (when enabled); whether it had to.
    async fn disable(&self, id: &str) -> AwsResult<bool> {
        let Some((mut config, etag)) = self.get_config(id).await? else {
            return Ok(false);
        };
        if !config.enabled {
            return Ok(false);
        }
        config.enabled = false;
        self.put_config(id, config, &etag).await?;
        Ok(true)
    }
}

fn cf_tags(all: impl IntoIterator<Item = (String, String)>) -> AwsResult<Tags> {
    let items = all
        .into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::invalid(format!("tags: {e}")))
        })
        .collect::<AwsResult<Vec<_>>>()?;
    Ok(Tags::builder().set_items(Some(items)).build())
}

#[async_trait]
impl ResourceType for CloudfrontDistribution {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(cert) = block(config, "viewer_certificate") {
            let default = opt_bool(cert, "cloudfront_default_certificate") == Some(true);
            let acm = cert
                .get("acm_certificate_arn")
                .is_some_and(|v| !v.is_null());
            if default == acm
                && !cert
                    .get("acm_certificate_arn")
                    .is_some_and(Value::is_unknown)
            {
                out.push((
                    "viewer_certificate".to_owned(),
                    "set either cloudfront_default_certificate = true or acm_certificate_arn \
                     (iam_certificate_id is not supported)"
                        .to_owned(),
                ));
            }
        }
        let ids: Vec<&str> = blocks(config, "origin")
            .iter()
            .filter_map(|o| o.get("origin_id").and_then(Value::as_str))
            .collect();
        for key in ["default_cache_behavior", "ordered_cache_behavior"] {
            for b in blocks(config, key) {
                if let Some(target) = b.get("target_origin_id").and_then(Value::as_str)
                    && !ids.is_empty()
                    && !ids.contains(&target)
                {
                    out.push((
                        format!("{key}.target_origin_id"),
                        format!("{target:?} names no origin; origins: {}", ids.join(", ")),
                    ));
                }
            }
        }
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let mut v = proposed;
        for (k, d) in [
            ("price_class", s("PriceClass_All")),
            ("http_version", s("http2")),
            ("is_ipv6_enabled", Value::Bool(false)),
            ("wait_for_deployment", Value::Bool(true)),
            ("retain_on_delete", Value::Bool(false)),
        ] {
            v = or_default(v, k, d);
        }
        let mut v = nested::fill(&self.schema, v);
        for (b, a, d) in [
            ("origin", "origin_path", s("")),
            ("default_cache_behavior", "compress", Value::Bool(false)),
            ("default_cache_behavior", "min_ttl", Value::Number(0.0)),
            ("ordered_cache_behavior", "compress", Value::Bool(false)),
            ("ordered_cache_behavior", "min_ttl", Value::Number(0.0)),
            ("viewer_certificate", "minimum_protocol_version", s("TLSv1")),
        ] {
            v = nested::default_in(v, b, a, d);
        }
        // CloudFront picks these when the configuration does not.
        v = carry(prior, v, &["default_cache_behavior"], "default_ttl");
        v = carry(prior, v, &["default_cache_behavior"], "max_ttl");
        v = carry(prior, v, &["restrictions", "geo_restriction"], "locations");
        v = carry_each(prior, v, "ordered_cache_behavior", "default_ttl");
        v = carry_each(prior, v, "ordered_cache_behavior", "max_ttl");
        Ok(tags::plan(&self.shared.default_tags(), v))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let reference = caller_reference();
        let config = expand(planned, &reference)?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let with_tags = DistributionConfigWithTags::builder()
            .distribution_config(config)
            .tags(cf_tags(all)?)
            .build();
        let out = self
            .shared
            .cloudfront()
            .await
            .create_distribution_with_tags()
            .distribution_config_with_tags(with_tags)
            .send()
            .await
            .map_err(sdk("CreateDistributionWithTags"))?;
        let Some(d) = out.distribution() else {
            return Err(AwsError::unexpected(
                "CreateDistributionWithTags",
                "no distribution in the answer",
            )
            .into());
        };
        let id = d.id().to_owned();
        let made = with_all(
            planned,
            [
                ("id", s(&id)),
                ("arn", s(d.arn())),
                ("caller_reference", s(&reference)),
                ("domain_name", s(d.domain_name())),
                ("hosted_zone_id", s(HOSTED_ZONE_ID)),
            ],
        );
        let partial = |e: AwsError| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        };
        if opt_bool(planned, "wait_for_deployment") != Some(false) {
            self.deployed(&id).await.map_err(partial)?;
        }
        match self.observe(&made, &id).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(partial(AwsError::invalid(format!(
                "CloudFront distribution {id} vanished after it was created"
            )))),
            Err(e) => Err(partial(e)),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let gone = || ProviderError::new(format!("CloudFront distribution {id} is gone"));
        let config_changed = planned
            .as_map()
            .into_iter()
            .flatten()
            .any(|(k, v)| !LOCAL.contains(&k.as_str()) && prior.get(k) != Some(v));
        if config_changed {
            let (current, etag) = self.get_config(id).await?.ok_or_else(gone)?;
            let config = expand(planned, current.caller_reference())?;
            self.put_config(id, config, &etag).await?;
        }
        self.retag(req_str(prior, "arn")?, prior, planned).await?;
        if config_changed && opt_bool(planned, "wait_for_deployment") != Some(false) {
            self.deployed(id).await?;
        }
        self.observe(planned, id).await?.ok_or_else(gone)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        if opt_bool(prior, "retain_on_delete") == Some(true) {
            self.disable(id).await?;
            return Ok(());
        }
        if self.disable(id).await? {
            dumcel_engine::progress::report(&format!(
                "CloudFront distribution {id} disabled; waiting for that to deploy before deleting it"
            ));
        }
        match self.get(id).await? {
            None => return Ok(()),
            Some((d, _)) if d.status() != "Deployed" => self.deployed(id).await?,
            Some(_) => {}
        }
        let client = self.shared.cloudfront().await;
        let client = &client;
        // The ETag changes when the disable deploys; a delete that races it
        // is refused (PreconditionFailed, DistributionNotDisabled) and tried
        // again with a fresh one.
        let out = wait::retry(
            &format!("CloudFront distribution {id} to be deletable"),
            wait::limit(DEPLOY_SECS),
            (Duration::from_secs(2), Duration::from_secs(30)),
            |e| {
                matches!(
                    e.code(),
                    Some(
                        "PreconditionFailed" | "DistributionNotDisabled" | "InvalidIfMatchVersion"
                    )
                )
            },
            || async move {
                let Some((_, etag)) = self.get(id).await? else {
                    return Ok(());
                };
                client
                    .delete_distribution()
                    .id(id)
                    .if_match(etag)
                    .send()
                    .await
                    .map_err(sdk("DeleteDistribution"))?;
                Ok(())
            },
        )
        .await;
        crate::error::deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        if id.is_empty() || id.contains('/') || id.contains(':') {
            return Err(ProviderError::new(format!(
                "an aws_cloudfront_distribution is imported by its id (E74FTE3EXAMPLE), got {id:?}"
            )));
        }
        let base = obj([
            ("id", s(id)),
            ("wait_for_deployment", Value::Bool(true)),
            ("retain_on_delete", Value::Bool(false)),
            ("tags", Value::Null),
        ]);
        let v = self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "NoSuchDistribution: no CloudFront distribution {id:?} to import"
            ))
        })?;
        let all = tags::recorded(&v);
        Ok(with_all(
            &v,
            [("tags", tags::imported(&self.shared.default_tags(), &all))],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::n;

    #[test]
    fn ttls_cloudfront_picked_are_carried() {
        let prior = obj([(
            "default_cache_behavior",
            Value::List(vec![obj([
                ("default_ttl", n(86400)),
                ("max_ttl", n(31536000)),
            ])]),
        )]);
        let proposed = obj([(
            "default_cache_behavior",
            Value::List(vec![obj([
                ("default_ttl", Value::Null),
                ("max_ttl", n(60)),
            ])]),
        )]);
        let v = carry(
            Some(&prior),
            proposed,
            &["default_cache_behavior"],
            "default_ttl",
        );
        let v = carry(Some(&prior), v, &["default_cache_behavior"], "max_ttl");
        let b = block(&v, "default_cache_behavior").unwrap();
        assert_eq!(b.get("default_ttl"), Some(&n(86400)));
        assert_eq!(b.get("max_ttl"), Some(&n(60)), "a configured value wins");
    }
}
