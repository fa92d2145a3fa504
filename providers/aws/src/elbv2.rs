//! What the `aws_lb*` types share: tags (ELBv2 tags every kind of object the
//! same way, by ARN), ARN pieces, and listener actions (a listener's
//! `default_action` blocks and a rule's `action` blocks have one shape:
//! `forward`, `fixed-response` and `redirect`).

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, RedirectActionConfig,
    RedirectActionStatusCodeEnum, Tag,
};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{block, blocks, narrow_blocks, numbers_like, obj, opt_str, opt_text, os, s};
use crate::error::{AwsError, AwsResult, sdk};
use crate::tags;

/// The action types the `action` / `default_action` blocks support.
pub(crate) const ACTION_TYPES: &[&str] = &["forward", "fixed-response", "redirect"];

/// A redirect's status codes.
const REDIRECT_CODES: &[&str] = &["HTTP_301", "HTTP_302"];

pub(crate) fn elb_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags AWS holds for an object (`aws:` ones, which nobody can set, left
/// out); `None` when the object is gone.
pub(crate) async fn read_tags(
    client: &Client,
    arn: &str,
) -> AwsResult<Option<BTreeMap<String, String>>> {
    match client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(sdk("DescribeTags"))
    {
        Ok(out) => Ok(Some(
            out.tag_descriptions()
                .iter()
                .filter(|d| d.resource_arn().is_none_or(|a| a == arn))
                .flat_map(|d| d.tags())
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
                .filter(|(k, _)| !k.starts_with("aws:"))
                .collect(),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Applies the difference between recorded and planned `tags_all`.
pub(crate) async fn retag(
    client: &Client,
    arn: &str,
    prior: &Value,
    planned: &Value,
) -> AwsResult<()> {
    let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
    if !set.is_empty() {
        client
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(elb_tags(set)))
            .send()
            .await
            .map_err(sdk("AddTags"))?;
    }
    if !removed.is_empty() {
        client
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(sdk("RemoveTags"))?;
    }
    Ok(())
}

/// The resource part of an ARN (`targetgroup/web/0123abcd`).
pub(crate) fn arn_resource(arn: &str) -> &str {
    arn.splitn(6, ':').nth(5).unwrap_or("")
}

/// The schema of an `action` / `default_action` block.
pub(crate) fn action_block() -> NestedBlock {
    let fixed = Schema::new()
        .attr("content_type", Attribute::required())
        .attr("message_body", Attribute::optional())
        .attr("status_code", Attribute::optional());
    let redirect = Schema::new()
        .attr("host", Attribute::optional().describe("default #{host}"))
        .attr("path", Attribute::optional().describe("default /#{path}"))
        .attr("port", Attribute::optional().describe("default #{port}"))
        .attr(
            "protocol",
            Attribute::optional().describe("HTTP, HTTPS or #{protocol} (default)"),
        )
        .attr("query", Attribute::optional().describe("default #{query}"))
        .attr(
            "status_code",
            Attribute::required().describe("HTTP_301 or HTTP_302"),
        );
    NestedBlock {
        schema: Schema::new()
            .attr("type", Attribute::required())
            .attr("target_group_arn", Attribute::optional())
            .block(
                "fixed_response",
                NestedBlock {
                    schema: fixed,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            )
            .block(
                "redirect",
                NestedBlock {
                    schema: redirect,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            ),
        min_items: 1,
        max_items: None,
        force_new: false,
    }
}

/// What is wrong with the `key` action blocks, before any call.
pub(crate) fn validate_actions(config: &Value, key: &str) -> Vec<(String, String)> {
    let set = |v: &Value, k: &str| v.get(k).is_some_and(|x| !x.is_null());
    let mut errs = Vec::new();
    for a in blocks(config, key) {
        match opt_str(a, "type") {
            Some("forward") if !set(a, "target_group_arn") => errs.push((
                key.to_owned(),
                "a \"forward\" action needs target_group_arn".to_owned(),
            )),
            Some("fixed-response") if block(a, "fixed_response").is_none() => errs.push((
                key.to_owned(),
                "a \"fixed-response\" action needs a fixed_response { ... } block".to_owned(),
            )),
            Some("redirect") if block(a, "redirect").is_none() => errs.push((
                key.to_owned(),
                "a \"redirect\" action needs a redirect { status_code = \"HTTP_301\" ... } block"
                    .to_owned(),
            )),
            Some("redirect")
                if block(a, "redirect")
                    .and_then(|r| opt_str(r, "status_code"))
                    .is_some_and(|c| !REDIRECT_CODES.contains(&c)) =>
            {
                errs.push((
                    key.to_owned(),
                    "a redirect's status_code is HTTP_301 or HTTP_302".to_owned(),
                ))
            }
            Some(t) if !ACTION_TYPES.contains(&t) => errs.push((
                key.to_owned(),
                format!(
                    "action type {t:?} is not supported; use one of: {}",
                    ACTION_TYPES.join(", ")
                ),
            )),
            _ => {}
        }
    }
    errs
}

/// The `key` action blocks as ELBv2 actions, in order.
pub(crate) fn actions(v: &Value, key: &str) -> AwsResult<Vec<Action>> {
    let items = blocks(v, key);
    let many = items.len() > 1;
    items
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let kind = opt_str(a, "type")
                .ok_or_else(|| AwsError::invalid(format!("{key}: \"type\" must be a string")))?;
            let mut b = Action::builder()
                .r#type(ActionTypeEnum::from(kind))
                // AWS needs an order when a rule has several actions.
                .set_order(many.then_some(i as i32 + 1));
            match kind {
                "forward" => {
                    let tg = opt_str(a, "target_group_arn").ok_or_else(|| {
                        AwsError::invalid(format!(
                            "{key}: a \"forward\" action needs target_group_arn"
                        ))
                    })?;
                    b = b.target_group_arn(tg);
                }
                "fixed-response" => {
                    let f = block(a, "fixed_response").ok_or_else(|| {
                        AwsError::invalid(format!(
                            "{key}: a \"fixed-response\" action needs a fixed_response block"
                        ))
                    })?;
                    b = b.fixed_response_config(
                        FixedResponseActionConfig::builder()
                            .set_content_type(opt_str(f, "content_type").map(str::to_owned))
                            .set_message_body(opt_str(f, "message_body").map(str::to_owned))
                            .set_status_code(opt_text(f, "status_code"))
                            .build(),
                    );
                }
                "redirect" => {
                    let r = block(a, "redirect").ok_or_else(|| {
                        AwsError::invalid(format!(
                            "{key}: a \"redirect\" action needs a redirect block"
                        ))
                    })?;
                    let text = |k: &str| opt_text(r, k);
                    b = b.redirect_config(
                        RedirectActionConfig::builder()
                            .set_host(text("host"))
                            .set_path(text("path"))
                            .set_port(text("port"))
                            .set_protocol(text("protocol"))
                            .set_query(text("query"))
                            .set_status_code(
                                text("status_code")
                                    .map(|c| RedirectActionStatusCodeEnum::from(c.as_str())),
                            )
                            .build(),
                    );
                }
                other => {
                    return Err(AwsError::invalid(format!(
                        "{key}: action type {other:?} is not supported; use one of: {}",
                        ACTION_TYPES.join(", ")
                    )));
                }
            }
            Ok(b.build())
        })
        .collect()
}

/// AWS's actions in the shape of the recorded blocks (see `narrow_blocks`).
pub(crate) fn actions_value(prior: &[Value], actual: &[Action]) -> Value {
    let mut sorted: Vec<&Action> = actual.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    let actual: Vec<Value> = sorted.into_iter().map(action_value).collect();
    numbers_like(&Value::List(prior.to_vec()), narrow_blocks(prior, actual))
}

fn action_value(a: &Action) -> Value {
    // A forward to one target group comes back both as TargetGroupArn and
    // as a ForwardConfig; either will do.
    let tg = a.target_group_arn().or_else(|| {
        let groups = a.forward_config()?.target_groups();
        match groups {
            [one] => one.target_group_arn(),
            _ => None,
        }
    });
    let fixed: Vec<Value> = a
        .fixed_response_config()
        .map(|f| {
            set_only([
                ("content_type", os(f.content_type())),
                ("message_body", os(f.message_body())),
                ("status_code", os(f.status_code())),
            ])
        })
        .into_iter()
        .collect();
    let redirect: Vec<Value> = a
        .redirect_config()
        .map(|r| {
            set_only([
                ("host", os(r.host())),
                ("path", os(r.path())),
                ("port", os(r.port())),
                ("protocol", os(r.protocol())),
                ("query", os(r.query())),
                ("status_code", os(r.status_code().map(|c| c.as_str()))),
            ])
        })
        .into_iter()
        .collect();
    set_only([
        ("type", s(a.r#type().map(|t| t.as_str()).unwrap_or(""))),
        ("target_group_arn", os(tg)),
        ("fixed_response", Value::List(fixed)),
        // Only a redirect has one (so an imported action holds no more).
        (
            "redirect",
            if redirect.is_empty() {
                Value::Null
            } else {
                Value::List(redirect)
            },
        ),
    ])
}

/// An object of the pairs whose value is not null: what a configuration
/// that wrote exactly this would hold (an imported object then matches it).
fn set_only<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    obj(pairs.into_iter().filter(|(_, v)| !v.is_null()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        assert_eq!(
            arn_resource("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/0a"),
            "targetgroup/web/0a"
        );
        assert_eq!(arn_resource("garbage"), "");
    }

    #[test]
    fn actions_round_trip_in_the_recorded_shape() {
        let cfg = obj([(
            "default_action",
            Value::List(vec![obj([
                ("type", s("fixed-response")),
                (
                    "fixed_response",
                    Value::List(vec![obj([
                        ("content_type", s("text/plain")),
                        ("status_code", Value::Number(404.0)),
                    ])]),
                ),
            ])]),
        )]);
        let sent = actions(&cfg, "default_action").unwrap();
        assert_eq!(
            sent[0]
                .fixed_response_config()
                .and_then(|f| f.status_code()),
            Some("404")
        );
        let back = actions_value(blocks(&cfg, "default_action"), &sent);
        assert_eq!(&back, cfg.get("default_action").unwrap());
    }

    #[test]
    fn unsupported_action_types_are_named() {
        let cfg = obj([(
            "action",
            Value::List(vec![obj([("type", s("authenticate-oidc"))])]),
        )]);
        let errs = validate_actions(&cfg, "action");
        assert!(
            errs[0].1.contains("\"authenticate-oidc\" is not supported"),
            "{errs:?}"
        );
        assert!(actions(&cfg, "action").is_err());
        let bare = obj([("action", Value::List(vec![obj([("type", s("redirect"))])]))]);
        let errs = validate_actions(&bare, "action");
        assert!(errs[0].1.contains("needs a redirect"), "{errs:?}");
    }

    #[test]
    fn redirects_round_trip_in_the_recorded_shape() {
        let cfg = obj([(
            "default_action",
            Value::List(vec![obj([
                ("type", s("redirect")),
                ("target_group_arn", Value::Null),
                ("fixed_response", Value::List(vec![])),
                (
                    "redirect",
                    Value::List(vec![obj([
                        ("host", Value::Null),
                        ("path", Value::Null),
                        ("port", Value::Number(443.0)),
                        ("protocol", s("HTTPS")),
                        ("query", Value::Null),
                        ("status_code", s("HTTP_301")),
                    ])]),
                ),
            ])]),
        )]);
        let sent = actions(&cfg, "default_action").unwrap();
        let r = sent[0].redirect_config().unwrap();
        assert_eq!(r.port(), Some("443"));
        assert_eq!(r.status_code().map(|c| c.as_str()), Some("HTTP_301"));
        assert_eq!(r.host(), None);
        // AWS answers its defaults for what was left out.
        let answered = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .host("#{host}")
                    .path("/#{path}")
                    .port("443")
                    .protocol("HTTPS")
                    .query("#{query}")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build();
        let back = actions_value(blocks(&cfg, "default_action"), &[answered]);
        assert_eq!(&back, cfg.get("default_action").unwrap());
    }
}
