//! `aws_lb_listener`: a port on a load balancer and what it does with the
//! requests no rule takes (`default_action` blocks: `forward` to a target
//! group, a `fixed-response`, or a `redirect`, such as HTTP to HTTPS). An
//! HTTPS (or TLS) listener has a default certificate (`certificate_arn`)
//! and an `ssl_policy` (AWS's default, `ELBSecurityPolicy-2016-08`, when
//! left out); more certificates are `aws_lb_listener_certificate`s. Its id
//! is the ARN; import takes the ARN. Port, protocol, certificate, policy
//! and default actions change in place; the load balancer replaces it. Its
//! rules go with it when it is deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Certificate, Listener, ProtocolEnum};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{blocks, n, obj, opt_i32, opt_str, os, req_str, s, string_map, with, with_all};
use crate::config::Shared;
use crate::elbv2::{
    action_block, actions, actions_value, elb_tags, read_tags, retag, validate_actions,
};
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::tags;

/// The policy AWS gives an HTTPS or TLS listener created without one.
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-2016-08";

/// Whether a protocol takes a certificate and an SSL policy.
fn secure(protocol: Option<&str>) -> bool {
    matches!(protocol, Some("HTTPS" | "TLS"))
}

/// The `Certificates` of a request: the default certificate, if any.
fn certificates(v: &Value) -> Option<Vec<Certificate>> {
    opt_str(v, "certificate_arn").map(|c| vec![Certificate::builder().certificate_arn(c).build()])
}

pub struct LbListener {
    shared: Arc<Shared>,
    schema: Schema,
}

impl LbListener {
    pub fn new(shared: Arc<Shared>) -> LbListener {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("load_balancer_arn", Attribute::required().force_new())
            .attr("port", Attribute::optional())
            .attr(
                "protocol",
                Attribute::optional_computed().describe("HTTP or HTTPS (ALB), TCP, UDP, TLS (NLB)"),
            )
            .attr(
                "certificate_arn",
                Attribute::optional()
                    .describe("the default certificate of an HTTPS or TLS listener"),
            )
            .attr(
                "ssl_policy",
                Attribute::optional_computed()
                    .describe("HTTPS and TLS only; default ELBSecurityPolicy-2016-08"),
            )
            .attr("arn", Attribute::computed())
            .block("default_action", action_block());
        LbListener {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn observe(&self, base: &Value, arn: &str) -> AwsResult<Option<Value>> {
        let client = self.shared.elbv2().await;
        let listener = match client
            .describe_listeners()
            .listener_arns(arn)
            .send()
            .await
            .map_err(sdk("DescribeListeners"))
        {
            Ok(o) => match o.listeners().first() {
                Some(l) => l.clone(),
                None => return Ok(None),
            },
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(tags) = read_tags(&client, arn).await? else {
            return Ok(None);
        };
        Ok(Some(Self::value(base, &listener, tags)))
    }

    /// The ARN of the listener on `lb` at `port`; `None` when there is none
    /// (or no such load balancer). A load balancer has one listener per
    /// port; a Gateway Load Balancer's one listener has no port.
    async fn arn_by_port(&self, lb: &str, port: Option<i32>) -> AwsResult<Option<String>> {
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
            if let Some(l) = out.listeners().iter().find(|l| l.port() == port) {
                return Ok(l.listener_arn().map(str::to_owned));
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    fn value(base: &Value, l: &Listener, tags: BTreeMap<String, String>) -> Value {
        let arn = l.listener_arn().unwrap_or_default();
        let protocol = l.protocol().map(|p| p.as_str());
        // The default certificate comes first (moto lists the others too).
        let cert = l
            .certificates()
            .iter()
            .find(|c| c.is_default() == Some(true))
            .or_else(|| l.certificates().first())
            .and_then(|c| c.certificate_arn());
        // Only a secure listener has a policy (moto answers one for any).
        let policy = if secure(protocol) {
            os(l.ssl_policy())
        } else {
            Value::Null
        };
        with_all(
            base,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("load_balancer_arn", os(l.load_balancer_arn())),
                ("port", l.port().map(n).unwrap_or(Value::Null)),
                ("protocol", os(protocol)),
                ("certificate_arn", os(cert)),
                ("ssl_policy", policy),
                (
                    "default_action",
                    actions_value(blocks(base, "default_action"), l.default_actions()),
                ),
                ("tags_all", string_map(tags)),
            ],
        )
    }
}

#[async_trait]
impl ResourceType for LbListener {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        validate_actions(config, "default_action")
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let protocol = proposed
            .get("protocol")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let policy_unset = proposed
            .get("ssl_policy")
            .is_none_or(|v| v.is_null() || v.is_unknown());
        let proposed = match protocol.as_deref() {
            Some(p) if policy_unset && secure(Some(p)) => {
                with(&proposed, "ssl_policy", s(DEFAULT_SSL_POLICY))
            }
            Some(_) if policy_unset => with(&proposed, "ssl_policy", Value::Null),
            _ => proposed,
        };
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "arn")?;
        Ok(self.observe(prior, arn).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let lb = req_str(planned, "load_balancer_arn")?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let mut req = self
            .shared
            .elbv2()
            .await
            .create_listener()
            .load_balancer_arn(lb)
            .set_port(opt_i32(planned, "port")?)
            .set_protocol(opt_str(planned, "protocol").map(ProtocolEnum::from))
            .set_ssl_policy(opt_str(planned, "ssl_policy").map(str::to_owned))
            .set_certificates(certificates(planned))
            .set_default_actions(Some(actions(planned, "default_action")?));
        if !all.is_empty() {
            req = req.set_tags(Some(elb_tags(all)));
        }
        let out = req.send().await.map_err(sdk("CreateListener"))?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or_else(|| AwsError::unexpected("CreateListener", "no listener ARN in the answer"))?
            .to_owned();
        let made = with_all(planned, [("id", s(&arn)), ("arn", s(&arn))]);
        match self.observe(planned, &arn).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("listener {arn} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// A listener is its load balancer and port (the load balancer's ARN is
    /// known before this create when the load balancer already existed).
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let lb = req_str(planned, "load_balancer_arn")?;
        let Some(arn) = self.arn_by_port(lb, opt_i32(planned, "port")?).await? else {
            return Ok(None);
        };
        Ok(self.observe(planned, &arn).await?)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.elbv2().await;
        let changed = [
            "port",
            "protocol",
            "default_action",
            "certificate_arn",
            "ssl_policy",
        ]
        .iter()
        .any(|k| prior.get(k) != planned.get(k));
        if changed {
            let cert_changed = prior.get("certificate_arn") != planned.get("certificate_arn");
            client
                .modify_listener()
                .listener_arn(arn)
                .set_port(opt_i32(planned, "port")?)
                .set_protocol(opt_str(planned, "protocol").map(ProtocolEnum::from))
                .set_ssl_policy(opt_str(planned, "ssl_policy").map(str::to_owned))
                .set_certificates(if cert_changed {
                    certificates(planned)
                } else {
                    None
                })
                .set_default_actions(Some(actions(planned, "default_action")?))
                .send()
                .await
                .map_err(sdk("ModifyListener"))?;
        }
        retag(&client, arn, prior, planned).await?;
        Ok(self.observe(planned, arn).await?.ok_or_else(|| {
            ProviderError::new(format!("listener {arn} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        deleted(
            self.shared
                .elbv2()
                .await
                .delete_listener()
                .listener_arn(arn)
                .send()
                .await
                .map_err(sdk("DeleteListener")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null)]);
        self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "ListenerNotFound: no listener {id:?} to import (give its ARN)"
            ))
        })
    }
}
