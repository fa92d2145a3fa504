//! `aws_lb_listener_rule`: a rule of a listener, matching requests by
//! `condition` blocks (`host_header { values }`, `path_pattern { values }`)
//! and sending them where its `action` blocks say. This is how each project
//! or preview branch gets its own host name behind one ALB. Its id is the
//! ARN; import takes the ARN. Priority, conditions and actions change in
//! place; the listener replaces it. Without a priority, the next free one
//! after the listener's highest is taken.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, PathPatternConditionConfig, Rule, RuleCondition, RulePriorityPair,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    block, blocks, n, narrow_blocks, obj, opt_i32, req_str, s, set_like, str_list, string_map,
    with_all,
};
use crate::config::Shared;
use crate::elbv2::{
    action_block, actions, actions_value, arn_resource, elb_tags, read_tags, retag,
    validate_actions,
};
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::{tags, wait};

/// The condition kinds a `condition` block supports: (block name, AWS field).
const CONDITIONS: &[(&str, &str)] = &[
    ("host_header", "host-header"),
    ("path_pattern", "path-pattern"),
];

pub struct LbListenerRule {
    shared: Arc<Shared>,
    schema: Schema,
}

/// The listener a rule belongs to, from the rule's ARN
/// (`...:listener-rule/app/LB/ID/LISTENER/RULE` -> `...:listener/app/LB/ID/LISTENER`).
fn listener_of(rule_arn: &str) -> Option<String> {
    let resource = arn_resource(rule_arn);
    let rest = resource.strip_prefix("listener-rule/")?;
    let (listener, _rule) = rest.rsplit_once('/')?;
    let head = rule_arn.strip_suffix(resource)?;
    Some(format!("{head}listener/{listener}"))
}

/// The kind of a `condition` block: the one condition block it holds.
fn condition_kind(c: &Value) -> Option<&'static str> {
    CONDITIONS
        .iter()
        .find(|(name, _)| block(c, name).is_some())
        .map(|(name, _)| *name)
}

fn conditions(v: &Value) -> AwsResult<Vec<RuleCondition>> {
    blocks(v, "condition")
        .iter()
        .map(|c| {
            let kind = condition_kind(c).ok_or_else(|| {
                AwsError::invalid("a condition block needs a host_header or path_pattern block")
            })?;
            let values = block(c, kind)
                .map(|b| str_list(b, "values"))
                .unwrap_or_default();
            let b = RuleCondition::builder();
            Ok(match kind {
                "host_header" => b.field("host-header").host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(values))
                        .build(),
                ),
                _ => b.field("path-pattern").path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .set_values(Some(values))
                        .build(),
                ),
            }
            .build())
        })
        .collect()
}

/// AWS's conditions in the shape of the recorded blocks: in the recorded
/// order of their kinds, values in the recorded order when they are the same
/// set. A condition of a kind these blocks cannot express shows as an empty
/// `condition` block, so it still shows as a change.
fn conditions_value(prior: &[Value], actual: &[RuleCondition]) -> Value {
    let mut found: Vec<(Option<&'static str>, Vec<String>)> = actual
        .iter()
        .map(|c| {
            let kind = CONDITIONS
                .iter()
                .find(|(_, field)| c.field() == Some(*field))
                .map(|(name, _)| *name);
            let configured = match kind {
                Some("host_header") => c.host_header_config().map(|h| h.values().to_vec()),
                Some("path_pattern") => c.path_pattern_config().map(|p| p.values().to_vec()),
                _ => None,
            };
            // Older answers carry the values beside the field instead.
            let values = configured
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| c.values().to_vec());
            (kind, values)
        })
        .collect();
    let pos = |kind: Option<&str>| {
        prior
            .iter()
            .position(|p| kind.is_some() && condition_kind(p) == kind)
            .unwrap_or(usize::MAX)
    };
    found.sort_by_key(|(kind, _)| pos(*kind));
    let items: Vec<Value> = found
        .into_iter()
        .enumerate()
        .map(|(i, (kind, values))| {
            let prior_values = prior
                .get(i)
                .and_then(|p| kind.and_then(|k| block(p, k)))
                .and_then(|b| b.get("values"));
            let mut m = dumcel_planner::Map::new();
            for (name, _) in CONDITIONS {
                let inner = if Some(*name) == kind {
                    vec![obj([("values", set_like(prior_values, values.clone()))])]
                } else {
                    Vec::new()
                };
                m.insert(name.to_string(), Value::List(inner));
            }
            Value::Map(m)
        })
        .collect();
    narrow_blocks(prior, items)
}

fn priority(r: &Rule) -> Value {
    r.priority()
        .and_then(|p| p.parse::<f64>().ok())
        .map(n)
        .unwrap_or(Value::Null)
}

impl LbListenerRule {
    pub fn new(shared: Arc<Shared>) -> LbListenerRule {
        let values = NestedBlock {
            schema: Schema::new().attr("values", Attribute::required()),
            min_items: 0,
            max_items: Some(1),
            force_new: false,
        };
        let mut condition = Schema::new();
        for (name, _) in CONDITIONS {
            condition = condition.block(name, values.clone());
        }
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("listener_arn", Attribute::required().force_new())
            .attr(
                "priority",
                Attribute::optional_computed()
                    .describe("1-50000, lowest first; default: after the listener's highest"),
            )
            .attr("arn", Attribute::computed())
            .block("action", action_block())
            .block(
                "condition",
                NestedBlock {
                    schema: condition,
                    min_items: 1,
                    max_items: None,
                    force_new: false,
                },
            );
        LbListenerRule {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn observe(&self, base: &Value, arn: &str) -> AwsResult<Option<Value>> {
        let client = self.shared.elbv2().await;
        let rule = match client
            .describe_rules()
            .rule_arns(arn)
            .send()
            .await
            .map_err(sdk("DescribeRules"))
        {
            Ok(o) => match o.rules().first() {
                Some(r) => r.clone(),
                None => return Ok(None),
            },
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(tags) = read_tags(&client, arn).await? else {
            return Ok(None);
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("priority", priority(&rule)),
                (
                    "action",
                    actions_value(blocks(base, "action"), rule.actions()),
                ),
                (
                    "condition",
                    conditions_value(blocks(base, "condition"), rule.conditions()),
                ),
                ("tags_all", string_map(tags)),
            ],
        )))
    }

    /// Every rule of the listener, its default rule included, page by page.
    async fn rules_of(client: &Client, listener: &str) -> AwsResult<Vec<Rule>> {
        let mut rules = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = client
                .describe_rules()
                .listener_arn(listener)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(sdk("DescribeRules"))?;
            rules.extend(out.rules().iter().cloned());
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(rules),
            }
        }
    }

    /// The priority after the highest one the listener's rules use.
    async fn next_priority(client: &Client, listener: &str) -> AwsResult<i32> {
        let highest = Self::rules_of(client, listener)
            .await?
            .iter()
            .filter_map(|r| r.priority().and_then(|p| p.parse::<i32>().ok()))
            .max()
            .unwrap_or(0);
        Ok(highest + 1)
    }

    /// Whether a rule holds the conditions and actions `planned` asks for,
    /// compared in the recorded shape (as `read` reports them).
    fn holds(planned: &Value, r: &Rule) -> bool {
        let conditions = conditions_value(blocks(planned, "condition"), r.conditions());
        let actions = actions_value(blocks(planned, "action"), r.actions());
        Some(&conditions) == planned.get("condition") && Some(&actions) == planned.get("action")
    }
}

#[async_trait]
impl ResourceType for LbListenerRule {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errs = validate_actions(config, "action");
        for c in blocks(config, "condition") {
            let kinds = CONDITIONS
                .iter()
                .filter(|(name, _)| block(c, name).is_some())
                .count();
            if kinds != 1 {
                errs.push((
                    "condition".into(),
                    "each condition block needs exactly one of host_header { values = [...] } \
                     or path_pattern { values = [...] }"
                        .into(),
                ));
            }
        }
        errs
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "arn")?;
        Ok(self.observe(prior, arn).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let listener = req_str(planned, "listener_arn")?;
        let client = self.shared.elbv2().await;
        let conds = conditions(planned)?;
        let acts = actions(planned, "action")?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let fixed = opt_i32(planned, "priority")?;
        let attempt = || {
            let (client, conds, acts, all) = (&client, conds.clone(), acts.clone(), all.clone());
            async move {
                let prio = match fixed {
                    Some(p) => p,
                    None => Self::next_priority(client, listener).await?,
                };
                let mut req = client
                    .create_rule()
                    .listener_arn(listener)
                    .priority(prio)
                    .set_conditions(Some(conds))
                    .set_actions(Some(acts));
                if !all.is_empty() {
                    req = req.set_tags(Some(elb_tags(all)));
                }
                req.send().await.map_err(sdk("CreateRule"))
            }
        };
        // A priority chosen here may be taken by a rule created at the same
        // time: choose again. A configured one is never changed.
        let out = wait::retry(
            &format!("a free rule priority on listener {listener}"),
            wait::limit(60),
            (Duration::from_millis(200), Duration::from_secs(2)),
            |e| fixed.is_none() && e.code() == Some("PriorityInUse"),
            attempt,
        )
        .await?;
        let arn = out
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .ok_or_else(|| AwsError::unexpected("CreateRule", "no rule ARN in the answer"))?
            .to_owned();
        let made = with_all(planned, [("id", s(&arn)), ("arn", s(&arn))]);
        match self.observe(planned, &arn).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("listener rule {arn} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// A priority is unique on its listener, so with one configured the
    /// rule at it is the one. Without one, create took the next free
    /// priority, so the rule is found by what it does instead: the one
    /// (non-default) rule with the planned conditions and actions; two such
    /// rules cannot be told apart, which is an error.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let listener = req_str(planned, "listener_arn")?;
        let client = self.shared.elbv2().await;
        let rules = match Self::rules_of(&client, listener).await {
            Ok(rules) => rules,
            // No listener: no rule on it either.
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let found: Vec<&Rule> = match opt_i32(planned, "priority")? {
            Some(p) => {
                let p = p.to_string();
                rules
                    .iter()
                    .filter(|r| r.priority() == Some(p.as_str()))
                    .collect()
            }
            None => rules
                .iter()
                .filter(|r| r.is_default() != Some(true) && Self::holds(planned, r))
                .collect(),
        };
        let arn = match found.as_slice() {
            [] => return Ok(None),
            [one] => one
                .rule_arn()
                .ok_or_else(|| AwsError::unexpected("DescribeRules", "a rule without an ARN"))?,
            many => {
                return Err(ProviderError::new(format!(
                    "{} rules on listener {listener} have these conditions and actions; \
                     import the one this resource made",
                    many.len()
                )));
            }
        };
        Ok(self.observe(planned, arn).await?)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.elbv2().await;
        if prior.get("condition") != planned.get("condition")
            || prior.get("action") != planned.get("action")
        {
            client
                .modify_rule()
                .rule_arn(arn)
                .set_conditions(Some(conditions(planned)?))
                .set_actions(Some(actions(planned, "action")?))
                .send()
                .await
                .map_err(sdk("ModifyRule"))?;
        }
        if let Some(p) = opt_i32(planned, "priority")?
            && prior.get("priority") != planned.get("priority")
        {
            client
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(arn)
                        .priority(p)
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("SetRulePriorities"))?;
        }
        retag(&client, arn, prior, planned).await?;
        Ok(self.observe(planned, arn).await?.ok_or_else(|| {
            ProviderError::new(format!("listener rule {arn} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        deleted(
            self.shared
                .elbv2()
                .await
                .delete_rule()
                .rule_arn(arn)
                .send()
                .await
                .map_err(sdk("DeleteRule")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let listener = listener_of(id).ok_or_else(|| {
            ProviderError::new(format!(
                "import id must be a listener rule ARN (arn:aws:elasticloadbalancing:...:listener-rule/...), got {id:?}"
            ))
        })?;
        let base = obj([("listener_arn", s(listener)), ("tags", Value::Null)]);
        self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!("RuleNotFound: no listener rule {id:?} to import"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_arn_from_rule_arn() {
        assert_eq!(
            listener_of("arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/web/aa/bb/cc")
                .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/aa/bb")
        );
        assert_eq!(
            listener_of("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/aa/bb"),
            None
        );
        assert_eq!(listener_of("nonsense"), None);
    }

    #[test]
    fn conditions_read_back_in_the_recorded_shape() {
        let host = obj([(
            "host_header",
            Value::List(vec![obj([(
                "values",
                Value::List(vec![s("b.example"), s("a.example")]),
            )])]),
        )]);
        let path = obj([(
            "path_pattern",
            Value::List(vec![obj([("values", Value::List(vec![s("/api/*")]))])]),
        )]);
        let prior = vec![host, path];
        let cfg = obj([("condition", Value::List(prior.clone()))]);
        let mut sent = conditions(&cfg).unwrap();
        // AWS may answer in another order, with the legacy `Values` too.
        sent.reverse();
        sent[1] = RuleCondition::builder()
            .field("host-header")
            .values("a.example")
            .values("b.example")
            .build();
        let back = conditions_value(&prior, &sent);
        assert_eq!(back, Value::List(prior));
    }
}
