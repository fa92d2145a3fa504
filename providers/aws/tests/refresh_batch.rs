//! Refresh reads EC2 networking objects in batches (one filtered Describe*
//! call for many objects), against moto: every object gets its own current
//! value, objects deleted or changed outside dumcel show as such and only
//! they, and a batched read answers what reading each object alone answers.

mod common;

use common::walk::{changes, plan_apply, plan_of, want};
use common::*;
use dumcel_planner::Action;
use dumcel_state::State;

const STACK: &str = r#"
provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    ec2 = "@ENDPOINT@"
  }
}

resource "aws_vpc" "net" {
  count      = 2
  cidr_block = "10.${count.index + 40}.0.0/16"
  tags       = { Name = "@NAME@-${count.index}" }
}

resource "aws_subnet" "app" {
  count      = 6
  vpc_id     = aws_vpc.net[count.index % 2].id
  cidr_block = "10.${count.index % 2 + 40}.${count.index}.0/24"
  tags       = { Name = "@NAME@-${count.index}" }
}

resource "aws_security_group" "app" {
  count  = 4
  name   = "@NAME@-${count.index}"
  vpc_id = aws_vpc.net[count.index % 2].id
}

resource "aws_route_table" "app" {
  count  = 2
  vpc_id = aws_vpc.net[count.index].id
}

resource "aws_internet_gateway" "app" {
  count  = 2
  vpc_id = aws_vpc.net[count.index].id
}
"#;

#[tokio::test]
async fn a_batched_refresh_gives_each_object_its_own_value_and_finds_what_changed_outside() {
    let env = Env::new().await;
    let name = unique("batch");
    let dir = tempfile::tempdir().unwrap();
    let hcl = STACK
        .replace("@ENDPOINT@", &env.endpoint)
        .replace("@NAME@", &name);
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 16);

    // Refreshed in batches, nothing changed: a no-op plan.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    // A batch answers what reading each object alone answers: the VPCs'
    // main route tables and default groups are not mixed up between them.
    for type_name in [
        "aws_vpc",
        "aws_subnet",
        "aws_security_group",
        "aws_route_table",
        "aws_internet_gateway",
    ] {
        let rt = env.resource(type_name);
        let priors: Vec<_> = state
            .resources
            .values()
            .filter(|r| r.resource_type == type_name)
            .map(|r| dumcel_planner::Value::from_json(&r.attributes))
            .collect();
        assert!(priors.len() >= 2, "{type_name}");
        let batch = rt.read_many(&priors).await;
        assert_eq!(batch.len(), priors.len());
        for (prior, read) in priors.iter().zip(batch) {
            let alone = rt.read(prior).await.unwrap();
            assert_eq!(read.unwrap(), alone, "{type_name} {}", s(prior, "id"));
        }
    }

    // Outside dumcel: a subnet, a group, a route table and a gateway are
    // deleted, and one VPC's DNS host names turned on.
    let ec2 = env.ec2();
    let id = |address: &str| common::walk::attr(&state, address, "id");
    ec2.delete_subnet()
        .subnet_id(id("aws_subnet.app[1]"))
        .send()
        .await
        .unwrap();
    ec2.delete_security_group()
        .group_id(id("aws_security_group.app[2]"))
        .send()
        .await
        .unwrap();
    ec2.delete_route_table()
        .route_table_id(id("aws_route_table.app[1]"))
        .send()
        .await
        .unwrap();
    ec2.detach_internet_gateway()
        .internet_gateway_id(id("aws_internet_gateway.app[0]"))
        .vpc_id(id("aws_vpc.net[0]"))
        .send()
        .await
        .unwrap();
    ec2.delete_internet_gateway()
        .internet_gateway_id(id("aws_internet_gateway.app[0]"))
        .send()
        .await
        .unwrap();
    ec2.modify_vpc_attribute()
        .vpc_id(id("aws_vpc.net[1]"))
        .enable_dns_hostnames(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let (_, drifted) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&drifted),
        want(&[
            ("aws_internet_gateway.app[0]", Action::Create),
            ("aws_route_table.app[1]", Action::Create),
            ("aws_security_group.app[2]", Action::Create),
            ("aws_subnet.app[1]", Action::Create),
            ("aws_vpc.net[1]", Action::Update),
        ])
    );

    // Put back, then destroyed: nothing of the stack is left in EC2.
    let (state, _) = plan_apply(dir.path(), state, false).await;
    plan_apply(dir.path(), state, true).await;
    let left = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:Name")
                .values(format!("{name}-*"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(left.vpcs().is_empty(), "{:?}", left.vpcs());
}
