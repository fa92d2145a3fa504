//! `aws_route_table_association`: a subnet's (or an edge gateway's) route
//! table. The subnet or gateway replaces it; another `route_table_id` moves it
//! in place (`ReplaceRouteTableAssociation`, which gives it a new id, as in
//! Terraform). A subnet has one association, so a create cut off before its
//! answer was recorded is found by it. Import takes `SUBNETID/ROUTETABLEID`
//! or `GATEWAYID/ROUTETABLEID`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, RouteTableAssociation as Assoc, RouteTableAssociationStateCode};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{gone, retry_while, text};
use crate::error::{AwsError, AwsResult, sdk};
use crate::wait;

pub struct RouteTableAssociation {
    shared: Arc<Shared>,
    schema: Schema,
}

fn live(a: &Assoc) -> bool {
    !matches!(
        a.association_state().and_then(|st| st.state()),
        Some(
            RouteTableAssociationStateCode::Disassociated
                | RouteTableAssociationStateCode::Disassociating
                | RouteTableAssociationStateCode::Failed
        )
    )
}

impl RouteTableAssociation {
    pub fn new(shared: Arc<Shared>) -> RouteTableAssociation {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("subnet_id", Attribute::optional().force_new())
            .attr("gateway_id", Attribute::optional().force_new())
            .attr("route_table_id", Attribute::required());
        RouteTableAssociation { shared, schema }
    }

    /// The association with this id, wherever it is.
    async fn by_id(&self, ec2: &Client, id: &str) -> AwsResult<Option<Assoc>> {
        let out = ec2
            .describe_route_tables()
            .filters(
                Filter::builder()
                    .name("association.route-table-association-id")
                    .values(id)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("DescribeRouteTables"))?;
        Ok(out
            .route_tables()
            .iter()
            .flat_map(|t| t.associations())
            .find(|a| a.route_table_association_id() == Some(id) && live(a))
            .cloned())
    }

    /// The association of `subnet` (or gateway) with `table`, if any.
    async fn of_target(
        &self,
        ec2: &Client,
        (key, target): (&str, &str),
        table: Option<&str>,
    ) -> AwsResult<Option<Assoc>> {
        let filter = if key == "subnet_id" {
            "association.subnet-id"
        } else {
            "association.gateway-id"
        };
        let out = ec2
            .describe_route_tables()
            .filters(Filter::builder().name(filter).values(target).build())
            .send()
            .await
            .map_err(sdk("DescribeRouteTables"))?;
        Ok(out
            .route_tables()
            .iter()
            .flat_map(|t| t.associations())
            .find(|a| {
                let t = if key == "subnet_id" {
                    a.subnet_id()
                } else {
                    a.gateway_id()
                };
                t == Some(target)
                    && live(a)
                    && table.is_none_or(|want| a.route_table_id() == Some(want))
            })
            .cloned())
    }

    fn value(base: &Value, a: &Assoc) -> Value {
        with_all(
            base,
            [
                ("id", s(a.route_table_association_id().unwrap_or_default())),
                ("route_table_id", text(a.route_table_id())),
                ("subnet_id", text(a.subnet_id())),
                ("gateway_id", text(a.gateway_id())),
            ],
        )
    }

    async fn wait_associated(&self, ec2: &Client, id: &str) -> AwsResult<Value> {
        wait::until(
            &format!("route table association {id} to be associated"),
            wait::limit(300),
            Duration::from_secs(2),
            || {
                let ec2 = ec2.clone();
                async move {
                    let a = self.by_id(&ec2, id).await?;
                    Ok(a.filter(|a| {
                        a.association_state()
                            .and_then(|st| st.state())
                            .is_none_or(|st| *st == RouteTableAssociationStateCode::Associated)
                    })
                    .map(|a| Self::value(&Value::Null, &a)))
                }
            },
        )
        .await
    }
}

fn target(v: &Value) -> AwsResult<(&'static str, &str)> {
    match (opt_str(v, "subnet_id"), opt_str(v, "gateway_id")) {
        (Some(sn), None) => Ok(("subnet_id", sn)),
        (None, Some(gw)) => Ok(("gateway_id", gw)),
        _ => Err(AwsError::invalid(
            "a route table association needs exactly one of subnet_id and gateway_id",
        )),
    }
}

#[async_trait]
impl ResourceType for RouteTableAssociation {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        if set("subnet_id") == set("gateway_id") {
            vec![(
                "subnet_id".into(),
                "or gateway_id: set exactly one of the two".into(),
            )]
        } else {
            Vec::new()
        }
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        Ok(self.by_id(&ec2, id).await?.map(|a| Self::value(prior, &a)))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let table = req_str(planned, "route_table_id")?;
        let (key, tgt) = target(planned)?;
        let ec2 = self.shared.ec2().await;
        // A table just made may not be visible to this call yet.
        let out = retry_while(
            &format!("route table {table} to accept the association"),
            120,
            &["InvalidRouteTableID.NotFound"],
            || {
                let ec2 = ec2.clone();
                async move {
                    let req = ec2.associate_route_table().route_table_id(table);
                    let req = if key == "subnet_id" {
                        req.subnet_id(tgt)
                    } else {
                        req.gateway_id(tgt)
                    };
                    req.send().await.map_err(sdk("AssociateRouteTable"))
                }
            },
        )
        .await?;
        let id = out
            .association_id()
            .ok_or_else(|| {
                AwsError::unexpected("AssociateRouteTable", "no association id in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&id))]);
        match self.wait_associated(&ec2, &id).await {
            Ok(a) => Ok(with_all(
                planned,
                a.as_map()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.clone())),
            )),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let table = req_str(planned, "route_table_id")?;
        let (key, tgt) = target(planned)?;
        let ec2 = self.shared.ec2().await;
        Ok(self
            .of_target(&ec2, (key, tgt), Some(table))
            .await?
            .map(|a| Self::value(planned, &a)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let table = req_str(planned, "route_table_id")?;
        let ec2 = self.shared.ec2().await;
        let out = ec2
            .replace_route_table_association()
            .association_id(id)
            .route_table_id(table)
            .send()
            .await
            .map_err(sdk("ReplaceRouteTableAssociation"))?;
        let new_id = out
            .new_association_id()
            .ok_or_else(|| {
                AwsError::unexpected(
                    "ReplaceRouteTableAssociation",
                    "no new association id in the answer",
                )
            })?
            .to_owned();
        let a = self.wait_associated(&ec2, &new_id).await?;
        Ok(with_all(
            planned,
            a.as_map()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.clone())),
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        match ec2
            .disassociate_route_table()
            .association_id(id)
            .send()
            .await
            .map_err(sdk("DisassociateRouteTable"))
        {
            Ok(_) => {}
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        wait::until(
            &format!("route table association {id} to be removed"),
            wait::limit(300),
            Duration::from_secs(2),
            || {
                let ec2 = ec2.clone();
                async move { Ok(self.by_id(&ec2, id).await?.is_none().then_some(())) }
            },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (tgt, table) = id
            .split_once('/')
            .filter(|(t, r)| !t.is_empty() && !r.is_empty())
            .ok_or_else(|| {
                ProviderError::new(format!(
                    "unexpected format of ID ({id:?}), expected SUBNETID/ROUTETABLEID or GATEWAYID/ROUTETABLEID"
                ))
            })?;
        let key = if tgt.starts_with("subnet-") {
            "subnet_id"
        } else {
            "gateway_id"
        };
        let ec2 = self.shared.ec2().await;
        let a = self
            .of_target(&ec2, (key, tgt), Some(table))
            .await?
            .ok_or_else(|| {
                ProviderError::new(format!(
                    "InvalidAssociationID.NotFound: {tgt} is not associated with route table {table}"
                ))
            })?;
        Ok(Self::value(&obj([]), &a))
    }
}
