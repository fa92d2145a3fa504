//! `aws_route`: one route of a route table, and what `aws_route_table`'s
//! inline `route` blocks share with it (destinations, targets, finding a
//! route). The table and the destination replace it; a new target replaces
//! the route in place (`ReplaceRoute`). `id` is Terraform's:
//! `r-` + the table id + the CRC-32 of the destination; import takes
//! `ROUTETABLEID_DESTINATION` (`rtb-0123_10.0.0.0/16`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Route, RouteOrigin};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{check_ipv4_cidr, crc32, found, gone, text};
use crate::error::{AwsError, AwsResult, sdk};
use crate::wait;

/// Route targets, by their Terraform names (the same in `aws_route` and in
/// `aws_route_table`'s `route` blocks).
pub(crate) const TARGETS: &[&str] = &[
    "gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "transit_gateway_id",
    "vpc_peering_connection_id",
    "vpc_endpoint_id",
    "egress_only_gateway_id",
    "carrier_gateway_id",
    "local_gateway_id",
    "core_network_arn",
];

/// A route's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dest {
    Ipv4(String),
    Ipv6(String),
    PrefixList(String),
}

impl Dest {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Dest::Ipv4(d) | Dest::Ipv6(d) | Dest::PrefixList(d) => d,
        }
    }

    /// Parsed as Terraform's import does: `:` is IPv6, `.` IPv4, else a
    /// prefix list.
    pub(crate) fn parse(d: &str) -> Dest {
        if d.contains(':') {
            Dest::Ipv6(d.to_owned())
        } else if d.contains('.') {
            Dest::Ipv4(d.to_owned())
        } else {
            Dest::PrefixList(d.to_owned())
        }
    }

    pub(crate) fn of_route(r: &Route) -> Option<Dest> {
        let some = |x: Option<&str>| x.filter(|v| !v.is_empty()).map(str::to_owned);
        if let Some(d) = some(r.destination_cidr_block()) {
            Some(Dest::Ipv4(d))
        } else if let Some(d) = some(r.destination_ipv6_cidr_block()) {
            Some(Dest::Ipv6(d))
        } else {
            some(r.destination_prefix_list_id()).map(Dest::PrefixList)
        }
    }

    fn matches(&self, r: &Route) -> bool {
        Dest::of_route(r).is_some_and(|d| match (self, &d) {
            (Dest::Ipv6(a), Dest::Ipv6(b)) => a.eq_ignore_ascii_case(b),
            _ => *self == d,
        })
    }
}

/// What a route sends to: AWS's answer by Terraform's names, the set ones only.
pub(crate) fn targets_of(r: &Route) -> Vec<(&'static str, String)> {
    let gw = r.gateway_id().filter(|g| !g.is_empty());
    // A VPC endpoint comes back as a gateway id.
    let (gateway, endpoint) = match gw {
        Some(g) if g.starts_with("vpce-") => (None, Some(g)),
        g => (g, None),
    };
    let pairs = [
        ("gateway_id", gateway),
        ("nat_gateway_id", r.nat_gateway_id()),
        ("network_interface_id", r.network_interface_id()),
        ("transit_gateway_id", r.transit_gateway_id()),
        ("vpc_peering_connection_id", r.vpc_peering_connection_id()),
        ("vpc_endpoint_id", endpoint),
        (
            "egress_only_gateway_id",
            r.egress_only_internet_gateway_id(),
        ),
        ("carrier_gateway_id", r.carrier_gateway_id()),
        ("local_gateway_id", r.local_gateway_id()),
        ("core_network_arn", r.core_network_arn()),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.filter(|x| !x.is_empty()).map(|x| (k, x.to_owned())))
        .collect()
}

/// The one target a configuration (or a `route` block) names.
pub(crate) fn target_of(v: &Value) -> AwsResult<(&'static str, String)> {
    let set: Vec<(&'static str, String)> = TARGETS
        .iter()
        .filter_map(|k| opt_str(v, k).map(|x| (*k, x.to_owned())))
        .collect();
    match <[_; 1]>::try_from(set) {
        Ok([one]) => Ok(one),
        Err(set) => Err(AwsError::invalid(format!(
            "a route needs exactly one target ({}), got {}",
            TARGETS.join(", "),
            set.len()
        ))),
    }
}

/// How many of `keys` a configuration sets (unknown counts as set).
pub(crate) fn count_set(v: &Value, keys: &[&str]) -> usize {
    keys.iter()
        .filter(|k| v.get(k).is_some_and(|x| !x.is_null()))
        .count()
}

/// Sets the destination and the target on a `CreateRoute` or `ReplaceRoute`
/// call (their builders share the setters, not a trait).
macro_rules! route_call {
    ($req:expr, $dest:expr, $target:expr) => {{
        let mut req = $req;
        req = match $dest {
            Dest::Ipv4(d) => req.destination_cidr_block(d),
            Dest::Ipv6(d) => req.destination_ipv6_cidr_block(d),
            Dest::PrefixList(d) => req.destination_prefix_list_id(d),
        };
        let (key, id): (&str, &str) = $target;
        match key {
            "gateway_id" => req.gateway_id(id),
            "nat_gateway_id" => req.nat_gateway_id(id),
            "network_interface_id" => req.network_interface_id(id),
            "transit_gateway_id" => req.transit_gateway_id(id),
            "vpc_peering_connection_id" => req.vpc_peering_connection_id(id),
            "vpc_endpoint_id" => req.vpc_endpoint_id(id),
            "egress_only_gateway_id" => req.egress_only_internet_gateway_id(id),
            "carrier_gateway_id" => req.carrier_gateway_id(id),
            "local_gateway_id" => req.local_gateway_id(id),
            _ => req.core_network_arn(id),
        }
    }};
}

/// Adds a route; retried while AWS has not caught up with a target just
/// made, as Terraform does.
pub(crate) async fn create_route(
    ec2: &Client,
    table: &str,
    dest: &Dest,
    target: (&str, &str),
) -> AwsResult<()> {
    crate::ec2::retry_while(
        &format!("route {} in {table} to be accepted", dest.as_str()),
        120,
        &[
            "InvalidParameterException",
            "InvalidTransitGatewayID.NotFound",
        ],
        || async move {
            let req = ec2.create_route().route_table_id(table);
            route_call!(req, dest, target)
                .send()
                .await
                .map_err(sdk("CreateRoute"))
        },
    )
    .await?;
    Ok(())
}

/// Points an existing route at another target.
pub(crate) async fn replace_route(
    ec2: &Client,
    table: &str,
    dest: &Dest,
    target: (&str, &str),
) -> AwsResult<()> {
    let req = ec2.replace_route().route_table_id(table);
    route_call!(req, dest, target)
        .send()
        .await
        .map_err(sdk("ReplaceRoute"))?;
    Ok(())
}

/// Removes a route; one already gone is fine.
pub(crate) async fn delete_route(ec2: &Client, table: &str, dest: &Dest) -> AwsResult<()> {
    let r = crate::ec2::retry_while(
        &format!("route {} in {table} to be deleted", dest.as_str()),
        120,
        &["InvalidParameterException"],
        || async move {
            let req = ec2.delete_route().route_table_id(table);
            let req = match dest {
                Dest::Ipv4(d) => req.destination_cidr_block(d),
                Dest::Ipv6(d) => req.destination_ipv6_cidr_block(d),
                Dest::PrefixList(d) => req.destination_prefix_list_id(d),
            };
            req.send().await.map_err(sdk("DeleteRoute"))
        },
    )
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The routes of a table; `None` when the table is gone.
pub(crate) async fn routes_of(ec2: &Client, table: &str) -> AwsResult<Option<Vec<Route>>> {
    let out = found(
        ec2.describe_route_tables()
            .route_table_ids(table)
            .send()
            .await
            .map_err(sdk("DescribeRouteTables")),
    )?;
    Ok(out.and_then(|o| {
        o.route_tables()
            .iter()
            .find(|t| t.route_table_id() == Some(table))
            .map(|t| t.routes().to_vec())
    }))
}

/// The route to `dest` in `table`; `None` when it (or the table) is gone.
pub(crate) async fn find_route(ec2: &Client, table: &str, dest: &Dest) -> AwsResult<Option<Route>> {
    Ok(routes_of(ec2, table)
        .await?
        .and_then(|rs| rs.into_iter().find(|r| dest.matches(r))))
}

/// Routes a table's `route` blocks do not manage: the VPC's local route and
/// the ones a virtual private gateway propagates.
pub(crate) fn is_managed(r: &Route) -> bool {
    let gw = r.gateway_id().unwrap_or_default();
    gw != "local"
        && gw != "VpcLattice"
        && r.origin() != Some(&RouteOrigin::EnableVgwRoutePropagation)
}

/// Terraform's route id.
pub(crate) fn route_id(table: &str, dest: &str) -> String {
    format!("r-{table}{}", crc32(dest.as_bytes()))
}

const DESTS: &[&str] = &[
    "destination_cidr_block",
    "destination_ipv6_cidr_block",
    "destination_prefix_list_id",
];

fn dest_of(v: &Value) -> AwsResult<Dest> {
    if let Some(d) = opt_str(v, "destination_cidr_block") {
        Ok(Dest::Ipv4(d.to_owned()))
    } else if let Some(d) = opt_str(v, "destination_ipv6_cidr_block") {
        Ok(Dest::Ipv6(d.to_owned()))
    } else if let Some(d) = opt_str(v, "destination_prefix_list_id") {
        Ok(Dest::PrefixList(d.to_owned()))
    } else {
        Err(AwsError::invalid(format!(
            "a route needs one destination ({})",
            DESTS.join(", ")
        )))
    }
}

pub struct RouteResource {
    shared: Arc<Shared>,
    schema: Schema,
}

impl RouteResource {
    pub fn new(shared: Arc<Shared>) -> RouteResource {
        let mut schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("route_table_id", Attribute::required().force_new());
        for d in DESTS {
            schema = schema.attr(d, Attribute::optional().force_new());
        }
        for t in TARGETS {
            schema = schema.attr(t, Attribute::optional());
        }
        let schema = schema
            .attr("origin", Attribute::computed())
            .attr("state", Attribute::computed());
        RouteResource { shared, schema }
    }

    fn value(base: &Value, table: &str, dest: &Dest, r: &Route) -> Value {
        let targets = targets_of(r);
        let mut pairs: Vec<(&str, Value)> = vec![
            ("id", s(route_id(table, dest.as_str()))),
            ("route_table_id", s(table)),
            ("destination_cidr_block", text(r.destination_cidr_block())),
            (
                "destination_ipv6_cidr_block",
                text(r.destination_ipv6_cidr_block()),
            ),
            (
                "destination_prefix_list_id",
                text(r.destination_prefix_list_id()),
            ),
            ("origin", text(r.origin().map(|o| o.as_str()))),
            ("state", text(r.state().map(|st| st.as_str()))),
        ];
        // Keep the configuration's spelling of an IPv6 destination AWS
        // answers in another case.
        if let (Dest::Ipv6(d), Some(_)) = (dest, r.destination_ipv6_cidr_block()) {
            pairs[3] = ("destination_ipv6_cidr_block", s(d.clone()));
        }
        for t in TARGETS {
            let v = targets
                .iter()
                .find(|(k, _)| k == t)
                .map(|(_, x)| s(x.clone()))
                .unwrap_or(Value::Null);
            pairs.push((t, v));
        }
        with_all(base, pairs)
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let table = opt_str(base, "route_table_id")
            .ok_or_else(|| AwsError::invalid("\"route_table_id\" must be a string"))?;
        let dest = dest_of(base)?;
        let ec2 = self.shared.ec2().await;
        Ok(find_route(&ec2, table, &dest)
            .await?
            .map(|r| Self::value(base, table, &dest, &r)))
    }

    /// Waits until the route shows the target it was given.
    async fn wait_target(&self, table: &str, dest: &Dest, target: (&str, &str)) -> AwsResult<()> {
        let ec2 = self.shared.ec2().await;
        wait::until(
            &format!("route {} in {table} to be ready", dest.as_str()),
            wait::limit(300),
            Duration::from_secs(2),
            || {
                let ec2 = ec2.clone();
                async move {
                    let r = find_route(&ec2, table, dest).await?;
                    Ok(r.filter(|r| {
                        targets_of(r)
                            .iter()
                            .any(|(k, v)| *k == target.0 && v == target.1)
                    })
                    .map(|_| ()))
                }
            },
        )
        .await
    }
}

#[async_trait]
impl ResourceType for RouteResource {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = check_ipv4_cidr(config, "destination_cidr_block")
            .into_iter()
            .collect();
        if count_set(config, DESTS) != 1 {
            out.push((
                "destination_cidr_block".into(),
                format!("is one of {}: set exactly one", DESTS.join(", ")),
            ));
        }
        if count_set(config, TARGETS) != 1 {
            out.push((
                "gateway_id".into(),
                format!("is one of {}: set exactly one", TARGETS.join(", ")),
            ));
        }
        out
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(prior).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let table = req_str(planned, "route_table_id")?;
        let dest = dest_of(planned)?;
        let (key, target) = target_of(planned)?;
        let ec2 = self.shared.ec2().await;
        create_route(&ec2, table, &dest, (key, &target)).await?;
        let made = with_all(planned, [("id", s(route_id(table, dest.as_str())))]);
        let finish = async {
            self.wait_target(table, &dest, (key, &target)).await?;
            self.observe(planned).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!(
                    "route {} in {table} vanished after it was created",
                    dest.as_str()
                ),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// A destination is unique in its table.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(planned).await?)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let table = req_str(prior, "route_table_id")?;
        let dest = dest_of(prior)?;
        let (key, target) = target_of(planned)?;
        let ec2 = self.shared.ec2().await;
        replace_route(&ec2, table, &dest, (key, &target)).await?;
        self.wait_target(table, &dest, (key, &target)).await?;
        self.observe(planned).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "route {} in {table} vanished while it was updated",
                dest.as_str()
            ))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let table = req_str(prior, "route_table_id")?;
        let dest = dest_of(prior)?;
        let ec2 = self.shared.ec2().await;
        delete_route(&ec2, table, &dest).await?;
        wait::until(
            &format!("route {} in {table} to be deleted", dest.as_str()),
            wait::limit(300),
            Duration::from_secs(2),
            || {
                let ec2 = ec2.clone();
                let dest = dest.clone();
                async move {
                    Ok(find_route(&ec2, table, &dest)
                        .await?
                        .is_none()
                        .then_some(()))
                }
            },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (table, dest) = id
            .split_once('_')
            .filter(|(t, d)| !t.is_empty() && !d.is_empty())
            .ok_or_else(|| {
                ProviderError::new(format!(
                    "unexpected format of ID ({id:?}), expected ROUTETABLEID_DESTINATION (rtb-0123_10.0.0.0/16)"
                ))
            })?;
        let dest = Dest::parse(dest);
        let key = match dest {
            Dest::Ipv4(_) => "destination_cidr_block",
            Dest::Ipv6(_) => "destination_ipv6_cidr_block",
            Dest::PrefixList(_) => "destination_prefix_list_id",
        };
        Ok(obj([
            ("id", s(route_id(table, dest.as_str()))),
            ("route_table_id", s(table)),
            (key, s(dest.as_str())),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_ids_are_terraforms() {
        // r- + table + crc32("10.0.0.0/16") = 179966490
        assert_eq!(route_id("rtb-0123", "10.0.0.0/16"), "r-rtb-0123179966490");
    }

    #[test]
    fn import_ids_parse_like_terraform() {
        assert_eq!(Dest::parse("10.0.0.0/16"), Dest::Ipv4("10.0.0.0/16".into()));
        assert_eq!(
            Dest::parse("2001:db8::/56"),
            Dest::Ipv6("2001:db8::/56".into())
        );
        assert_eq!(Dest::parse("pl-0123"), Dest::PrefixList("pl-0123".into()));
    }

    #[test]
    fn one_target_exactly() {
        let v = obj([("gateway_id", s("igw-1"))]);
        assert_eq!(target_of(&v).unwrap(), ("gateway_id", "igw-1".to_owned()));
        let two = obj([("gateway_id", s("igw-1")), ("nat_gateway_id", s("nat-1"))]);
        assert!(target_of(&two).is_err());
        assert!(target_of(&obj([])).is_err());
    }

    #[test]
    fn endpoint_routes_read_as_vpc_endpoint_id() {
        let r = Route::builder()
            .destination_prefix_list_id("pl-1")
            .gateway_id("vpce-1")
            .build();
        assert_eq!(
            targets_of(&r),
            vec![("vpc_endpoint_id", "vpce-1".to_owned())]
        );
    }
}
