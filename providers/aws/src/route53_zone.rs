//! `aws_route53_zone`: a Route 53 hosted zone, public, or private to the
//! VPCs of its `vpc` blocks. `id` and `zone_id` are the zone's id without
//! the `/hostedzone/` prefix; import takes that id. The name and the
//! delegation set replace it; the comment, the VPCs of a private zone and
//! tags change in place. With `force_destroy`, destroy first deletes every
//! record set but the zone's own SOA and NS, as Terraform does; without it,
//! Route 53's `HostedZoneNotEmpty` is the answer while any are left.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{ChangeAction, HostedZoneConfig, Vpc, VpcRegion};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    blocks, obj, opt_bool, opt_str, or_default, req_str, s, string_map, strings, with, with_all,
};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::route53::{
    all_records, change, clean_zone_id, normalize, one_change, retag_zone, wait_in_sync, zone_tags,
};
use crate::tags;

const DEFAULT_COMMENT: &str = "Managed by Terraform";

pub struct Route53Zone {
    shared: Arc<Shared>,
    schema: Schema,
}

impl Route53Zone {
    pub fn new(shared: Arc<Shared>) -> Route53Zone {
        let vpc = Schema::new().attr("vpc_id", Attribute::required()).attr(
            "vpc_region",
            Attribute::optional_computed().describe("default: the provider's region"),
        );
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr(
                "name",
                Attribute::required()
                    .force_new()
                    .describe("the domain; compared in lower case without a trailing dot"),
            )
            .attr(
                "comment",
                Attribute::optional_computed().describe("default \"Managed by Terraform\""),
            )
            .attr("delegation_set_id", Attribute::optional().force_new())
            .attr(
                "force_destroy",
                Attribute::optional()
                    .describe("delete every record set but the zone's SOA and NS on destroy"),
            )
            .attr("zone_id", Attribute::computed())
            .attr("arn", Attribute::computed())
            .attr("name_servers", Attribute::computed())
            .attr("primary_name_server", Attribute::computed())
            .block(
                "vpc",
                NestedBlock {
                    schema: vpc,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        Route53Zone {
            shared,
            schema: tags::add(schema),
        }
    }

    fn region(&self) -> String {
        self.shared
            .settings()
            .region
            .or_else(|| std::env::var("AWS_REGION").ok())
            .unwrap_or_else(|| "us-east-1".into())
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let client = self.shared.route53().await;
        let id = clean_zone_id(id);
        let out = match client
            .get_hosted_zone()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetHostedZone"))
        {
            Ok(o) => o,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(zone) = out.hosted_zone() else {
            return Ok(None);
        };
        let Some(tags) = zone_tags(&client, id).await? else {
            return Ok(None);
        };
        let private = zone.config().is_some_and(|c| c.private_zone());
        let name = normalize(zone.name());
        let records = all_records(&client, id).await.unwrap_or_default();
        let apex = |kind: &str| {
            records
                .iter()
                .find(|r| normalize(r.name()) == name && r.r#type().as_str() == kind)
        };
        let mut name_servers: Vec<String> = match out.delegation_set() {
            Some(d) if !private && !d.name_servers().is_empty() => d.name_servers().to_vec(),
            _ => apex("NS")
                .map(|r| {
                    r.resource_records()
                        .iter()
                        .map(|v| v.value().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        };
        name_servers.sort();
        let primary = apex("SOA")
            .and_then(|r| r.resource_records().first())
            .and_then(|v| v.value().split_whitespace().next())
            .map(|v| s(v.trim_end_matches('.')))
            .unwrap_or(Value::Null);
        let vpcs = Self::vpcs_value(blocks(base, "vpc"), out.vpcs());
        let prior_name = opt_str(base, "name").map(normalize);
        Ok(Some(with_all(
            base,
            [
                ("id", s(id)),
                ("zone_id", s(id)),
                ("arn", s(format!("arn:aws:route53:::hostedzone/{id}"))),
                ("name", s(prior_name.filter(|p| *p == name).unwrap_or(name))),
                (
                    "comment",
                    s(zone.config().and_then(|c| c.comment()).unwrap_or("")),
                ),
                (
                    "delegation_set_id",
                    match out.delegation_set().and_then(|d| d.id()) {
                        Some(d) if !d.is_empty() => s(d.trim_start_matches("/delegationset/")),
                        _ => Value::Null,
                    },
                ),
                (
                    "force_destroy",
                    Value::Bool(opt_bool(base, "force_destroy").unwrap_or(false)),
                ),
                ("name_servers", strings(name_servers)),
                ("primary_name_server", primary),
                ("vpc", vpcs),
                ("tags_all", string_map(tags)),
            ],
        )))
    }

    /// The zone's VPCs as `vpc` blocks, in the recorded order where the same.
    fn vpcs_value(prior: &[Value], actual: &[Vpc]) -> Value {
        let mut found: Vec<(String, String)> = actual
            .iter()
            .filter_map(|v| {
                Some((
                    v.vpc_id()?.to_owned(),
                    v.vpc_region().map(|r| r.as_str()).unwrap_or("").to_owned(),
                ))
            })
            .collect();
        let pos = |id: &str| {
            prior
                .iter()
                .position(|p| opt_str(p, "vpc_id") == Some(id))
                .unwrap_or(usize::MAX)
        };
        found.sort_by(|a, b| pos(&a.0).cmp(&pos(&b.0)).then(a.0.cmp(&b.0)));
        Value::List(
            found
                .into_iter()
                .map(|(id, region)| obj([("vpc_id", s(id)), ("vpc_region", s(region))]))
                .collect(),
        )
    }

    fn vpc_of(&self, b: &Value) -> AwsResult<Vpc> {
        let id = req_str(b, "vpc_id")?;
        let region = opt_str(b, "vpc_region")
            .map(str::to_owned)
            .unwrap_or_else(|| self.region());
        Ok(Vpc::builder()
            .vpc_id(id)
            .vpc_region(VpcRegion::from(region.as_str()))
            .build())
    }

    /// Deletes every record set but the zone's own SOA and NS.
    async fn empty(&self, client: &Client, id: &str, name: &str) -> AwsResult<()> {
        let records = all_records(client, id).await?;
        let doomed: Vec<_> = records
            .into_iter()
            .filter(|r| {
                let kind = r.r#type().as_str();
                !(normalize(r.name()) == name && (kind == "SOA" || kind == "NS"))
            })
            .collect();
        for chunk in doomed.chunks(100) {
            let changes = chunk
                .iter()
                .cloned()
                .map(|r| one_change(ChangeAction::Delete, r))
                .collect::<AwsResult<Vec<_>>>()?;
            change(client, id, changes).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceType for Route53Zone {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        if opt_str(config, "delegation_set_id").is_some() && !blocks(config, "vpc").is_empty() {
            errs.push((
                "delegation_set_id".into(),
                "cannot be set on a private zone (one with vpc blocks)".into(),
            ));
        }
        errs
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = match opt_str(&proposed, "name") {
            Some(n) => with(&proposed, "name", s(normalize(n))),
            None => proposed,
        };
        let proposed = or_default(proposed, "comment", s(DEFAULT_COMMENT));
        let proposed = or_default(proposed, "force_destroy", Value::Bool(false));
        // A VPC's region defaults to the provider's.
        let region = self.region();
        let vpcs: Vec<Value> = blocks(&proposed, "vpc")
            .iter()
            .map(|b| or_default(b.clone(), "vpc_region", s(&region)))
            .collect();
        let had_vpcs = !vpcs.is_empty();
        let proposed = with(&proposed, "vpc", Value::List(vpcs));
        if let Some(p) = prior
            && p.get("id").is_some_and(|v| !v.is_null())
            && blocks(p, "vpc").is_empty() == had_vpcs
        {
            return Err(
                "a zone cannot change between public and private (adding the first vpc block \
                 or removing the last): Terraform replaces it; destroy the zone first or make a \
                 new one"
                    .into(),
            );
        }
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = normalize(req_str(planned, "name")?);
        let client = self.shared.route53().await;
        let vpcs = blocks(planned, "vpc");
        let first = vpcs.first().map(|b| self.vpc_of(b)).transpose()?;
        let reference = format!(
            "dumcel-{}-{}",
            name,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let out = client
            .create_hosted_zone()
            .name(&name)
            .caller_reference(reference)
            .hosted_zone_config(
                HostedZoneConfig::builder()
                    .comment(opt_str(planned, "comment").unwrap_or(DEFAULT_COMMENT))
                    .private_zone(first.is_some())
                    .build(),
            )
            .set_vpc(first)
            .set_delegation_set_id(opt_str(planned, "delegation_set_id").map(str::to_owned))
            .send()
            .await
            .map_err(sdk("CreateHostedZone"))?;
        let id = out
            .hosted_zone()
            .map(|z| clean_zone_id(z.id()).to_owned())
            .ok_or_else(|| {
                AwsError::unexpected("CreateHostedZone", "no hosted zone in the answer")
            })?;
        let made = with_all(planned, [("id", s(&id)), ("zone_id", s(&id))]);
        let rest = async {
            wait_in_sync(&client, out.change_info()).await?;
            for b in vpcs.iter().skip(1) {
                let r = client
                    .associate_vpc_with_hosted_zone()
                    .hosted_zone_id(&id)
                    .vpc(self.vpc_of(b)?)
                    .send()
                    .await
                    .map_err(sdk("AssociateVPCWithHostedZone"))?;
                wait_in_sync(&client, r.change_info()).await?;
            }
            let all = tags::merged(&self.shared.default_tags(), planned);
            retag_zone(&client, &id, &BTreeMap::new(), &all).await?;
            self.observe(planned, &id).await
        };
        match rest.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("hosted zone {id} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let client = self.shared.route53().await;
        let comment = opt_str(planned, "comment").unwrap_or("");
        if opt_str(prior, "comment") != Some(comment) {
            client
                .update_hosted_zone_comment()
                .id(id)
                .comment(comment)
                .send()
                .await
                .map_err(sdk("UpdateHostedZoneComment"))?;
        }
        if prior.get("vpc") != planned.get("vpc") {
            let key = |b: &Value| opt_str(b, "vpc_id").map(str::to_owned);
            let had: Vec<String> = blocks(prior, "vpc").iter().filter_map(key).collect();
            let want: Vec<String> = blocks(planned, "vpc").iter().filter_map(key).collect();
            // Associate first: a private zone must keep one VPC at all times.
            for b in blocks(planned, "vpc") {
                if key(b).is_some_and(|k| !had.contains(&k)) {
                    let r = client
                        .associate_vpc_with_hosted_zone()
                        .hosted_zone_id(id)
                        .vpc(self.vpc_of(b)?)
                        .send()
                        .await
                        .map_err(sdk("AssociateVPCWithHostedZone"))?;
                    wait_in_sync(&client, r.change_info()).await?;
                }
            }
            for b in blocks(prior, "vpc") {
                if key(b).is_some_and(|k| !want.contains(&k)) {
                    let r = client
                        .disassociate_vpc_from_hosted_zone()
                        .hosted_zone_id(id)
                        .vpc(self.vpc_of(b)?)
                        .send()
                        .await
                        .map_err(sdk("DisassociateVPCFromHostedZone"))?;
                    wait_in_sync(&client, r.change_info()).await?;
                }
            }
        }
        retag_zone(
            &client,
            id,
            &tags::recorded(prior),
            &tags::recorded(planned),
        )
        .await?;
        Ok(self.observe(planned, id).await?.ok_or_else(|| {
            ProviderError::new(format!("hosted zone {id} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let client = self.shared.route53().await;
        if opt_bool(prior, "force_destroy") == Some(true) {
            let name = normalize(opt_str(prior, "name").unwrap_or(""));
            match self.empty(&client, id, &name).await {
                Err(e) if e.is_not_found() => return Ok(()),
                r => r?,
            }
        }
        let out = client
            .delete_hosted_zone()
            .id(id)
            .send()
            .await
            .map_err(sdk("DeleteHostedZone"));
        match out {
            Ok(o) => Ok(wait_in_sync(&client, o.change_info()).await?),
            Err(e) if e.code() == Some("HostedZoneNotEmpty") => Err(ProviderError::new(format!(
                "{e}: the zone still holds record sets; delete them (or their \
                 aws_route53_record resources) first, or set force_destroy = true"
            ))),
            Err(e) => deleted(Err::<(), _>(e)),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null), ("force_destroy", Value::Bool(false))]);
        let v = self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "NoSuchHostedZone: no hosted zone {id:?} to import (give its id, Z...)"
            ))
        })?;
        let own = tags::imported(&self.shared.default_tags(), &tags::recorded(&v));
        Ok(with(&v, "tags", own))
    }
}
