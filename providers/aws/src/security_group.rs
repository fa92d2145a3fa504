//! `aws_security_group`: a VPC security group with `ingress` and `egress`
//! blocks. Rules change in place (revoked and authorized one by one); name,
//! description and VPC replace it. Without `egress` blocks AWS's default
//! allow-all egress rule is left alone and not reported. Delete retries while
//! something (an ALB's network interface) still holds the group.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType as Ec2ResourceType, SecurityGroup as Sg, Tag,
    TagSpecification, UserIdGroupPair,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{blocks, n, obj, opt_i32, opt_str, req_str, s, str_list, strings, with_all};
use crate::config::Shared;
use crate::ec2_batch::{READ_BATCH, describe_by_ids, read_by_ids};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct SecurityGroup {
    shared: Arc<Shared>,
    schema: Schema,
}

/// One rule as configured: ports, protocol, and its sources or destinations.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    from: i32,
    to: i32,
    protocol: String,
    cidrs: Vec<String>,
    groups: Vec<String>,
}

impl Rule {
    fn from_block(b: &Value) -> AwsResult<Rule> {
        let mut cidrs = str_list(b, "cidr_blocks");
        cidrs.sort();
        let mut groups = str_list(b, "security_groups");
        groups.sort();
        let protocol = normal_protocol(opt_str(b, "protocol").unwrap_or("-1"));
        Ok(Rule {
            from: opt_i32(b, "from_port")?.unwrap_or(0),
            to: opt_i32(b, "to_port")?.unwrap_or(0),
            protocol,
            cidrs,
            groups,
        })
    }

    fn permission(&self) -> IpPermission {
        let all = self.protocol == "-1";
        IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port((!all).then_some(self.from))
            .set_to_port((!all).then_some(self.to))
            .set_ip_ranges(Some(
                self.cidrs
                    .iter()
                    .map(|c| IpRange::builder().cidr_ip(c).build())
                    .collect(),
            ))
            .set_user_id_group_pairs(Some(
                self.groups
                    .iter()
                    .map(|g| UserIdGroupPair::builder().group_id(g).build())
                    .collect(),
            ))
            .build()
    }

    fn from_permission(p: &IpPermission) -> Rule {
        let protocol = normal_protocol(p.ip_protocol().unwrap_or("-1"));
        let all = protocol == "-1";
        let mut cidrs: Vec<String> = p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_owned))
            .collect();
        cidrs.sort();
        let mut groups: Vec<String> = p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect();
        groups.sort();
        Rule {
            from: if all { 0 } else { p.from_port().unwrap_or(0) },
            to: if all { 0 } else { p.to_port().unwrap_or(0) },
            protocol,
            cidrs,
            groups,
        }
    }

    fn same_ports(&self, other: &Rule) -> bool {
        self.from == other.from && self.to == other.to && self.protocol == other.protocol
    }
}

fn normal_protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        other => other.to_owned(),
    }
}

/// AWS's view of the rules, in the shape of the recorded blocks: a recorded
/// block whose sources all still exist is kept as written; whatever else AWS
/// has becomes extra blocks (drift).
fn rules_value(prior: &[Value], actual: &[IpPermission], hide_default_egress: bool) -> Value {
    let mut left: Vec<Rule> = actual.iter().map(Rule::from_permission).collect();
    let mut out = Vec::new();
    for p in prior {
        let Ok(want) = Rule::from_block(p) else {
            continue;
        };
        let Some(have) = left.iter_mut().find(|r| r.same_ports(&want)) else {
            continue;
        };
        let present = want.cidrs.iter().all(|c| have.cidrs.contains(c))
            && want.groups.iter().all(|g| have.groups.contains(g));
        if present {
            have.cidrs.retain(|c| !want.cidrs.contains(c));
            have.groups.retain(|g| !want.groups.contains(g));
            out.push(p.clone());
        }
    }
    for r in left {
        if r.cidrs.is_empty() && r.groups.is_empty() {
            continue;
        }
        if hide_default_egress
            && r.protocol == "-1"
            && r.cidrs == ["0.0.0.0/0"]
            && r.groups.is_empty()
        {
            continue;
        }
        out.push(obj([
            ("from_port", n(r.from)),
            ("to_port", n(r.to)),
            ("protocol", s(r.protocol)),
            ("cidr_blocks", strings(r.cidrs)),
            ("security_groups", strings(r.groups)),
        ]));
    }
    Value::List(out)
}

fn rules(v: &Value, key: &str) -> AwsResult<Vec<Rule>> {
    blocks(v, key).iter().map(Rule::from_block).collect()
}

impl SecurityGroup {
    pub fn new(shared: Arc<Shared>) -> SecurityGroup {
        let rule = NestedBlock {
            schema: Schema::new()
                .attr("from_port", Attribute::required())
                .attr("to_port", Attribute::required())
                .attr("protocol", Attribute::required())
                .attr("cidr_blocks", Attribute::optional())
                .attr("security_groups", Attribute::optional())
                .attr("description", Attribute::optional()),
            min_items: 0,
            max_items: None,
            force_new: false,
        };
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("description", Attribute::optional_computed().force_new())
            .attr("vpc_id", Attribute::optional_computed().force_new())
            .attr("arn", Attribute::computed())
            .block("ingress", rule.clone())
            .block("egress", rule);
        SecurityGroup {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, id: &str) -> AwsResult<Option<Sg>> {
        match self
            .shared
            .ec2()
            .await
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .map_err(sdk("DescribeSecurityGroups"))
        {
            Ok(o) => Ok(o.security_groups().first().cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The group called `name` in `vpc` (the region's default VPC when
    /// `None`, where create without `vpc_id` puts it); `None` when there is
    /// none, or no default VPC for it to be in.
    async fn by_name(&self, name: &str, vpc: Option<&str>) -> AwsResult<Option<Sg>> {
        let ec2 = self.shared.ec2().await;
        let vpc = match vpc {
            Some(v) => v.to_owned(),
            None => {
                let out = ec2
                    .describe_vpcs()
                    .filters(Filter::builder().name("isDefault").values("true").build())
                    .send()
                    .await
                    .map_err(sdk("DescribeVpcs"))?;
                match out.vpcs().first().and_then(|v| v.vpc_id()) {
                    Some(id) => id.to_owned(),
                    None => return Ok(None),
                }
            }
        };
        let out = ec2
            .describe_security_groups()
            .filters(Filter::builder().name("group-name").values(name).build())
            .filters(Filter::builder().name("vpc-id").values(&vpc).build())
            .send()
            .await
            .map_err(sdk("DescribeSecurityGroups"))?;
        // Filters are AWS's; the answer is checked all the same.
        Ok(out
            .security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name) && g.vpc_id() == Some(vpc.as_str()))
            .cloned())
    }

    fn value(&self, base: &Value, g: &Sg) -> Value {
        let id = g.group_id().unwrap_or_default();
        let region = self.shared.settings().region.unwrap_or_default();
        let hide = blocks(base, "egress").is_empty();
        // A direction without blocks is not managed here (as in Terraform,
        // where rule resources such as aws_vpc_security_group_ingress_rule
        // hold its rules): none of its rules is reported. An import (nothing
        // recorded at all) reports them whole.
        let rules_of = |key: &str, actual: &[IpPermission], hide: bool| {
            let unmanaged = base
                .get(key)
                .is_some_and(|v| v.is_null() || v.as_list().is_some_and(<[Value]>::is_empty));
            if unmanaged {
                Value::List(Vec::new())
            } else {
                rules_value(blocks(base, key), actual, hide)
            }
        };
        with_all(
            base,
            [
                ("id", s(id)),
                ("name", s(g.group_name().unwrap_or_default())),
                ("description", s(g.description().unwrap_or_default())),
                ("vpc_id", s(g.vpc_id().unwrap_or_default())),
                (
                    "arn",
                    s(format!(
                        "arn:aws:ec2:{region}:{}:security-group/{id}",
                        g.owner_id().unwrap_or_default()
                    )),
                ),
                ("ingress", rules_of("ingress", g.ip_permissions(), false)),
                (
                    "egress",
                    rules_of("egress", g.ip_permissions_egress(), hide),
                ),
            ],
        )
    }

    /// Revokes what is recorded but no longer wanted, then authorizes what is new.
    async fn sync_rules(
        &self,
        id: &str,
        had_in: Vec<Rule>,
        had_out: Vec<Rule>,
        planned: &Value,
    ) -> AwsResult<()> {
        let ec2 = self.shared.ec2().await;
        let want_in = rules(planned, "ingress")?;
        let want_out = rules(planned, "egress")?;
        let gone = |had: &[Rule], want: &[Rule]| -> Vec<IpPermission> {
            had.iter()
                .filter(|r| !want.contains(r) && (!r.cidrs.is_empty() || !r.groups.is_empty()))
                .map(Rule::permission)
                .collect()
        };
        let revoke_in = gone(&had_in, &want_in);
        let revoke_out = gone(&had_out, &want_out);
        let add_in = gone(&want_in, &had_in);
        let add_out = gone(&want_out, &had_out);
        if !revoke_in.is_empty() {
            ec2.revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(revoke_in))
                .send()
                .await
                .map_err(sdk("RevokeSecurityGroupIngress"))?;
        }
        if !revoke_out.is_empty() {
            ec2.revoke_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(revoke_out))
                .send()
                .await
                .map_err(sdk("RevokeSecurityGroupEgress"))?;
        }
        if !add_in.is_empty() {
            ec2.authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(add_in))
                .send()
                .await
                .map_err(sdk("AuthorizeSecurityGroupIngress"))?;
        }
        if !add_out.is_empty() {
            ec2.authorize_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(add_out))
                .send()
                .await
                .map_err(sdk("AuthorizeSecurityGroupEgress"))?;
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceType for SecurityGroup {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn plan(&self, _prior: Option<&Value>, mut proposed: Value) -> Result<Value, String> {
        if proposed.get("description").is_none_or(Value::is_unknown) {
            proposed = with_all(&proposed, [("description", s("Managed by Dumcel"))]);
        }
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.describe(id).await?.map(|g| self.value(prior, &g)))
    }

    fn read_batch_size(&self) -> usize {
        READ_BATCH
    }

    async fn read_many(&self, priors: &[Value]) -> Vec<ProviderResult<Option<Value>>> {
        let client = self.shared.ec2().await;
        let ec2 = &client;
        read_by_ids(
            priors,
            |ids| async move {
                describe_by_ids!(
                    ec2.describe_security_groups(),
                    "group-id",
                    ids,
                    security_groups,
                    group_id,
                    "DescribeSecurityGroups"
                )
            },
            |prior, g| self.value(prior, g),
        )
        .await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let mut req = ec2
            .create_security_group()
            .group_name(name)
            .description(opt_str(planned, "description").unwrap_or("Managed by Dumcel"))
            .set_vpc_id(opt_str(planned, "vpc_id").map(str::to_owned));
        if !all.is_empty() {
            req = req.tag_specifications(
                TagSpecification::builder()
                    .resource_type(Ec2ResourceType::SecurityGroup)
                    .set_tags(Some(
                        all.into_iter()
                            .map(|(k, v)| Tag::builder().key(k).value(v).build())
                            .collect(),
                    ))
                    .build(),
            );
        }
        let out = req.send().await.map_err(sdk("CreateSecurityGroup"))?;
        let id = out
            .group_id()
            .ok_or_else(|| {
                AwsError::unexpected("CreateSecurityGroup", "no group id in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&id))]);
        let partial = |e: AwsError| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        };
        let had_out = if blocks(planned, "egress").is_empty() {
            Vec::new()
        } else {
            // Explicit egress rules replace AWS's default allow-all one.
            vec![Rule {
                from: 0,
                to: 0,
                protocol: "-1".into(),
                cidrs: vec!["0.0.0.0/0".into()],
                groups: Vec::new(),
            }]
        };
        self.sync_rules(&id, Vec::new(), had_out, planned)
            .await
            .map_err(partial)?;
        let g = self.describe(&id).await.map_err(partial)?;
        Ok(g.map(|g| self.value(planned, &g)).unwrap_or(made))
    }

    /// A group name is unique in its VPC. Rules a cut-off create never
    /// authorized read as missing, and the next plan adds them.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let g = self.by_name(name, opt_str(planned, "vpc_id")).await?;
        Ok(g.map(|g| self.value(planned, &g)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        self.sync_rules(
            id,
            rules(prior, "ingress")?,
            rules(prior, "egress")?,
            planned,
        )
        .await?;
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        let ec2 = self.shared.ec2().await;
        if !set.is_empty() {
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(
                    set.into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(sdk("CreateTags"))?;
        }
        if !removed.is_empty() {
            ec2.delete_tags()
                .resources(id)
                .set_tags(Some(
                    removed
                        .into_iter()
                        .map(|k| Tag::builder().key(k).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(sdk("DeleteTags"))?;
        }
        let g = self.describe(id).await?.ok_or_else(|| {
            ProviderError::new(format!("security group {id} vanished while it was updated"))
        })?;
        Ok(self.value(planned, &g))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        wait::until(
            &format!("security group {id} to be released by its dependents"),
            wait::limit(600),
            Duration::from_secs(5),
            || {
                let ec2 = ec2.clone();
                async move {
                    match ec2
                        .delete_security_group()
                        .group_id(id)
                        .send()
                        .await
                        .map_err(sdk("DeleteSecurityGroup"))
                    {
                        Ok(_) => Ok(Some(())),
                        Err(e) if e.is_not_found() => Ok(Some(())),
                        Err(e) if e.code() == Some("DependencyViolation") => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([
            ("tags", Value::Null),
            ("tags_all", Value::Map(Default::default())),
        ]);
        let g = self.describe(id).await?.ok_or_else(|| {
            ProviderError::new(format!("InvalidGroup.NotFound: no security group {id:?}"))
        })?;
        // Imported rules are reported whole (nothing recorded to match them to).
        Ok(self.value(&base, &g))
    }
}
