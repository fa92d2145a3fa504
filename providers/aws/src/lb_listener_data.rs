//! `data "aws_lb_listener"` (alias `aws_alb_listener` in Terraform): one
//! listener, by `arn`, or by `load_balancer_arn` and `port` (a load balancer
//! has one listener per port). Its attributes are those of the
//! `aws_lb_listener` resource: `protocol`, `ssl_policy`, `certificate_arn`
//! (the default certificate), `alpn_policy`, `default_action` and `tags`;
//! `id` is the ARN. A stack that adds its own rules to a shared listener
//! finds it this way.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Action, Listener};
use dumcel_engine::provider::{DataSource, ProviderError, ProviderResult};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, opt_i32, opt_str, os, s, string_map, with_all};
use crate::config::Shared;
use crate::elbv2::read_tags;
use crate::error::{AwsResult, sdk};

pub struct LbListenerData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl LbListenerData {
    pub fn new(shared: Arc<Shared>) -> LbListenerData {
        LbListenerData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("arn", Attribute::optional_computed())
                .attr("load_balancer_arn", Attribute::optional_computed())
                .attr("port", Attribute::optional_computed())
                .attr("tags", Attribute::optional_computed())
                .attr("protocol", Attribute::computed())
                .attr("ssl_policy", Attribute::computed())
                .attr("certificate_arn", Attribute::computed())
                .attr("alpn_policy", Attribute::computed())
                .attr("default_action", Attribute::computed()),
        }
    }

    async fn by_arn(&self, arn: &str) -> AwsResult<Option<Listener>> {
        match self
            .shared
            .elbv2()
            .await
            .describe_listeners()
            .listener_arns(arn)
            .send()
            .await
            .map_err(sdk("DescribeListeners"))
        {
            Ok(o) => Ok(o
                .listeners()
                .iter()
                .find(|l| l.listener_arn() == Some(arn))
                .cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn by_port(&self, lb: &str, port: i32) -> AwsResult<Option<Listener>> {
        let client = self.shared.elbv2().await;
        let mut marker: Option<String> = None;
        loop {
            let out = match client
                .describe_listeners()
                .load_balancer_arn(lb)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(sdk("DescribeListeners"))
            {
                Ok(o) => o,
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(l) = out.listeners().iter().find(|l| l.port() == Some(port)) {
                return Ok(Some(l.clone()));
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }
}

/// One `default_action` as Terraform's data source reports it: every
/// sub-block present, empty when it does not apply.
fn action_value(a: &Action) -> Value {
    let tg = a
        .target_group_arn()
        .or_else(|| match a.forward_config()?.target_groups() {
            [one] => one.target_group_arn(),
            _ => None,
        });
    let fixed: Vec<Value> = a
        .fixed_response_config()
        .map(|f| {
            obj([
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
            obj([
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
    obj([
        ("type", os(a.r#type().map(|t| t.as_str()))),
        ("order", a.order().map(n).unwrap_or(Value::Null)),
        ("target_group_arn", os(tg)),
        ("fixed_response", Value::List(fixed)),
        ("redirect", Value::List(redirect)),
    ])
}

#[async_trait]
impl DataSource for LbListenerData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let listener = match (
            opt_str(config, "arn"),
            opt_str(config, "load_balancer_arn"),
            opt_i32(config, "port")?,
        ) {
            (Some(arn), _, _) => self.by_arn(arn).await?.ok_or_else(|| {
                ProviderError::new(format!("ListenerNotFound: no listener {arn:?}"))
            })?,
            (None, Some(lb), Some(port)) => self.by_port(lb, port).await?.ok_or_else(|| {
                ProviderError::new(format!(
                    "ListenerNotFound: load balancer {lb:?} has no listener on port {port}"
                ))
            })?,
            _ => {
                return Err(ProviderError::new(
                    "data \"aws_lb_listener\" needs arn, or load_balancer_arn and port",
                ));
            }
        };
        let arn = listener.listener_arn().unwrap_or_default().to_owned();
        let tags = read_tags(&self.shared.elbv2().await, &arn)
            .await?
            .ok_or_else(|| {
                ProviderError::new(format!("ListenerNotFound: listener {arn:?} vanished"))
            })?;
        // The default certificate; ELBv2 lists only that one on the listener.
        let cert = listener
            .certificates()
            .iter()
            .find(|c| c.is_default() != Some(false))
            .and_then(|c| c.certificate_arn());
        let mut actions: Vec<&Action> = listener.default_actions().iter().collect();
        actions.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
        Ok(with_all(
            config,
            [
                ("id", s(&arn)),
                ("arn", s(&arn)),
                ("load_balancer_arn", os(listener.load_balancer_arn())),
                ("port", listener.port().map(n).unwrap_or(Value::Null)),
                ("protocol", os(listener.protocol().map(|p| p.as_str()))),
                ("ssl_policy", os(listener.ssl_policy())),
                ("certificate_arn", os(cert)),
                (
                    "alpn_policy",
                    os(listener.alpn_policy().first().map(String::as_str)),
                ),
                (
                    "default_action",
                    Value::List(actions.into_iter().map(action_value).collect()),
                ),
                ("tags", string_map(tags)),
            ],
        ))
    }
}
