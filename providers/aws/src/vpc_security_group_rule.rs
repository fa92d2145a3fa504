//! `aws_vpc_security_group_ingress_rule` and
//! `aws_vpc_security_group_egress_rule`: one rule of a security group, with
//! its own id (`sgr-...`), description and tags. The two types differ only in
//! direction, so they share this file. The rule itself (group, protocol,
//! ports, source or destination) replaces it; `description` and tags change in
//! place. Exactly one of `cidr_ipv4`, `cidr_ipv6`, `prefix_list_id` and
//! `referenced_security_group_id` is the source (ingress) or destination
//! (egress). Import by the rule id. Do not mix these with the inline
//! `ingress` / `egress` blocks of `aws_security_group` on one group: each
//! would remove the other's rules.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType as Ec2ResourceType,
    SecurityGroupRule, SecurityGroupRuleRequest, SecurityGroupRuleUpdate, UserIdGroupPair,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, opt_i32, opt_str, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{
    arn, check_ipv4_cidr, found, gone, imported_tags, retag, tag_spec, tags_all, text,
};
use crate::error::{AwsError, AwsResult, sdk};
use crate::tags;

const SOURCES: &[&str] = &[
    "cidr_ipv4",
    "cidr_ipv6",
    "prefix_list_id",
    "referenced_security_group_id",
];

pub struct VpcSecurityGroupRule {
    shared: Arc<Shared>,
    schema: Schema,
    egress: bool,
}

/// A protocol as AWS spells it: `-1` for all, names for the common numbers.
fn normal_protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        other => other.to_owned(),
    }
}

/// The rule a configuration describes, in the shape EC2 takes.
struct Wanted {
    protocol: String,
    from: Option<i32>,
    to: Option<i32>,
    source: (&'static str, String),
    description: Option<String>,
}

impl Wanted {
    fn of(v: &Value) -> AwsResult<Wanted> {
        let protocol = normal_protocol(req_str(v, "ip_protocol")?);
        let set: Vec<(&'static str, String)> = SOURCES
            .iter()
            .filter_map(|k| opt_str(v, k).map(|x| (*k, x.to_owned())))
            .collect();
        let source = match <[_; 1]>::try_from(set) {
            Ok([one]) => one,
            Err(_) => {
                return Err(AwsError::invalid(format!(
                    "a security group rule needs exactly one of {}",
                    SOURCES.join(", ")
                )));
            }
        };
        Ok(Wanted {
            protocol,
            from: opt_i32(v, "from_port")?,
            to: opt_i32(v, "to_port")?,
            source,
            description: opt_str(v, "description").map(str::to_owned),
        })
    }

    fn permission(&self) -> IpPermission {
        let d = self.description.clone();
        let (key, id) = (self.source.0, self.source.1.clone());
        let mut p = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from)
            .set_to_port(self.to);
        p = match key {
            "cidr_ipv4" => p.ip_ranges(IpRange::builder().cidr_ip(id).set_description(d).build()),
            "cidr_ipv6" => p.ipv6_ranges(
                Ipv6Range::builder()
                    .cidr_ipv6(id)
                    .set_description(d)
                    .build(),
            ),
            "prefix_list_id" => p.prefix_list_ids(
                PrefixListId::builder()
                    .prefix_list_id(id)
                    .set_description(d)
                    .build(),
            ),
            _ => p.user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id(id)
                    .set_description(d)
                    .build(),
            ),
        };
        p.build()
    }

    fn request(&self) -> SecurityGroupRuleRequest {
        let (key, id) = (self.source.0, Some(self.source.1.clone()));
        let b = SecurityGroupRuleRequest::builder()
            .ip_protocol(&self.protocol)
            // AWS wants both ports here; -1 is "all".
            .from_port(self.from.unwrap_or(-1))
            .to_port(self.to.unwrap_or(-1))
            .set_description(self.description.clone());
        match key {
            "cidr_ipv4" => b.set_cidr_ipv4(id),
            "cidr_ipv6" => b.set_cidr_ipv6(id),
            "prefix_list_id" => b.set_prefix_list_id(id),
            _ => b.set_referenced_group_id(id),
        }
        .build()
    }

    fn matches(&self, r: &SecurityGroupRule) -> bool {
        let source = match self.source.0 {
            "cidr_ipv4" => r.cidr_ipv4(),
            "cidr_ipv6" => r.cidr_ipv6(),
            "prefix_list_id" => r.prefix_list_id(),
            _ => r.referenced_group_info().and_then(|g| g.group_id()),
        };
        let port = |want: Option<i32>, got: Option<i32>| {
            want.unwrap_or(-1) == got.unwrap_or(-1) || self.protocol == "-1"
        };
        normal_protocol(r.ip_protocol().unwrap_or("-1")) == self.protocol
            && source == Some(self.source.1.as_str())
            && port(self.from, r.from_port())
            && port(self.to, r.to_port())
    }
}

impl VpcSecurityGroupRule {
    fn new(shared: Arc<Shared>, egress: bool) -> VpcSecurityGroupRule {
        let mut schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("security_group_rule_id", Attribute::computed())
            .attr("arn", Attribute::computed())
            .attr("security_group_id", Attribute::required().force_new())
            .attr(
                "ip_protocol",
                Attribute::required()
                    .force_new()
                    .describe("tcp, udp, icmp, icmpv6, a number, or -1 (all)"),
            )
            .attr("from_port", Attribute::optional().force_new())
            .attr("to_port", Attribute::optional().force_new());
        for k in SOURCES {
            schema = schema.attr(k, Attribute::optional().force_new());
        }
        let schema = schema.attr("description", Attribute::optional());
        VpcSecurityGroupRule {
            shared,
            schema: tags::add(schema),
            egress,
        }
    }

    pub fn ingress(shared: Arc<Shared>) -> VpcSecurityGroupRule {
        VpcSecurityGroupRule::new(shared, false)
    }

    pub fn egress(shared: Arc<Shared>) -> VpcSecurityGroupRule {
        VpcSecurityGroupRule::new(shared, true)
    }

    fn kind(&self) -> &'static str {
        if self.egress { "egress" } else { "ingress" }
    }

    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<SecurityGroupRule>> {
        let out = found(
            ec2.describe_security_group_rules()
                .security_group_rule_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeSecurityGroupRules")),
        )?;
        Ok(out.and_then(|o| {
            o.security_group_rules()
                .iter()
                .find(|r| r.security_group_rule_id() == Some(id))
                .cloned()
        }))
    }

    fn value(&self, ec2: &Client, base: &Value, r: &SecurityGroupRule) -> Value {
        let id = r.security_group_rule_id().unwrap_or_default();
        let protocol = r.ip_protocol().unwrap_or("-1");
        // The configuration's spelling of the same protocol ("6" or "TCP" for
        // tcp) is kept.
        let protocol = match opt_str(base, "ip_protocol") {
            Some(p) if normal_protocol(p) == normal_protocol(protocol) => s(p),
            _ => s(protocol),
        };
        // AWS answers -1 for "all ports"; left out, it stays null.
        let port = |key: &str, got: Option<i32>| match got {
            Some(-1) | None if base.get(key).is_none_or(Value::is_null) => Value::Null,
            Some(p) => n(p),
            None => Value::Null,
        };
        let arn = match r.security_group_rule_arn() {
            Some(a) if !a.is_empty() => s(a),
            _ => arn(
                ec2,
                r.group_owner_id().unwrap_or_default(),
                &format!("security-group-rule/{id}"),
            ),
        };
        with_all(
            base,
            [
                ("id", s(id)),
                ("security_group_rule_id", s(id)),
                ("arn", arn),
                ("security_group_id", text(r.group_id())),
                ("ip_protocol", protocol),
                ("from_port", port("from_port", r.from_port())),
                ("to_port", port("to_port", r.to_port())),
                ("cidr_ipv4", text(r.cidr_ipv4())),
                ("cidr_ipv6", text(r.cidr_ipv6())),
                ("prefix_list_id", text(r.prefix_list_id())),
                (
                    "referenced_security_group_id",
                    text(r.referenced_group_info().and_then(|g| g.group_id())),
                ),
                ("description", text(r.description())),
                tags_all(r.tags()),
            ],
        )
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(self
            .describe(&ec2, id)
            .await?
            .filter(|r| r.is_egress().unwrap_or(false) == self.egress)
            .map(|r| self.value(&ec2, base, &r)))
    }
}

#[async_trait]
impl ResourceType for VpcSecurityGroupRule {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            check_ipv4_cidr(config, "cidr_ipv4").into_iter().collect();
        let set = SOURCES
            .iter()
            .filter(|k| config.get(k).is_some_and(|v| !v.is_null()))
            .count();
        if set != 1 {
            out.push((
                "cidr_ipv4".into(),
                format!("is one of {}: set exactly one", SOURCES.join(", ")),
            ));
        }
        for k in ["from_port", "to_port"] {
            match opt_i32(config, k) {
                Ok(Some(p)) if !(-1..=65535).contains(&p) => {
                    out.push((k.into(), format!("must be between -1 and 65535, got {p}")))
                }
                Err(e) => out.push((k.into(), e.to_string())),
                _ => {}
            }
        }
        out
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let group = req_str(planned, "security_group_id")?;
        let want = Wanted::of(planned)?;
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let spec = tag_spec(Ec2ResourceType::SecurityGroupRule, all).map(|t| vec![t]);
        let rules = if self.egress {
            ec2.authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(want.permission())
                .set_tag_specifications(spec)
                .send()
                .await
                .map_err(sdk("AuthorizeSecurityGroupEgress"))?
                .security_group_rules()
                .to_vec()
        } else {
            ec2.authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(want.permission())
                .set_tag_specifications(spec)
                .send()
                .await
                .map_err(sdk("AuthorizeSecurityGroupIngress"))?
                .security_group_rules()
                .to_vec()
        };
        let operation = if self.egress {
            "AuthorizeSecurityGroupEgress"
        } else {
            "AuthorizeSecurityGroupIngress"
        };
        let id = rules
            .iter()
            .find_map(|r| r.security_group_rule_id())
            .ok_or_else(|| {
                AwsError::unexpected(operation, "no security group rule id in the answer")
            })?
            .to_owned();
        let made = with_all(
            planned,
            [("id", s(&id)), ("security_group_rule_id", s(&id))],
        );
        match self.observe(planned, &id).await {
            Ok(Some(v)) => Ok(v),
            // Not visible yet: what the answer said will do.
            Ok(None) => Ok(match rules.first() {
                Some(r) => self.value(&ec2, planned, r),
                None => made,
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// A rule is unique in its group by protocol, ports and source.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let group = req_str(planned, "security_group_id")?;
        let want = Wanted::of(planned)?;
        let ec2 = self.shared.ec2().await;
        let out = ec2
            .describe_security_group_rules()
            .filters(Filter::builder().name("group-id").values(group).build())
            .send()
            .await
            .map_err(sdk("DescribeSecurityGroupRules"))?;
        Ok(out
            .security_group_rules()
            .iter()
            .find(|r| {
                r.is_egress().unwrap_or(false) == self.egress
                    && r.group_id() == Some(group)
                    && want.matches(r)
            })
            .map(|r| self.value(&ec2, planned, r)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let group = req_str(prior, "security_group_id")?;
        let ec2 = self.shared.ec2().await;
        if opt_str(prior, "description") != opt_str(planned, "description") {
            let want = Wanted::of(planned)?;
            ec2.modify_security_group_rules()
                .group_id(group)
                .security_group_rules(
                    SecurityGroupRuleUpdate::builder()
                        .security_group_rule_id(id)
                        .security_group_rule(want.request())
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("ModifySecurityGroupRules"))?;
        }
        retag(&ec2, id, prior, planned).await?;
        self.observe(planned, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "security group rule {id} vanished while it was updated"
            ))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let group = req_str(prior, "security_group_id")?;
        let ec2 = self.shared.ec2().await;
        let r = if self.egress {
            ec2.revoke_security_group_egress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("RevokeSecurityGroupEgress"))
        } else {
            ec2.revoke_security_group_ingress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("RevokeSecurityGroupIngress"))
        };
        match r {
            Ok(()) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let r = self.describe(&ec2, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "InvalidSecurityGroupRuleId.NotFound: no security group rule {id:?} to import"
            ))
        })?;
        if r.is_egress().unwrap_or(false) != self.egress {
            let other = if self.egress { "ingress" } else { "egress" };
            return Err(ProviderError::new(format!(
                "{id} is an {other} rule; import it into aws_vpc_security_group_{other}_rule, not the {} type",
                self.kind()
            )));
        }
        Ok(obj([
            ("id", s(id)),
            imported_tags(&self.shared.default_tags(), r.tags()),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_normalize_like_terraform() {
        assert_eq!(normal_protocol("TCP"), "tcp");
        assert_eq!(normal_protocol("6"), "tcp");
        assert_eq!(normal_protocol("all"), "-1");
        assert_eq!(normal_protocol("50"), "50");
    }

    #[test]
    fn exactly_one_source() {
        let both = obj([
            ("ip_protocol", s("tcp")),
            ("cidr_ipv4", s("10.0.0.0/8")),
            ("referenced_security_group_id", s("sg-1")),
        ]);
        assert!(Wanted::of(&both).is_err());
        let one = obj([("ip_protocol", s("-1")), ("cidr_ipv4", s("0.0.0.0/0"))]);
        let w = Wanted::of(&one).unwrap();
        assert_eq!(w.source, ("cidr_ipv4", "0.0.0.0/0".to_owned()));
        let p = w.permission();
        assert_eq!(p.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
        assert_eq!(p.from_port(), None);
    }
}
