//! `aws_s3_bucket_policy`: a bucket's policy document. The policy is compared
//! as a policy, not as text: whitespace, key order, the order of actions and
//! resources, a lone string against a one-element list and one statement
//! against a list of one are all the same policy (as Terraform's policy
//! equivalence), so neither a reformatted configuration nor S3's rewrite of
//! the document shows as a change. Destroy deletes the policy. The import id
//! is the bucket.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};
use serde_json::Value as Json;

use crate::attrs::{opt_str, s, with, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::s3::{import_base, is_gone, target};
use crate::wait;

pub struct S3BucketPolicy {
    shared: Arc<Shared>,
    schema: Schema,
}

impl S3BucketPolicy {
    pub fn new(shared: Arc<Shared>) -> S3BucketPolicy {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("bucket", Attribute::required().force_new())
            .attr(
                "policy",
                Attribute::required().describe("the policy document, as JSON text"),
            );
        S3BucketPolicy { shared, schema }
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let (bucket, _) = target(base)?;
        let out = match self
            .shared
            .s3()
            .await
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("GetBucketPolicy"))
        {
            Ok(o) => o,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(actual) = out.policy() else {
            return Ok(None);
        };
        // The recorded text while it says the same; S3's otherwise (drift).
        let policy = match opt_str(base, "policy") {
            Some(had) if equivalent(had, actual) => had.to_owned(),
            _ => actual.to_owned(),
        };
        Ok(Some(with_all(
            base,
            [("id", s(bucket)), ("policy", s(policy))],
        )))
    }

    async fn put(&self, planned: &Value) -> ProviderResult<Value> {
        let (bucket, _) = target(planned)?;
        let policy = opt_str(planned, "policy")
            .ok_or_else(|| AwsError::invalid("\"policy\" must be a string"))?;
        let s3 = self.shared.s3().await;
        // A principal made moments ago (a new IAM role) is not yet known to
        // S3: it answers MalformedPolicy "Invalid principal" for a while.
        wait::retry(
            &format!("bucket {bucket}'s policy principals to be known to S3"),
            wait::limit(120),
            (Duration::from_secs(2), Duration::from_secs(10)),
            |e| e.code() == Some("MalformedPolicy") && e.to_string().contains("Invalid principal"),
            || {
                let s3 = s3.clone();
                async move {
                    s3.put_bucket_policy()
                        .bucket(bucket)
                        .policy(policy)
                        .send()
                        .await
                        .map_err(sdk("PutBucketPolicy"))
                }
            },
        )
        .await?;
        let made = with(planned, "id", s(bucket));
        self.observe(&made).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "the policy of bucket {bucket} vanished after it was set"
            ))
        })
    }
}

/// Whether two policy documents say the same thing (both must be JSON).
pub fn equivalent(a: &str, b: &str) -> bool {
    match (normalized(a), normalized(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A policy document in one canonical form, as text; `None` when it is not JSON.
pub fn normalized(text: &str) -> Option<String> {
    let v: Json = serde_json::from_str(text).ok()?;
    Some(canonical(v, None).to_string())
}

fn canonical(v: Json, key: Option<&str>) -> Json {
    match v {
        Json::Object(m) => {
            let mut entries: Vec<(String, Json)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = serde_json::Map::new();
            for (k, x) in entries {
                let x = match (k.as_str(), x) {
                    // One statement is a list of one.
                    ("Statement", Json::Object(o)) => Json::Array(vec![Json::Object(o)]),
                    // `"Principal": "*"` is everyone, as `{"AWS": "*"}`.
                    ("Principal" | "NotPrincipal", Json::String(p)) if p == "*" => {
                        serde_json::json!({ "AWS": "*" })
                    }
                    (_, x) => x,
                };
                let x = canonical(x, Some(&k));
                out.insert(k, x);
            }
            Json::Object(out)
        }
        Json::Array(items) => {
            let mut items: Vec<Json> = items.into_iter().map(|x| canonical(x, key)).collect();
            // Order never matters in a policy: actions, resources, principals
            // and statements are sets.
            items.sort_by_cached_key(|x| x.to_string());
            items.dedup();
            match (key, items.len()) {
                (Some("Statement"), _) => Json::Array(items),
                (_, 1) if items[0].is_string() => items.remove(0),
                _ => Json::Array(items),
            }
        }
        other => other,
    }
}

#[async_trait]
impl ResourceType for S3BucketPolicy {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match opt_str(config, "policy") {
            Some(p) if serde_json::from_str::<Json>(p).is_err() => {
                vec![("policy".into(), "must be a JSON policy document".into())]
            }
            _ => Vec::new(),
        }
    }

    /// A configuration that says what the recorded policy says keeps the
    /// recorded text: no change to show.
    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        if let (Some(had), Some(want)) = (
            prior.and_then(|p| opt_str(p, "policy")),
            opt_str(&proposed, "policy"),
        ) && had != want
            && equivalent(had, want)
        {
            return Ok(with(&proposed, "policy", s(had)));
        }
        Ok(proposed)
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(prior).await?)
    }

    /// The bucket names it: a policy there is what the cut-off create set
    /// (another one shows as a change next plan).
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(planned).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        self.put(planned).await
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        self.put(planned).await
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let (bucket, _) = target(prior)?;
        deleted(
            self.shared
                .s3()
                .await
                .delete_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .map_err(sdk("DeleteBucketPolicy")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = import_base(id, false)?;
        self.observe(&base).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "NoSuchBucketPolicy: bucket {id:?} has no policy to import"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_compare_as_policies() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}]}"#;
        let b = r#"{
            "Statement": {
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Action": "s3:GetObject",
                "Principal": {"AWS": "*"},
                "Effect": "Allow"
            },
            "Version": "2012-10-17"
        }"#;
        assert!(equivalent(a, b));
        let c = a.replace("GetObject", "PutObject");
        assert!(!equivalent(a, &c));
        assert!(!equivalent(a, "not json"));
        assert!(equivalent("not json", "not json"));
    }

    #[test]
    fn plan_keeps_the_recorded_text_for_the_same_policy() {
        let rt = S3BucketPolicy::new(Arc::new(Shared::default()));
        let had = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let prior = crate::attrs::obj([("policy", s(had))]);
        let same = crate::attrs::obj([(
            "policy",
            s("{ \"Statement\": [], \"Version\": \"2012-10-17\" }"),
        )]);
        let planned = rt.plan(Some(&prior), same).unwrap();
        assert_eq!(opt_str(&planned, "policy"), Some(had));
        let other =
            crate::attrs::obj([("policy", s(r#"{"Version":"2008-10-17","Statement":[]}"#))]);
        let planned = rt.plan(Some(&prior), other.clone()).unwrap();
        assert_eq!(planned, other);
    }
}
