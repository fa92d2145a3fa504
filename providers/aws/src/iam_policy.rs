//! `aws_iam_policy`: a customer managed IAM policy. `id` is its ARN. The
//! name, path and description replace it; a changed document (compared as a
//! policy, not as text) becomes a new default version, the oldest
//! non-default version deleted first when the policy already has IAM's five;
//! tags change in place. Destroy deletes the non-default versions, then the
//! policy.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::Policy;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::{
    check_name, check_policy, iam_tags, imported_tags, name_of, plan_policy, read_policy, tag_map,
    text,
};
use crate::{tags, wait};

/// IAM keeps at most this many versions of a managed policy.
const MAX_VERSIONS: usize = 5;

pub struct IamPolicy {
    shared: Arc<Shared>,
    schema: Schema,
}

impl IamPolicy {
    pub fn new(shared: Arc<Shared>) -> IamPolicy {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::optional_computed().force_new())
            .attr("name_prefix", Attribute::optional().force_new())
            .attr(
                "path",
                Attribute::optional_computed()
                    .force_new()
                    .describe("default /"),
            )
            .attr("description", Attribute::optional().force_new())
            .attr("policy", Attribute::required())
            .attr("arn", Attribute::computed())
            .attr("policy_id", Attribute::computed())
            .attr("attachment_count", Attribute::computed());
        IamPolicy {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn get(&self, iam: &Client, arn: &str) -> AwsResult<Option<Policy>> {
        match iam.get_policy().policy_arn(arn).send().await {
            Ok(out) => Ok(out.policy().cloned()),
            Err(e) => {
                let e = AwsError::sdk("GetPolicy", e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }

    /// The policy as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, arn: &str) -> AwsResult<Option<Value>> {
        let iam = self.shared.iam().await;
        let Some(p) = self.get(&iam, arn).await? else {
            return Ok(None);
        };
        let version = p
            .default_version_id()
            .ok_or_else(|| AwsError::unexpected("GetPolicy", "no default version id"))?;
        let doc = match iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
        {
            Ok(out) => out
                .policy_version()
                .and_then(|v| v.document())
                .unwrap_or("{}")
                .to_owned(),
            Err(e) => {
                let e = AwsError::sdk("GetPolicyVersion", e);
                if e.is_not_found() {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        let tags = match iam.list_policy_tags().policy_arn(arn).send().await {
            Ok(out) => tag_map(out.tags()),
            Err(e) => {
                let e = AwsError::sdk("ListPolicyTags", e);
                if e.is_not_found() {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("name", text(p.policy_name())),
                ("path", s(p.path().unwrap_or("/"))),
                ("description", text(p.description())),
                ("policy", read_policy(Some(base), "policy", &doc)),
                ("policy_id", text(p.policy_id())),
                ("attachment_count", n(p.attachment_count().unwrap_or(0))),
                ("tags_all", crate::attrs::string_map(tags)),
            ],
        )))
    }

    /// Makes room for a new version: deletes the oldest non-default one when
    /// the policy has IAM's maximum.
    async fn prune(&self, iam: &Client, arn: &str) -> AwsResult<()> {
        let out = iam
            .list_policy_versions()
            .policy_arn(arn)
            .send()
            .await
            .map_err(sdk("ListPolicyVersions"))?;
        let versions = out.versions();
        if versions.len() < MAX_VERSIONS {
            return Ok(());
        }
        let oldest = versions
            .iter()
            .filter(|v| !v.is_default_version())
            .min_by_key(|v| {
                (
                    v.create_date().map(|d| (d.secs(), d.subsec_nanos())),
                    v.version_id().map(str::to_owned),
                )
            })
            .and_then(|v| v.version_id());
        if let Some(id) = oldest {
            iam.delete_policy_version()
                .policy_arn(arn)
                .version_id(id)
                .send()
                .await
                .map_err(sdk("DeletePolicyVersion"))?;
        }
        Ok(())
    }

    /// The ARN of the customer managed policy `name` under `path`, if any.
    async fn arn_by_name(&self, name: &str, path: Option<&str>) -> AwsResult<Option<String>> {
        let iam = self.shared.iam().await;
        let mut marker = None;
        loop {
            let page = iam
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .set_path_prefix(path.map(str::to_owned))
                .set_marker(marker.take())
                .send()
                .await
                .map_err(sdk("ListPolicies"))?;
            if let Some(arn) = page
                .policies()
                .iter()
                .find(|p| p.policy_name() == Some(name))
                .and_then(|p| p.arn())
            {
                return Ok(Some(arn.to_owned()));
            }
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }
}

#[async_trait]
impl ResourceType for IamPolicy {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = check_name(config).into_iter().collect();
        out.extend(check_policy(config, "policy"));
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "path", s("/"));
        let proposed = plan_policy(prior, proposed, "policy");
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = match opt_str(prior, "arn") {
            Some(a) => a,
            None => req_str(prior, "id")?,
        };
        Ok(self.observe(prior, arn).await?)
    }

    /// Policy names are unique in an account: a configured name finds the
    /// policy a lost create made.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let Some(name) = opt_str(planned, "name") else {
            return Err(ProviderError::new(
                "the policy's generated name was not recorded: check whether the cut-off create made one, then `dumcel import` it by ARN or `dumcel state rm` the address",
            ));
        };
        match self.arn_by_name(name, opt_str(planned, "path")).await? {
            Some(arn) => Ok(self.observe(planned, &arn).await?),
            None => Ok(None),
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = name_of(planned);
        let iam = self.shared.iam().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = iam
            .create_policy()
            .policy_name(&name)
            .path(opt_str(planned, "path").unwrap_or("/"))
            .policy_document(req_str(planned, "policy")?)
            .set_description(opt_str(planned, "description").map(str::to_owned))
            .set_tags((!all.is_empty()).then(|| iam_tags(all)).transpose()?)
            .send()
            .await
            .map_err(sdk("CreatePolicy"))?;
        let arn = out
            .policy()
            .and_then(|p| p.arn())
            .ok_or_else(|| AwsError::unexpected("CreatePolicy", "no policy ARN in the answer"))?
            .to_owned();
        let made = with_all(
            planned,
            [("id", s(&arn)), ("arn", s(&arn)), ("name", s(&name))],
        );
        let (base, key) = (&made, arn.as_str());
        wait::until(
            &format!("IAM policy {arn} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, key).await },
        )
        .await
        .map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        })
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let iam = self.shared.iam().await;
        let policy = req_str(planned, "policy")?;
        if opt_str(prior, "policy") != Some(policy) {
            self.prune(&iam, arn).await?;
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(policy)
                .set_as_default(true)
                .send()
                .await
                .map_err(sdk("CreatePolicyVersion"))?;
        }
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !set.is_empty() {
            iam.tag_policy()
                .policy_arn(arn)
                .set_tags(Some(iam_tags(set)?))
                .send()
                .await
                .map_err(sdk("TagPolicy"))?;
        }
        if !removed.is_empty() {
            iam.untag_policy()
                .policy_arn(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(sdk("UntagPolicy"))?;
        }
        self.observe(planned, arn).await?.ok_or_else(|| {
            ProviderError::new(format!("IAM policy {arn} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        let iam = self.shared.iam().await;
        let gone = |e: AwsError| -> ProviderResult<()> {
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e.into())
            }
        };
        let versions = match iam.list_policy_versions().policy_arn(arn).send().await {
            Ok(out) => out.versions().to_vec(),
            Err(e) => return gone(AwsError::sdk("ListPolicyVersions", e)),
        };
        for v in versions.iter().filter(|v| !v.is_default_version()) {
            let Some(id) = v.version_id() else { continue };
            if let Err(e) = iam
                .delete_policy_version()
                .policy_arn(arn)
                .version_id(id)
                .send()
                .await
            {
                gone(AwsError::sdk("DeletePolicyVersion", e))?;
            }
        }
        match iam.delete_policy().policy_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) => gone(AwsError::sdk("DeletePolicy", e)),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        if !id.starts_with("arn:") {
            return Err(ProviderError::new(format!(
                "an aws_iam_policy is imported by its ARN (arn:aws:iam::123456789012:policy/name), got {id:?}"
            )));
        }
        let iam = self.shared.iam().await;
        if self.get(&iam, id).await?.is_none() {
            return Err(ProviderError::new(format!(
                "NoSuchEntity: no IAM policy {id:?} to import"
            )));
        }
        let tags = iam
            .list_policy_tags()
            .policy_arn(id)
            .send()
            .await
            .map_err(sdk("ListPolicyTags"))?;
        Ok(obj([
            ("id", s(id)),
            ("arn", s(id)),
            ("name_prefix", Value::Null),
            (
                "tags",
                imported_tags(&self.shared.default_tags(), tags.tags()),
            ),
        ]))
    }
}
