//! `aws_ecs_task_definition`: one revision of a task family. Revisions are
//! immutable, so every argument forces a new one (the old one is
//! deregistered); a service that names `arn` then updates in place to it.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    Compatibility, NetworkMode, SortOrder, TaskDefinition, TaskDefinitionStatus,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, opt_str, os, req_str, s, str_list, string_map, strings, with_all};
use crate::config::Shared;
use crate::ecs_cluster::{ecs_tags, read_ecs_tags};
use crate::ecs_container_definitions;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::tags;

pub struct EcsTaskDefinition {
    shared: Arc<Shared>,
    schema: Schema,
}

impl EcsTaskDefinition {
    pub fn new(shared: Arc<Shared>) -> EcsTaskDefinition {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("family", Attribute::required().force_new())
            .attr(
                "container_definitions",
                Attribute::required()
                    .force_new()
                    .describe("JSON array of container definitions"),
            )
            .attr("cpu", Attribute::optional().force_new())
            .attr("memory", Attribute::optional().force_new())
            .attr("network_mode", Attribute::optional_computed().force_new())
            .attr(
                "requires_compatibilities",
                Attribute::optional().force_new(),
            )
            .attr("execution_role_arn", Attribute::optional().force_new())
            .attr("task_role_arn", Attribute::optional().force_new())
            .attr("arn", Attribute::computed())
            .attr("arn_without_revision", Attribute::computed())
            .attr("revision", Attribute::computed());
        EcsTaskDefinition {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, arn: &str) -> AwsResult<Option<TaskDefinition>> {
        let out = self
            .shared
            .ecs()
            .await
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(sdk("DescribeTaskDefinition"));
        match out {
            Ok(o) => Ok(o
                .task_definition()
                .filter(|t| t.status() != Some(&TaskDefinitionStatus::Inactive))
                .cloned()),
            // ECS says "ClientException" for an unknown revision.
            Err(e) if e.is_not_found() || e.code() == Some("ClientException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The family's latest ACTIVE revision; `None` when it has none.
    /// ListTaskDefinitions takes a family *prefix*, so the family part of
    /// each ARN is checked, and the highest revision is picked rather than
    /// trusting the order of the answer.
    async fn latest_active(&self, family: &str) -> AwsResult<Option<TaskDefinition>> {
        let ecs = self.shared.ecs().await;
        let mut latest: Option<(i64, String)> = None;
        let mut next: Option<String> = None;
        loop {
            let out = ecs
                .list_task_definitions()
                .family_prefix(family)
                .status(TaskDefinitionStatus::Active)
                .sort(SortOrder::Desc)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(sdk("ListTaskDefinitions"))?;
            for arn in out.task_definition_arns() {
                // `...:task-definition/FAMILY:REVISION`
                let Some((f, rev)) = arn.rsplit_once('/').and_then(|(_, fr)| fr.rsplit_once(':'))
                else {
                    continue;
                };
                let Ok(rev) = rev.parse::<i64>() else {
                    continue;
                };
                if f == family && latest.as_ref().is_none_or(|(r, _)| rev > *r) {
                    latest = Some((rev, arn.clone()));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => break,
            }
        }
        match latest {
            Some((_, arn)) => self.describe(&arn).await,
            None => Ok(None),
        }
    }

    /// Whether a registered revision has the settings `planned` registers.
    fn registers(planned: &Value, t: &TaskDefinition) -> AwsResult<bool> {
        let containers =
            ecs_container_definitions::parse(req_str(planned, "container_definitions")?)?;
        let mut want_compat = str_list(planned, "requires_compatibilities");
        let mut have_compat: Vec<String> = t
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        want_compat.sort();
        have_compat.sort();
        // What the configuration leaves out is AWS's choice (network mode,
        // compatibilities); what it sets must be what is registered.
        let same_opt = |key: &str, have: Option<&str>| match opt_str(planned, key) {
            Some(want) => have == Some(want),
            None => true,
        };
        Ok(
            ecs_container_definitions::same(&containers, t.container_definitions())
                && opt_str(planned, "cpu") == t.cpu()
                && opt_str(planned, "memory") == t.memory()
                && opt_str(planned, "execution_role_arn") == t.execution_role_arn()
                && opt_str(planned, "task_role_arn") == t.task_role_arn()
                && same_opt("network_mode", t.network_mode().map(|m| m.as_str()))
                && (want_compat.is_empty() || want_compat == have_compat),
        )
    }

    fn value(base: &Value, t: &TaskDefinition) -> Value {
        let arn = t.task_definition_arn().unwrap_or_default();
        let family = t.family().unwrap_or_default();
        let without = arn.rsplit_once(':').map(|(a, _)| a).unwrap_or(arn);
        with_all(
            base,
            [
                ("id", s(family)),
                ("family", s(family)),
                ("arn", s(arn)),
                ("arn_without_revision", s(without)),
                ("revision", n(t.revision())),
                ("network_mode", os(t.network_mode().map(|m| m.as_str()))),
            ],
        )
    }
}

#[async_trait]
impl ResourceType for EcsTaskDefinition {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match opt_str(config, "container_definitions") {
            Some(text) => match ecs_container_definitions::parse(text) {
                Ok(_) => Vec::new(),
                Err(e) => vec![("container_definitions".into(), e.to_string())],
            },
            None => Vec::new(),
        }
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "arn")?;
        // Revisions are immutable: only whether it still exists, and its
        // tags, can drift.
        let Some(t) = self.describe(arn).await? else {
            return Ok(None);
        };
        let all = read_ecs_tags(&self.shared, arn).await?;
        Ok(Some(with_all(
            &Self::value(prior, &t),
            [("tags_all", string_map(all))],
        )))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let family = req_str(planned, "family")?;
        let containers =
            ecs_container_definitions::parse(req_str(planned, "container_definitions")?)?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let mut req = self
            .shared
            .ecs()
            .await
            .register_task_definition()
            .family(family)
            .set_container_definitions(Some(containers))
            .set_cpu(opt_str(planned, "cpu").map(str::to_owned))
            .set_memory(opt_str(planned, "memory").map(str::to_owned))
            .set_execution_role_arn(opt_str(planned, "execution_role_arn").map(str::to_owned))
            .set_task_role_arn(opt_str(planned, "task_role_arn").map(str::to_owned))
            .set_network_mode(opt_str(planned, "network_mode").map(NetworkMode::from));
        let compat = str_list(planned, "requires_compatibilities");
        if !compat.is_empty() {
            req = req.set_requires_compatibilities(Some(
                compat
                    .iter()
                    .map(|c| Compatibility::from(c.as_str()))
                    .collect(),
            ));
        }
        if !all.is_empty() {
            req = req.set_tags(Some(ecs_tags(all)));
        }
        let out = req.send().await.map_err(sdk("RegisterTaskDefinition"))?;
        let t = out.task_definition().ok_or_else(|| {
            AwsError::unexpected("RegisterTaskDefinition", "no task definition in the answer")
        })?;
        Ok(Self::value(planned, t))
    }

    /// A registration has no name of its own: a lost one is the family's
    /// latest ACTIVE revision when that holds the planned containers and
    /// settings. An older revision (what this one replaces) does not match,
    /// so the answer is `None` and the revision is registered again.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let family = req_str(planned, "family")?;
        let Some(t) = self.latest_active(family).await? else {
            return Ok(None);
        };
        Ok(Self::registers(planned, &t)?.then(|| Self::value(planned, &t)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Only tags can change without a new revision.
        let arn = req_str(prior, "arn")?;
        crate::ecs_cluster::retag(&self.shared, arn, prior, planned).await?;
        let all = read_ecs_tags(&self.shared, arn).await?;
        let mut v = with_all(planned, [("tags_all", string_map(all))]);
        for k in [
            "id",
            "arn",
            "arn_without_revision",
            "revision",
            "network_mode",
        ] {
            v = with_all(&v, [(k, prior.get(k).cloned().unwrap_or(Value::Null))]);
        }
        Ok(v)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        deleted(
            self.shared
                .ecs()
                .await
                .deregister_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map_err(sdk("DeregisterTaskDefinition")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let t = self.describe(id).await?.ok_or_else(|| {
            ProviderError::new(format!("ClientException: no active task definition {id:?}"))
        })?;
        // The JSON is rebuilt from what ECS reports; a configuration written
        // differently shows as a replacement, as with Terraform.
        let base = obj([
            ("container_definitions", s("[]")),
            ("cpu", os(t.cpu())),
            ("memory", os(t.memory())),
            (
                "requires_compatibilities",
                strings(t.requires_compatibilities().iter().map(|c| c.as_str())),
            ),
            ("execution_role_arn", os(t.execution_role_arn())),
            ("task_role_arn", os(t.task_role_arn())),
        ]);
        let arn = t.task_definition_arn().unwrap_or_default();
        let all = read_ecs_tags(&self.shared, arn).await?;
        Ok(with_all(
            &Self::value(&base, &t),
            [
                ("tags", tags::imported(&self.shared.default_tags(), &all)),
                ("tags_all", string_map(all)),
            ],
        ))
    }
}
