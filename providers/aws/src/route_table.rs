//! `aws_route_table`: a route table of a VPC with inline `route` blocks
//! (`cidr_block`, `ipv6_cidr_block` or `destination_prefix_list_id`, and one
//! target: `gateway_id`, `nat_gateway_id`, ...). The VPC replaces it; routes
//! and tags change in place: routes gone are deleted, new ones created, a new
//! target replaces the route. As in Terraform, a table without `route` blocks
//! leaves its routes alone (so `aws_route` resources can manage them); with
//! them, it owns every route but the VPC's local one and propagated ones. A
//! route changed or added outside dumcel is drift, put back by apply.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{ResourceType as Ec2ResourceType, Route, RouteTable as Rtb};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Map, NestedBlock, Schema, Value};

use crate::attrs::{blocks, obj, opt_str, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{
    arn, check_ipv4_cidr, found, imported_tags, retag, retry_while, tag_spec, tags_all,
};
use crate::ec2_batch::{READ_BATCH, describe_by_ids, read_by_ids};
use crate::error::{AwsError, AwsResult, sdk};
use crate::route::{
    Dest, TARGETS, count_set, create_route, delete_route, is_managed, replace_route, target_of,
    targets_of,
};
use crate::{tags, wait};

pub struct RouteTable {
    shared: Arc<Shared>,
    schema: Schema,
}

const DESTS: &[&str] = &[
    "cidr_block",
    "ipv6_cidr_block",
    "destination_prefix_list_id",
];

/// A `route` block's destination.
fn block_dest(b: &Value) -> AwsResult<Dest> {
    if let Some(d) = opt_str(b, "cidr_block") {
        Ok(Dest::Ipv4(d.to_owned()))
    } else if let Some(d) = opt_str(b, "ipv6_cidr_block") {
        Ok(Dest::Ipv6(d.to_owned()))
    } else if let Some(d) = opt_str(b, "destination_prefix_list_id") {
        Ok(Dest::PrefixList(d.to_owned()))
    } else {
        Err(AwsError::invalid(format!(
            "a route block needs one destination ({})",
            DESTS.join(", ")
        )))
    }
}

/// AWS's route as a `route` block: the keys it sets, only.
fn route_block(r: &Route) -> Option<(Dest, Map)> {
    let dest = Dest::of_route(r)?;
    let key = match dest {
        Dest::Ipv4(_) => "cidr_block",
        Dest::Ipv6(_) => "ipv6_cidr_block",
        Dest::PrefixList(_) => "destination_prefix_list_id",
    };
    let mut m = Map::new();
    m.insert(key.to_owned(), s(dest.as_str()));
    for (k, v) in targets_of(r) {
        m.insert(k.to_owned(), s(v));
    }
    Some((dest, m))
}

/// AWS's routes in the shape of the recorded blocks: each recorded block
/// whose destination still exists, narrowed to the keys it has (so AWS's
/// answer for a target it never named shows as that key's change), then the
/// routes no block names, whole. No recorded blocks: the routes are not
/// managed here, and none is reported.
fn routes_value(prior: &[Value], routes: &[Route]) -> Value {
    if prior.is_empty() {
        return Value::List(Vec::new());
    }
    let mut left: Vec<(Dest, Map)> = routes
        .iter()
        .filter(|r| is_managed(r))
        .filter_map(route_block)
        .collect();
    let mut out = Vec::new();
    for p in prior {
        let (Ok(dest), Some(pm)) = (block_dest(p), p.as_map()) else {
            continue;
        };
        let Some(i) = left.iter().position(|(d, _)| *d == dest) else {
            continue;
        };
        let (_, actual) = left.remove(i);
        let narrowed: Map = pm
            .iter()
            .map(|(k, pv)| {
                let v = if pv.is_null() {
                    Value::Null
                } else {
                    actual.get(k).cloned().unwrap_or(Value::Null)
                };
                (k.clone(), v)
            })
            .collect();
        out.push(Value::Map(narrowed));
    }
    out.extend(left.into_iter().map(|(_, m)| Value::Map(m)));
    Value::List(out)
}

impl RouteTable {
    pub fn new(shared: Arc<Shared>) -> RouteTable {
        let mut route = Schema::new();
        for k in DESTS.iter().chain(TARGETS) {
            route = route.attr(k, Attribute::optional());
        }
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("vpc_id", Attribute::required().force_new())
            .attr("arn", Attribute::computed())
            .attr("owner_id", Attribute::computed())
            .block(
                "route",
                NestedBlock {
                    schema: route,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        RouteTable {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<Rtb>> {
        let out = found(
            ec2.describe_route_tables()
                .route_table_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeRouteTables")),
        )?;
        Ok(out.and_then(|o| {
            o.route_tables()
                .iter()
                .find(|t| t.route_table_id() == Some(id))
                .cloned()
        }))
    }

    fn value(ec2: &Client, base: &Value, t: &Rtb) -> Value {
        let id = t.route_table_id().unwrap_or_default();
        let owner = t.owner_id().unwrap_or_default();
        with_all(
            base,
            [
                ("id", s(id)),
                ("vpc_id", s(t.vpc_id().unwrap_or_default())),
                ("arn", arn(ec2, owner, &format!("route-table/{id}"))),
                ("owner_id", s(owner)),
                ("route", routes_value(blocks(base, "route"), t.routes())),
                tags_all(t.tags()),
            ],
        )
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(self
            .describe(&ec2, id)
            .await?
            .map(|t| Self::value(&ec2, base, &t)))
    }

    /// Makes the table's routes what the planned blocks say, against what
    /// AWS holds now; nothing when there are no blocks (not managed here).
    async fn sync_routes(&self, ec2: &Client, id: &str, planned: &Value) -> AwsResult<()> {
        let want = blocks(planned, "route");
        if want.is_empty() {
            return Ok(());
        }
        let mut wanted: Vec<(Dest, (&'static str, String))> = Vec::new();
        for b in want {
            wanted.push((block_dest(b)?, target_of(b)?));
        }
        let have: Vec<Route> = self
            .describe(ec2, id)
            .await?
            .map(|t| {
                t.routes()
                    .iter()
                    .filter(|r| is_managed(r))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for r in &have {
            if let Some(dest) = Dest::of_route(r)
                && !wanted.iter().any(|(d, _)| *d == dest)
            {
                delete_route(ec2, id, &dest).await?;
            }
        }
        for (dest, (key, target)) in &wanted {
            let current = have
                .iter()
                .find(|r| Dest::of_route(r).as_ref() == Some(dest));
            match current {
                None => create_route(ec2, id, dest, (key, target)).await?,
                Some(r) if !targets_of(r).iter().any(|(k, v)| k == key && v == target) => {
                    replace_route(ec2, id, dest, (key, target)).await?
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceType for RouteTable {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for b in blocks(config, "route") {
            if let Some((_, message)) = check_ipv4_cidr(b, "cidr_block") {
                out.push(("route".into(), format!("cidr_block {message}")));
            }
            if count_set(b, DESTS) != 1 {
                out.push((
                    "route".into(),
                    format!("blocks take exactly one destination ({})", DESTS.join(", ")),
                ));
            }
            if count_set(b, TARGETS) != 1 {
                out.push((
                    "route".into(),
                    format!("blocks take exactly one target ({})", TARGETS.join(", ")),
                ));
            }
        }
        out.dedup();
        out
    }

    /// Without `route` blocks the routes are not managed: what is recorded
    /// (an imported table's routes) is kept, as Terraform keeps the computed
    /// `route` set, rather than planned away. A replacement starts with none.
    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let same_object = proposed
            .get("id")
            .is_some_and(|v| !v.is_unknown() && !v.is_null());
        let recorded = prior
            .filter(|_| same_object)
            .and_then(|p| p.get("route"))
            .filter(|r| r.as_list().is_some_and(|l| !l.is_empty()));
        let unmanaged = proposed
            .get("route")
            .is_none_or(|r| r.as_list().is_some_and(<[Value]>::is_empty));
        let proposed = match recorded {
            Some(r) if unmanaged => with_all(&proposed, [("route", r.clone())]),
            _ => proposed,
        };
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
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
                    ec2.describe_route_tables(),
                    "route-table-id",
                    ids,
                    route_tables,
                    route_table_id,
                    "DescribeRouteTables"
                )
            },
            |prior, t| Self::value(ec2, prior, t),
        )
        .await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let vpc = req_str(planned, "vpc_id")?;
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = ec2
            .create_route_table()
            .vpc_id(vpc)
            .set_tag_specifications(tag_spec(Ec2ResourceType::RouteTable, all).map(|t| vec![t]))
            .send()
            .await
            .map_err(sdk("CreateRouteTable"))?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| {
                AwsError::unexpected("CreateRouteTable", "no route table id in the answer")
            })?
            .to_owned();
        // Recorded with no routes if a route fails: the next plan adds them.
        let made = with_all(
            planned,
            [("id", s(&id)), ("route", Value::List(Vec::new()))],
        );
        let finish = async {
            wait::until(
                &format!("route table {id} to be visible"),
                wait::limit(300),
                Duration::from_secs(2),
                || {
                    let ec2 = ec2.clone();
                    let id = id.clone();
                    async move { Ok(self.describe(&ec2, &id).await?.map(|_| ())) }
                },
            )
            .await?;
            self.sync_routes(&ec2, &id, planned).await?;
            self.observe(planned, &id).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("route table {id} vanished after it was created"),
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
        let ec2 = self.shared.ec2().await;
        self.sync_routes(&ec2, id, planned).await?;
        retag(&ec2, id, prior, planned).await?;
        self.observe(planned, id).await?.ok_or_else(|| {
            ProviderError::new(format!("route table {id} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        // Associations being removed in the same apply hold it for a moment.
        let deleted = retry_while(
            &format!("route table {id} to be released by its associations"),
            300,
            &[],
            || {
                let ec2 = ec2.clone();
                async move {
                    found(
                        ec2.delete_route_table()
                            .route_table_id(id)
                            .send()
                            .await
                            .map_err(sdk("DeleteRouteTable")),
                    )
                }
            },
        )
        .await?;
        if deleted.is_some() {
            wait::until(
                &format!("route table {id} to be deleted"),
                wait::limit(300),
                Duration::from_secs(2),
                || {
                    let ec2 = ec2.clone();
                    async move { Ok(self.describe(&ec2, id).await?.is_none().then_some(())) }
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Imported routes are every route but the local and propagated ones,
    /// each with the keys AWS sets.
    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let t = self.describe(&ec2, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "InvalidRouteTableID.NotFound: no route table {id:?} to import"
            ))
        })?;
        let routes: Vec<Value> = t
            .routes()
            .iter()
            .filter(|r| is_managed(r))
            .filter_map(route_block)
            .map(|(_, m)| Value::Map(m))
            .collect();
        Ok(obj([
            ("id", s(id)),
            ("route", Value::List(routes)),
            imported_tags(&self.shared.default_tags(), t.tags()),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(cidr: &str, gw: Option<&str>, nat: Option<&str>) -> Route {
        Route::builder()
            .destination_cidr_block(cidr)
            .set_gateway_id(gw.map(str::to_owned))
            .set_nat_gateway_id(nat.map(str::to_owned))
            .build()
    }

    #[test]
    fn routes_read_in_the_recorded_shape() {
        let routes = [
            route("10.0.0.0/16", Some("local"), None),
            route("0.0.0.0/0", Some("igw-1"), None),
        ];
        let prior = vec![obj([
            ("cidr_block", s("0.0.0.0/0")),
            ("gateway_id", s("igw-1")),
        ])];
        assert_eq!(routes_value(&prior, &routes), Value::List(prior.clone()));
        // Not managed without blocks.
        assert_eq!(routes_value(&[], &routes), Value::List(Vec::new()));
    }

    #[test]
    fn a_target_changed_outside_and_an_added_route_are_drift() {
        let routes = [
            route("0.0.0.0/0", None, Some("nat-1")),
            route("192.168.0.0/16", Some("igw-1"), None),
        ];
        let prior = vec![obj([
            ("cidr_block", s("0.0.0.0/0")),
            ("gateway_id", s("igw-1")),
        ])];
        let got = routes_value(&prior, &routes);
        let want = Value::List(vec![
            obj([("cidr_block", s("0.0.0.0/0")), ("gateway_id", Value::Null)]),
            obj([
                ("cidr_block", s("192.168.0.0/16")),
                ("gateway_id", s("igw-1")),
            ]),
        ]);
        assert_eq!(got, want);
    }
}
