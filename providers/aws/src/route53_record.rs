//! `aws_route53_record`: one record set of a hosted zone: `ttl` and
//! `records`, or an `alias` (to a load balancer, a CloudFront
//! distribution...). Names are compared as Terraform compares them: lower
//! case, without the trailing dot (so `resource_record_name` from an
//! `aws_acm_certificate`'s `domain_validation_options` works as is), and a
//! name not ending in the zone's name is relative to it. The zone and the
//! name replace it; the type, the values, the alias, the set identifier and
//! the health check change in place (one change batch deleting the old
//! record set and creating the new one, as Terraform does). `id` is
//! Terraform's `ZONEID_NAME_TYPE[_SETID]`; import takes that id. TXT values
//! are quoted (and split at 255 characters) on the way in and unquoted on
//! the way out, as Terraform does.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, ChangeAction, ResourceRecord, ResourceRecordSet, RrType,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    block, blocks, n, obj, opt_bool, opt_i64, opt_str, or_default, req_str, s, set_like, str_list,
    with, with_all,
};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::route53::{
    RECORD_TYPES, change, clean_zone_id, find_record, normalize, one_change, parse_record_id,
    record_fqdn, record_id,
};

pub struct Route53Record {
    shared: Arc<Shared>,
    schema: Schema,
}

/// A TXT/SPF value as Route 53 wants it: quoted, in strings of at most 255
/// characters (a value already quoted is sent as written).
fn quote_txt(v: &str) -> String {
    if v.starts_with('"') && v.ends_with('"') && v.len() > 1 {
        return v.to_owned();
    }
    let chars: Vec<char> = v.chars().collect();
    let chunks: Vec<String> = if chars.is_empty() {
        vec![String::new()]
    } else {
        chars.chunks(255).map(|c| c.iter().collect()).collect()
    };
    chunks
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A TXT/SPF value as Terraform shows it: the quotes and the splits undone.
fn unquote_txt(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) else {
        return v.to_owned();
    };
    inner.replace("\" \"", "").replace("\\\"", "\"")
}

fn is_txt(kind: &str) -> bool {
    kind == "TXT" || kind == "SPF"
}

impl Route53Record {
    pub fn new(shared: Arc<Shared>) -> Route53Record {
        let alias = Schema::new()
            .attr("name", Attribute::required())
            .attr("zone_id", Attribute::required())
            .attr("evaluate_target_health", Attribute::required());
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("zone_id", Attribute::required().force_new())
            .attr(
                "name",
                Attribute::required().force_new().describe(
                    "full or relative to the zone; compared in lower case without a trailing dot",
                ),
            )
            .attr("type", Attribute::required())
            .attr("ttl", Attribute::optional())
            .attr("records", Attribute::optional())
            .attr("set_identifier", Attribute::optional())
            .attr("health_check_id", Attribute::optional())
            .attr(
                "allow_overwrite",
                Attribute::optional_computed()
                    .describe("create with UPSERT, taking over an existing record set"),
            )
            .attr("fqdn", Attribute::computed())
            .block(
                "alias",
                NestedBlock {
                    schema: alias,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        Route53Record { shared, schema }
    }

    async fn zone_name(client: &Client, zone_id: &str) -> AwsResult<Option<String>> {
        match client
            .get_hosted_zone()
            .id(zone_id)
            .send()
            .await
            .map_err(sdk("GetHostedZone"))
        {
            Ok(o) => Ok(o.hosted_zone().map(|z| normalize(z.name()))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The full name `v` names: its recorded `fqdn`, else its name in its zone.
    async fn fqdn_of(client: &Client, v: &Value) -> AwsResult<Option<String>> {
        if let Some(f) = opt_str(v, "fqdn") {
            return Ok(Some(normalize(f)));
        }
        let zone = clean_zone_id(req_str(v, "zone_id")?);
        let name = req_str(v, "name")?;
        Ok(Self::zone_name(client, zone)
            .await?
            .map(|z| record_fqdn(name, &z)))
    }

    /// The record set `v` asks for, named `fqdn`.
    fn record_set(v: &Value, fqdn: &str) -> AwsResult<ResourceRecordSet> {
        let kind = req_str(v, "type")?;
        let mut b = ResourceRecordSet::builder()
            .name(fqdn)
            .r#type(RrType::from(kind))
            .set_set_identifier(opt_str(v, "set_identifier").map(str::to_owned))
            .set_health_check_id(opt_str(v, "health_check_id").map(str::to_owned));
        if let Some(a) = block(v, "alias") {
            b = b.alias_target(
                AliasTarget::builder()
                    .dns_name(req_str(a, "name")?)
                    .hosted_zone_id(req_str(a, "zone_id")?)
                    .evaluate_target_health(opt_bool(a, "evaluate_target_health").unwrap_or(false))
                    .build()
                    .map_err(|e| AwsError::invalid(format!("alias: {e}")))?,
            );
        } else {
            b = b.set_ttl(opt_i64(v, "ttl")?);
            for r in str_list(v, "records") {
                let value = if is_txt(kind) { quote_txt(&r) } else { r };
                b = b.resource_records(
                    ResourceRecord::builder()
                        .value(value)
                        .build()
                        .map_err(|e| AwsError::invalid(format!("records: {e}")))?,
                );
            }
        }
        b.build()
            .map_err(|e| AwsError::invalid(format!("a record set: {e}")))
    }

    fn value(base: &Value, zone_id: &str, r: &ResourceRecordSet) -> Value {
        let fqdn = normalize(r.name());
        let kind = r.r#type().as_str();
        let records: Vec<String> = r
            .resource_records()
            .iter()
            .map(|x| {
                if is_txt(kind) {
                    unquote_txt(x.value())
                } else {
                    x.value().to_owned()
                }
            })
            .collect();
        let alias: Vec<Value> = r
            .alias_target()
            .map(|a| {
                obj([
                    ("name", s(normalize(a.dns_name()))),
                    ("zone_id", s(a.hosted_zone_id())),
                    (
                        "evaluate_target_health",
                        Value::Bool(a.evaluate_target_health()),
                    ),
                ])
            })
            .into_iter()
            .collect();
        let name = match opt_str(base, "name").map(normalize) {
            Some(n) if n == fqdn || fqdn.starts_with(&format!("{n}.")) => s(n),
            _ => s(&fqdn),
        };
        with_all(
            base,
            [
                ("id", s(record_id(zone_id, &fqdn, kind, r.set_identifier()))),
                ("zone_id", s(zone_id)),
                ("name", name),
                ("fqdn", s(&fqdn)),
                ("type", s(kind)),
                ("ttl", r.ttl().map(|t| n(t as f64)).unwrap_or(Value::Null)),
                (
                    "records",
                    if r.alias_target().is_some() && records.is_empty() {
                        Value::Null
                    } else {
                        set_like(base.get("records"), records)
                    },
                ),
                ("alias", Value::List(alias)),
                (
                    "set_identifier",
                    r.set_identifier()
                        .filter(|x| !x.is_empty())
                        .map(s)
                        .unwrap_or(Value::Null),
                ),
                (
                    "health_check_id",
                    r.health_check_id()
                        .filter(|x| !x.is_empty())
                        .map(s)
                        .unwrap_or(Value::Null),
                ),
                (
                    "allow_overwrite",
                    Value::Bool(opt_bool(base, "allow_overwrite").unwrap_or(false)),
                ),
            ],
        )
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let client = self.shared.route53().await;
        let zone_id = clean_zone_id(req_str(base, "zone_id")?).to_owned();
        let Some(fqdn) = Self::fqdn_of(&client, base).await? else {
            return Ok(None);
        };
        let kind = req_str(base, "type")?;
        let set = opt_str(base, "set_identifier");
        let found = find_record(&client, &zone_id, &fqdn, kind, set).await?;
        Ok(found.map(|r| Self::value(base, &zone_id, &r)))
    }
}

#[async_trait]
impl ResourceType for Route53Record {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let set = |k: &str| config.get(k).is_some_and(|x| !x.is_null());
        let mut errs = Vec::new();
        let alias = !blocks(config, "alias").is_empty();
        if alias && (set("ttl") || set("records")) {
            errs.push((
                "alias".into(),
                "an alias record takes no ttl or records".into(),
            ));
        }
        if !alias && !set("records") {
            errs.push((
                "records".into(),
                "is required unless an alias { ... } block is given".into(),
            ));
        }
        if !alias && set("records") && !set("ttl") {
            errs.push(("ttl".into(), "is required with records".into()));
        }
        if let Some(t) = opt_str(config, "type")
            && !RECORD_TYPES.contains(&t)
        {
            errs.push((
                "type".into(),
                format!(
                    "{t:?} is not a record type; use one of {}",
                    RECORD_TYPES.join(", ")
                ),
            ));
        }
        errs
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let mut proposed = match opt_str(&proposed, "name") {
            Some(n) => with(&proposed, "name", s(normalize(n))),
            None => proposed,
        };
        if let Some(z) = opt_str(&proposed, "zone_id") {
            let z = clean_zone_id(z).to_owned();
            proposed = with(&proposed, "zone_id", s(z));
        }
        let alias: Vec<Value> = blocks(&proposed, "alias")
            .iter()
            .map(|a| match opt_str(a, "name") {
                Some(n) => with(a, "name", s(normalize(n))),
                None => a.clone(),
            })
            .collect();
        let proposed = with(&proposed, "alias", Value::List(alias));
        Ok(or_default(proposed, "allow_overwrite", Value::Bool(false)))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(prior).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let client = self.shared.route53().await;
        let zone_id = clean_zone_id(req_str(planned, "zone_id")?).to_owned();
        let zone = Self::zone_name(&client, &zone_id).await?.ok_or_else(|| {
            ProviderError::new(format!("NoSuchHostedZone: no hosted zone {zone_id}"))
        })?;
        let fqdn = record_fqdn(req_str(planned, "name")?, &zone);
        let set = Self::record_set(planned, &fqdn)?;
        let action = if opt_bool(planned, "allow_overwrite") == Some(true) {
            ChangeAction::Upsert
        } else {
            ChangeAction::Create
        };
        change(&client, &zone_id, vec![one_change(action, set)?])
            .await
            .map_err(|e| match e.code() {
                Some("InvalidChangeBatch") if e.to_string().contains("already exists") => {
                    AwsError::invalid(format!(
                        "{e}: the record set exists; import it, or set allow_overwrite = true"
                    ))
                }
                _ => e,
            })?;
        let kind = req_str(planned, "type")?;
        let id = record_id(&zone_id, &fqdn, kind, opt_str(planned, "set_identifier"));
        let made = with_all(planned, [("id", s(&id)), ("fqdn", s(&fqdn))]);
        match self.observe(&made).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("record {id} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// A record set is its zone, name, type and set identifier.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let base = match planned.get("fqdn") {
            Some(f) if f.is_unknown() => with(planned, "fqdn", Value::Null),
            _ => planned.clone(),
        };
        Ok(self.observe(&base).await?)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let client = self.shared.route53().await;
        let zone_id = clean_zone_id(req_str(prior, "zone_id")?).to_owned();
        let Some(fqdn) = Self::fqdn_of(&client, prior).await? else {
            return Err(ProviderError::new(format!(
                "NoSuchHostedZone: the zone {zone_id} of this record is gone"
            )));
        };
        // The record set as Route 53 holds it now goes, the planned one comes,
        // in one batch.
        let current = find_record(
            &client,
            &zone_id,
            &fqdn,
            req_str(prior, "type")?,
            opt_str(prior, "set_identifier"),
        )
        .await?;
        // Same name, type and set identifier: one UPSERT does both (and
        // moto takes a CREATE it journaled before for a duplicate).
        let next = Self::record_set(planned, &fqdn)?;
        let same_key = current.as_ref().is_some_and(|c| {
            c.r#type() == next.r#type() && c.set_identifier() == next.set_identifier()
        });
        let mut changes = Vec::new();
        match current {
            Some(_) if same_key => changes.push(one_change(ChangeAction::Upsert, next)?),
            Some(c) => {
                changes.push(one_change(ChangeAction::Delete, c)?);
                changes.push(one_change(ChangeAction::Create, next)?);
            }
            None => changes.push(one_change(ChangeAction::Create, next)?),
        }
        change(&client, &zone_id, changes).await?;
        let kind = req_str(planned, "type")?;
        let id = record_id(&zone_id, &fqdn, kind, opt_str(planned, "set_identifier"));
        let next = with_all(planned, [("id", s(&id)), ("fqdn", s(&fqdn))]);
        Ok(self.observe(&next).await?.ok_or_else(|| {
            ProviderError::new(format!("record {id} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let client = self.shared.route53().await;
        let zone_id = clean_zone_id(req_str(prior, "zone_id")?).to_owned();
        let Some(fqdn) = Self::fqdn_of(&client, prior).await? else {
            return Ok(());
        };
        let Some(current) = find_record(
            &client,
            &zone_id,
            &fqdn,
            req_str(prior, "type")?,
            opt_str(prior, "set_identifier"),
        )
        .await?
        else {
            return Ok(());
        };
        match change(
            &client,
            &zone_id,
            vec![one_change(ChangeAction::Delete, current)?],
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e)
                if e.code() == Some("InvalidChangeBatch")
                    && e.to_string().contains("not found") =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (zone, name, kind, set) = parse_record_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "import id must be ZONEID_NAME_TYPE or ZONEID_NAME_TYPE_SETIDENTIFIER \
                 (Z123_www.example.com_A), got {id:?}"
            ))
        })?;
        let base = obj([
            ("zone_id", s(&zone)),
            ("name", s(&name)),
            ("fqdn", s(&name)),
            ("type", s(&kind)),
            ("set_identifier", set.map(s).unwrap_or(Value::Null)),
            ("allow_overwrite", Value::Bool(false)),
        ]);
        self.observe(&base)
            .await?
            .ok_or_else(|| ProviderError::new(format!("no record set {id:?} to import")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_values_are_quoted_and_split_as_terraform_does() {
        assert_eq!(quote_txt("v=spf1 -all"), "\"v=spf1 -all\"");
        assert_eq!(quote_txt("\"as written\""), "\"as written\"");
        let long = "x".repeat(300);
        let sent = quote_txt(&long);
        assert_eq!(
            sent,
            format!("\"{}\" \"{}\"", "x".repeat(255), "x".repeat(45))
        );
        assert_eq!(unquote_txt(&sent), long);
        assert_eq!(unquote_txt("\"v=spf1 -all\""), "v=spf1 -all");
    }
}
