//! `aws_appautoscaling_target`: a resource registered with Application Auto
//! Scaling (an ECS service's desired count, a DynamoDB table's capacity),
//! with the bounds policies may scale it between. As in Terraform, `id` is
//! the resource id and the import id is
//! `service-namespace/resource-id/scalable-dimension`. The namespace,
//! resource id and dimension replace it; the capacities, role and tags change
//! in place (RegisterScalableTarget again, which updates).
//!
//! Tags are read back (ListTagsForResource) when the target has some
//! recorded; a target recorded without tags is not asked for them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget, ServiceNamespace};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::appautoscaling::{is_gone, parse_target_id, read_tags, retag};
use crate::attrs::{n, obj, opt_i32, opt_str, req_str, s, string_map, with_all};
use crate::config::Shared;
use crate::error::{AwsResult, sdk};
use crate::{tags, wait};

pub struct AppautoscalingTarget {
    shared: Arc<Shared>,
    schema: Schema,
}

/// The three names that identify a target.
struct Key<'a> {
    ns: &'a str,
    rid: &'a str,
    dim: &'a str,
}

impl<'a> Key<'a> {
    fn of(v: &'a Value) -> AwsResult<Key<'a>> {
        Ok(Key {
            ns: req_str(v, "service_namespace")?,
            rid: req_str(v, "resource_id")?,
            dim: req_str(v, "scalable_dimension")?,
        })
    }

    fn describe(&self) -> String {
        format!("scalable target {}/{}/{}", self.ns, self.rid, self.dim)
    }
}

impl AppautoscalingTarget {
    pub fn new(shared: Arc<Shared>) -> AppautoscalingTarget {
        let schema = Schema::new()
            .attr("id", Attribute::computed().describe("the resource id"))
            .attr(
                "service_namespace",
                Attribute::required()
                    .force_new()
                    .describe("ecs, dynamodb, rds, lambda, ..."),
            )
            .attr(
                "resource_id",
                Attribute::required()
                    .force_new()
                    .describe("service/CLUSTER/SERVICE for ECS, table/NAME for DynamoDB"),
            )
            .attr(
                "scalable_dimension",
                Attribute::required()
                    .force_new()
                    .describe("ecs:service:DesiredCount, dynamodb:table:ReadCapacityUnits, ..."),
            )
            .attr("min_capacity", Attribute::required())
            .attr("max_capacity", Attribute::required())
            .attr(
                "role_arn",
                Attribute::optional_computed()
                    .describe("left out, AWS uses its service-linked role"),
            )
            .attr("arn", Attribute::computed());
        AppautoscalingTarget {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, key: &Key<'_>) -> AwsResult<Option<ScalableTarget>> {
        let out = self
            .shared
            .appautoscaling()
            .await
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::from(key.ns))
            .resource_ids(key.rid)
            .scalable_dimension(ScalableDimension::from(key.dim))
            .send()
            .await
            .map_err(sdk("DescribeScalableTargets"));
        match out {
            Ok(o) => Ok(o
                .scalable_targets()
                .iter()
                .find(|t| t.resource_id() == key.rid && t.scalable_dimension().as_str() == key.dim)
                .cloned()),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The target as a value over `base`; `None` when it is gone. Tags are
    /// asked for when `base` records some.
    async fn observe(&self, base: &Value, key: &Key<'_>) -> AwsResult<Option<Value>> {
        let Some(t) = self.describe(key).await? else {
            return Ok(None);
        };
        let arn = t.scalable_target_arn().unwrap_or_default();
        let recorded = tags::recorded(base);
        let all = if recorded.is_empty() || arn.is_empty() {
            BTreeMap::new()
        } else {
            read_tags(&self.shared.appautoscaling().await, arn).await?
        };
        let role = t.role_arn();
        Ok(Some(with_all(
            base,
            [
                ("id", s(t.resource_id())),
                ("service_namespace", s(t.service_namespace().as_str())),
                ("resource_id", s(t.resource_id())),
                ("scalable_dimension", s(t.scalable_dimension().as_str())),
                ("min_capacity", n(t.min_capacity())),
                ("max_capacity", n(t.max_capacity())),
                (
                    "role_arn",
                    if role.is_empty() {
                        Value::Null
                    } else {
                        s(role)
                    },
                ),
                ("arn", s(arn)),
                ("tags_all", string_map(all)),
            ],
        )))
    }

    async fn register(&self, key: &Key<'_>, planned: &Value, tags: bool) -> AwsResult<()> {
        let mut req = self
            .shared
            .appautoscaling()
            .await
            .register_scalable_target()
            .service_namespace(ServiceNamespace::from(key.ns))
            .resource_id(key.rid)
            .scalable_dimension(ScalableDimension::from(key.dim))
            .set_min_capacity(opt_i32(planned, "min_capacity")?)
            .set_max_capacity(opt_i32(planned, "max_capacity")?)
            .set_role_arn(opt_str(planned, "role_arn").map(str::to_owned));
        let all = tags::merged(&self.shared.default_tags(), planned);
        if tags && !all.is_empty() {
            req = req.set_tags(Some(all.into_iter().collect::<HashMap<_, _>>()));
        }
        req.send().await.map_err(sdk("RegisterScalableTarget"))?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType for AppautoscalingTarget {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for k in ["min_capacity", "max_capacity"] {
            if let Err(e) = opt_i32(config, k) {
                out.push((k.to_owned(), e.to_string()));
            }
        }
        if let (Ok(Some(min)), Ok(Some(max))) = (
            opt_i32(config, "min_capacity"),
            opt_i32(config, "max_capacity"),
        ) && min > max
        {
            out.push((
                "min_capacity".to_owned(),
                format!("min_capacity ({min}) is above max_capacity ({max})"),
            ));
        }
        out
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let key = Key::of(prior)?;
        Ok(self.observe(prior, &key).await?)
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let key = Key::of(planned)?;
        Ok(self.observe(planned, &key).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let key = Key::of(planned)?;
        self.register(&key, planned, true).await?;
        let made = with_all(planned, [("id", s(key.rid))]);
        let what = format!("{} to be readable", key.describe());
        let key = &key;
        let made_ref = &made;
        wait::until(
            &what,
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(made_ref, key).await },
        )
        .await
        .map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        })
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let key = Key::of(prior)?;
        let scaling = ["min_capacity", "max_capacity", "role_arn"]
            .iter()
            .any(|k| prior.get(k) != planned.get(k));
        if scaling {
            self.register(&key, planned, false).await?;
        }
        let old = tags::recorded(prior);
        let new = tags::merged(&self.shared.default_tags(), planned);
        if old != new {
            let arn = req_str(prior, "arn")?;
            retag(&self.shared.appautoscaling().await, arn, &old, &new).await?;
        }
        self.observe(planned, &key).await?.ok_or_else(|| {
            ProviderError::new(format!("{} vanished while it was updated", key.describe()))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let key = Key::of(prior)?;
        let out = self
            .shared
            .appautoscaling()
            .await
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::from(key.ns))
            .resource_id(key.rid)
            .scalable_dimension(ScalableDimension::from(key.dim))
            .send()
            .await
            .map_err(sdk("DeregisterScalableTarget"));
        match out {
            Ok(_) => {}
            Err(e) if is_gone(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let key = &key;
        wait::until(
            &format!("{} to be deregistered", key.describe()),
            wait::limit(120),
            Duration::from_secs(1),
            move || async move { Ok(self.describe(key).await?.is_none().then_some(())) },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (ns, rid, dim) = parse_target_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "an aws_appautoscaling_target is imported as service-namespace/resource-id/scalable-dimension \
                 (e.g. ecs/service/CLUSTER/SERVICE/ecs:service:DesiredCount), got {id:?}"
            ))
        })?;
        Ok(obj([
            ("id", s(rid)),
            ("service_namespace", s(ns)),
            ("resource_id", s(rid)),
            ("scalable_dimension", s(dim)),
            ("tags", Value::Null),
        ]))
    }
}
