//! `aws_ecr_lifecycle_policy`: the lifecycle policy of an ECR repository.
//! `id` is the repository name, as Terraform has it, and so is the import
//! id. As in Terraform, both `repository` and `policy` replace it (ECR has no
//! update: a new policy is put in place of the old one). The policy is
//! compared as a lifecycle policy, not as text: whitespace, key order and the
//! order of rules (ECR sorts them by `rulePriority`) or of tag lists are no
//! change.

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, req_str, s, with, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};

pub struct EcrLifecyclePolicy {
    shared: Arc<Shared>,
    schema: Schema,
}

impl EcrLifecyclePolicy {
    pub fn new(shared: Arc<Shared>) -> EcrLifecyclePolicy {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("repository", Attribute::required().force_new())
            .attr("policy", Attribute::required().force_new())
            .attr("registry_id", Attribute::computed());
        EcrLifecyclePolicy { shared, schema }
    }

    /// The policy as a value over `base`; `None` when it (or its repository)
    /// is gone.
    async fn observe(&self, base: &Value, repository: &str) -> AwsResult<Option<Value>> {
        let out = self
            .shared
            .ecr()
            .await
            .get_lifecycle_policy()
            .repository_name(repository)
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                let e = AwsError::sdk("GetLifecyclePolicy", e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        let text = out.lifecycle_policy_text().unwrap_or("{}");
        let policy = match opt_str(base, "policy") {
            Some(had) if equivalent(had, text) => s(had),
            _ => s(text),
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(repository)),
                ("repository", s(out.repository_name().unwrap_or(repository))),
                ("policy", policy),
                ("registry_id", crate::attrs::os(out.registry_id())),
            ],
        )))
    }
}

/// A lifecycle policy in a canonical form: keys sorted (serde_json's map is
/// ordered), rules sorted by `rulePriority`, tag lists sorted, numbers as
/// floats (so `1` and `1.0` agree). `None` when it is not JSON.
fn canonical(doc: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(doc).ok()?;
    Some(canon(v, None))
}

fn canon(v: serde_json::Value, key: Option<&str>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            let mut pairs: Vec<(String, J)> = m
                .into_iter()
                .map(|(k, v)| {
                    let v = canon(v, Some(&k));
                    (k, v)
                })
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            J::Object(pairs.into_iter().collect())
        }
        J::Array(items) => {
            let mut items: Vec<J> = items.into_iter().map(|x| canon(x, None)).collect();
            match key {
                Some("rules") => items.sort_by(|a, b| {
                    let p = |x: &J| x.get("rulePriority").and_then(J::as_f64).unwrap_or(0.0);
                    p(a).total_cmp(&p(b))
                }),
                Some("tagPrefixList" | "tagPatternList") => items.sort_by_key(|x| x.to_string()),
                _ => {}
            }
            J::Array(items)
        }
        J::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or(J::Number(n)),
        other => other,
    }
}

/// Whether two documents are the same lifecycle policy.
fn equivalent(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[async_trait]
impl ResourceType for EcrLifecyclePolicy {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let Some(text) = opt_str(config, "policy") else {
            return Vec::new();
        };
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(m)) if m.get("rules").is_some_and(|r| r.is_array()) => {
                Vec::new()
            }
            Ok(_) => vec![(
                "policy".into(),
                "must be a JSON object with a \"rules\" list".into(),
            )],
            Err(e) => vec![("policy".into(), format!("must be valid JSON: {e}"))],
        }
    }

    /// A reformatted document is no change: the recorded text is kept.
    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let (Some(had), Some(want)) = (
            prior.and_then(|p| opt_str(p, "policy")),
            opt_str(&proposed, "policy"),
        ) else {
            return Ok(proposed);
        };
        if had != want && equivalent(had, want) {
            let had = had.to_owned();
            return Ok(with(&proposed, "policy", s(had)));
        }
        Ok(proposed)
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let repository = match opt_str(prior, "repository") {
            Some(r) => r,
            None => req_str(prior, "id")?,
        };
        Ok(self.observe(prior, repository).await?)
    }

    /// A repository has one lifecycle policy: the one there is what a lost
    /// create made, if it is the planned one.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let repository = req_str(planned, "repository")?;
        let Some(found) = self.observe(planned, repository).await? else {
            return Ok(None);
        };
        match (opt_str(planned, "policy"), opt_str(&found, "policy")) {
            (Some(a), Some(b)) if equivalent(a, b) => Ok(Some(found)),
            _ => Ok(None),
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let repository = req_str(planned, "repository")?;
        let out = self
            .shared
            .ecr()
            .await
            .put_lifecycle_policy()
            .repository_name(repository)
            .lifecycle_policy_text(req_str(planned, "policy")?)
            .send()
            .await
            .map_err(sdk("PutLifecyclePolicy"))?;
        Ok(with_all(
            planned,
            [
                ("id", s(repository)),
                ("registry_id", crate::attrs::os(out.registry_id())),
            ],
        ))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Every argument replaces; an update only records what is planned.
        let _ = prior;
        self.create(planned).await
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let repository = req_str(prior, "repository")?;
        let out = self
            .shared
            .ecr()
            .await
            .delete_lifecycle_policy()
            .repository_name(repository)
            .send()
            .await
            .map_err(sdk("DeleteLifecyclePolicy"));
        deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        if id.is_empty() || id.contains(' ') {
            return Err(ProviderError::new(format!(
                "an aws_ecr_lifecycle_policy is imported by its repository's name, got {id:?}"
            )));
        }
        Ok(obj([("id", s(id)), ("repository", s(id))]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reformatted_and_reordered_policies_are_the_same() {
        let a = r#"{"rules":[{"rulePriority":1,"description":"old","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPrefixList":["v","release"],"countType":"imageCountMoreThan","countNumber":30},"action":{"type":"expire"}}]}"#;
        let b = r#"{
          "rules": [
            {"action": {"type": "expire"}, "rulePriority": 2,
             "selection": {"countNumber": 30.0, "countType": "imageCountMoreThan", "tagPrefixList": ["release", "v"], "tagStatus": "tagged"}},
            {"rulePriority": 1, "description": "old", "action": {"type": "expire"},
             "selection": {"countNumber": 14, "countUnit": "days", "countType": "sinceImagePushed", "tagStatus": "untagged"}}
          ]
        }"#;
        assert!(equivalent(a, b));
        let c = a.replace("\"countNumber\":14", "\"countNumber\":15");
        assert!(!equivalent(a, &c));
    }
}
