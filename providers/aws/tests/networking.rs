//! aws_security_group and the aws_vpc / aws_subnets data sources against moto's
//! default VPC.

mod common;

use common::walk::*;
use common::*;
use dumcel_planner::Value;

#[tokio::test]
async fn default_vpc_subnets_and_a_security_group() {
    let env = Env::new().await;
    let vpc = env
        .data("aws_vpc")
        .read(&obj(&[("default", Value::Bool(true))]))
        .await
        .expect("default vpc");
    let vpc_id = s(&vpc, "id");
    let subnets = env
        .data("aws_subnets")
        .read(&obj(&[("vpc_id", Value::string(&vpc_id))]))
        .await
        .expect("subnets");
    assert!(
        subnets
            .get("ids")
            .and_then(Value::as_list)
            .is_some_and(|l| !l.is_empty())
    );

    let rt = env.resource("aws_security_group");
    let rule = |port: f64, cidr: &str| {
        obj(&[
            ("from_port", Value::Number(port)),
            ("to_port", Value::Number(port)),
            ("protocol", Value::string("tcp")),
            ("cidr_blocks", Value::List(vec![Value::string(cidr)])),
        ])
    };
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("sg"))),
            ("vpc_id", Value::string(&vpc_id)),
            ("ingress", Value::List(vec![rule(80.0, "0.0.0.0/0")])),
        ]),
    );
    let made = rt.create(&cfg).await.expect("create");
    assert_eq!(
        rt.read(&made).await.unwrap().unwrap(),
        made,
        "no drift after create"
    );

    // A rule added outside dumcel shows as an extra ingress block.
    let id = s(&made, "id");
    env.ec2()
        .authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("10.0.0.0/8")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drifted = rt.read(&made).await.unwrap().unwrap();
    assert_eq!(
        drifted
            .get("ingress")
            .and_then(Value::as_list)
            .map(|l| l.len()),
        Some(2)
    );

    // Update back to the configuration (plus port 443) in place.
    let mut want = made.clone();
    if let Value::Map(m) = &mut want {
        m.insert(
            "ingress".into(),
            Value::List(vec![rule(80.0, "0.0.0.0/0"), rule(443.0, "0.0.0.0/0")]),
        );
    }
    let updated = rt.update(&drifted, &want).await.expect("update");
    let live = env
        .ec2()
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await
        .unwrap();
    let ports: Vec<i32> = live.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter_map(|p| p.from_port())
        .collect();
    assert!(
        ports.contains(&443) && ports.contains(&80) && !ports.contains(&22),
        "{ports:?}"
    );
    rt.delete(&updated).await.expect("delete");
    assert!(rt.read(&updated).await.unwrap().is_none());
}

#[tokio::test]
async fn find_security_group_by_name_and_vpc() {
    let env = Env::new().await;
    let rt = env.resource("aws_security_group");
    let vpc = env
        .data("aws_vpc")
        .read(&obj(&[("default", Value::Bool(true))]))
        .await
        .expect("default vpc");
    // Without vpc_id: the default VPC, where create puts it.
    let cfg = planned(rt.as_ref(), obj(&[("name", Value::string(unique("find")))]));
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    let got = found(rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "id"), s(&made, "id"));
    assert_eq!(s(&got, "arn"), s(&made, "arn"));
    assert_eq!(s(&got, "vpc_id"), s(&vpc, "id"));
    // With it, the same group.
    let in_vpc = set(&cfg, "vpc_id", Value::string(s(&vpc, "id")));
    assert_eq!(s(&found(rt.as_ref(), &in_vpc).await, "id"), s(&made, "id"));
    rt.delete(&made).await.expect("delete");
    found_nothing(rt.as_ref(), &cfg).await;
}

// ---------------------------------------------------------------------------
// The networking an ECS/Fargate stack needs, end to end through the engine's
// plan and apply walks (as the CLI runs them), checked through the AWS SDK.
//
// What moto (5.2) does not do, and these tests live with: NAT gateways are
// `available` at once and `deleted` at once (the waits never wait), and a
// deleted NAT gateway's network interface is left behind in its subnet (moto
// deletes the subnet and the VPC all the same; AWS would release it); the NAT
// gateway's private IP is not in its subnet's range; every availability zone
// is `available`; DescribeNatGateways answers an unknown id with an empty
// list, not `NatGatewayNotFound` (both read as gone); route, subnet and VPC
// states are final at once; nothing checks that a public subnet really routes
// to the internet.
// ---------------------------------------------------------------------------

use std::collections::BTreeMap;
use std::path::Path;

use dumcel_planner::Action;
use dumcel_state::State;

fn output(state: &State, name: &str) -> serde_json::Value {
    state
        .outputs
        .get(name)
        .map(|o| o.value.clone())
        .unwrap_or_else(|| panic!("no output {name}"))
}

/// The reference networking stack: a VPC, a public and a private subnet in
/// two zones, an internet gateway, a public route table routing to it, an
/// EIP and a NAT gateway in the public subnet, a private route table with an
/// `aws_route` to the NAT gateway, a security group with rule resources.
fn stack_hcl(endpoint: &str, name: &str, env: &str, private_cidr: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    ec2 = "{endpoint}"
  }}
  default_tags {{
    tags = {{ stack = "{name}" }}
  }}
}}

data "aws_availability_zones" "available" {{
  state = "available"
}}

data "aws_region" "current" {{}}

resource "aws_vpc" "main" {{
  cidr_block           = "10.42.0.0/16"
  enable_dns_hostnames = true
  tags = {{
    Name = "{name}"
    env  = "{env}"
  }}
}}

resource "aws_subnet" "public" {{
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.42.1.0/24"
  availability_zone       = data.aws_availability_zones.available.names[0]
  map_public_ip_on_launch = true
  tags = {{ Name = "{name}-public" }}
}}

resource "aws_subnet" "private" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "{private_cidr}"
  availability_zone = data.aws_availability_zones.available.names[1]
  tags = {{ Name = "{name}-private" }}
}}

resource "aws_internet_gateway" "gw" {{
  vpc_id = aws_vpc.main.id
  tags   = {{ Name = "{name}" }}
}}

resource "aws_route_table" "public" {{
  vpc_id = aws_vpc.main.id
  route {{
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }}
  tags = {{ Name = "{name}-public" }}
}}

resource "aws_route_table_association" "public" {{
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}}

resource "aws_eip" "nat" {{
  domain = "vpc"
  tags   = {{ Name = "{name}-nat" }}
}}

resource "aws_nat_gateway" "nat" {{
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
  tags          = {{ Name = "{name}" }}
  depends_on    = [aws_internet_gateway.gw]
}}

resource "aws_route_table" "private" {{
  vpc_id = aws_vpc.main.id
  tags   = {{ Name = "{name}-private" }}
}}

resource "aws_route" "private_nat" {{
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.nat.id
}}

resource "aws_route_table_association" "private" {{
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}}

resource "aws_security_group" "app" {{
  name   = "{name}"
  vpc_id = aws_vpc.main.id
}}

resource "aws_vpc_security_group_ingress_rule" "http" {{
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
  description       = "web"
}}

resource "aws_vpc_security_group_ingress_rule" "self" {{
  security_group_id            = aws_security_group.app.id
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.app.id
}}

resource "aws_vpc_security_group_egress_rule" "https" {{
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = {{ Name = "{name}-https" }}
}}

output "region" {{
  value = data.aws_region.current.name
}}

output "region_description" {{
  value = data.aws_region.current.description
}}

output "zones" {{
  value = data.aws_availability_zones.available.names
}}
"#
    )
}

fn write_stack(dir: &Path, endpoint: &str, name: &str, env: &str, private_cidr: &str) {
    std::fs::write(
        dir.join("main.hcl"),
        stack_hcl(endpoint, name, env, private_cidr),
    )
    .expect("write main.hcl");
}

fn tags_of(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect()
}

fn code_of<E: aws_sdk_ec2::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_owned()
}

/// Every type the stack imports, with Terraform's import id.
const IMPORTED: &[&str] = &[
    "aws_vpc.main",
    "aws_subnet.public",
    "aws_subnet.private",
    "aws_internet_gateway.gw",
    "aws_route_table.public",
    "aws_route_table.private",
    "aws_route.private_nat",
    "aws_route_table_association.public",
    "aws_eip.nat",
    "aws_nat_gateway.nat",
    "aws_vpc_security_group_ingress_rule.http",
    "aws_vpc_security_group_ingress_rule.self",
    "aws_vpc_security_group_egress_rule.https",
];

#[tokio::test(flavor = "multi_thread")]
async fn networking_stack_applies_drifts_imports_and_destroys() {
    let env = Env::new().await;
    let ec2 = env.ec2();
    let name = unique("net");
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), &env.endpoint, &name, "one", "10.42.2.0/24");

    // Apply from nothing.
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 15, "{report:?}");

    // Data sources.
    assert_eq!(output(&state, "region"), "us-east-1");
    assert_eq!(
        output(&state, "region_description"),
        "US East (N. Virginia)"
    );
    let zones = output(&state, "zones");
    assert!(zones.as_array().is_some_and(|z| z.len() >= 2), "{zones}");

    // Every object, read back through the SDK.
    let vpc_id = attr(&state, "aws_vpc.main", "id");
    let vpc = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    let vpc = &vpc.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.42.0.0/16"));
    let vpc_tags = tags_of(vpc.tags());
    assert_eq!(vpc_tags.get("Name"), Some(&name));
    assert_eq!(vpc_tags.get("env").map(String::as_str), Some("one"));
    assert_eq!(vpc_tags.get("stack"), Some(&name), "default_tags reach AWS");
    let hostnames = ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc_id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hostnames.enable_dns_hostnames().and_then(|b| b.value()),
        Some(true)
    );
    assert!(attr(&state, "aws_vpc.main", "arn").ends_with(&format!(":vpc/{vpc_id}")));
    assert!(attr(&state, "aws_vpc.main", "main_route_table_id").starts_with("rtb-"));
    assert!(attr(&state, "aws_vpc.main", "default_security_group_id").starts_with("sg-"));

    let public_id = attr(&state, "aws_subnet.public", "id");
    let private_id = attr(&state, "aws_subnet.private", "id");
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let by_id = |id: &str| {
        subnets
            .subnets()
            .iter()
            .find(|s| s.subnet_id() == Some(id))
            .cloned()
            .unwrap_or_else(|| panic!("subnet {id} not in the VPC"))
    };
    let (public, private) = (by_id(&public_id), by_id(&private_id));
    assert_eq!(public.cidr_block(), Some("10.42.1.0/24"));
    assert_eq!(public.map_public_ip_on_launch(), Some(true));
    assert_eq!(private.cidr_block(), Some("10.42.2.0/24"));
    assert_ne!(
        public.availability_zone(),
        private.availability_zone(),
        "two zones"
    );
    assert_eq!(
        attr(&state, "aws_subnet.private", "availability_zone_id"),
        private.availability_zone_id().unwrap()
    );

    let igw_id = attr(&state, "aws_internet_gateway.gw", "id");
    let igw = ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&igw_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        igw.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(vpc_id.as_str())
    );

    let public_rt = attr(&state, "aws_route_table.public", "id");
    let private_rt = attr(&state, "aws_route_table.private", "id");
    let nat_id = attr(&state, "aws_nat_gateway.nat", "id");
    let tables = ec2
        .describe_route_tables()
        .route_table_ids(&public_rt)
        .route_table_ids(&private_rt)
        .send()
        .await
        .unwrap();
    let table = |id: &str| {
        tables
            .route_tables()
            .iter()
            .find(|t| t.route_table_id() == Some(id))
            .cloned()
            .unwrap()
    };
    let default_route = |t: &aws_sdk_ec2::types::RouteTable| {
        t.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .cloned()
    };
    let (pt, vt) = (table(&public_rt), table(&private_rt));
    assert_eq!(
        default_route(&pt).and_then(|r| r.gateway_id().map(str::to_owned)),
        Some(igw_id.clone())
    );
    assert_eq!(
        default_route(&vt).and_then(|r| r.nat_gateway_id().map(str::to_owned)),
        Some(nat_id.clone())
    );
    assert!(
        pt.associations()
            .iter()
            .any(|a| a.subnet_id() == Some(public_id.as_str())
                && a.route_table_association_id()
                    == Some(attr(&state, "aws_route_table_association.public", "id").as_str()))
    );
    assert!(
        vt.associations()
            .iter()
            .any(|a| a.subnet_id() == Some(private_id.as_str()))
    );
    assert_eq!(
        attr(&state, "aws_route.private_nat", "id"),
        format!("r-{private_rt}{}", 1_080_289_494u32),
        "Terraform's route id: r- + table + crc32(destination)"
    );

    let alloc = attr(&state, "aws_eip.nat", "id");
    assert!(alloc.starts_with("eipalloc-"));
    let eip = ec2
        .describe_addresses()
        .allocation_ids(&alloc)
        .send()
        .await
        .unwrap();
    let eip = &eip.addresses()[0];
    assert_eq!(
        eip.public_ip(),
        Some(attr(&state, "aws_eip.nat", "public_ip").as_str())
    );
    assert_eq!(
        tags_of(eip.tags()).get("Name"),
        Some(&format!("{name}-nat"))
    );
    let nat = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat_id)
        .send()
        .await
        .unwrap();
    let nat = &nat.nat_gateways()[0];
    assert_eq!(nat.subnet_id(), Some(public_id.as_str()));
    assert_eq!(
        nat.state(),
        Some(&aws_sdk_ec2::types::NatGatewayState::Available)
    );
    assert_eq!(
        nat.nat_gateway_addresses()[0].allocation_id(),
        Some(alloc.as_str())
    );
    assert_eq!(
        attr(&state, "aws_nat_gateway.nat", "public_ip"),
        eip.public_ip().unwrap()
    );

    let sg_id = attr(&state, "aws_security_group.app", "id");
    let rules = ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(&sg_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let rule = |address: &str| {
        let id = attr(&state, address, "security_group_rule_id");
        rules
            .security_group_rules()
            .iter()
            .find(|r| r.security_group_rule_id() == Some(id.as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("{address}: rule {id} not in {sg_id}"))
    };
    let http = rule("aws_vpc_security_group_ingress_rule.http");
    assert_eq!(
        (
            http.is_egress(),
            http.from_port(),
            http.cidr_ipv4(),
            http.description()
        ),
        (Some(false), Some(80), Some("0.0.0.0/0"), Some("web"))
    );
    let me = rule("aws_vpc_security_group_ingress_rule.self");
    assert_eq!(me.ip_protocol(), Some("-1"));
    assert_eq!(
        me.referenced_group_info().and_then(|g| g.group_id()),
        Some(sg_id.as_str())
    );
    let https = rule("aws_vpc_security_group_egress_rule.https");
    assert_eq!(
        (https.is_egress(), https.to_port()),
        (Some(true), Some(443))
    );
    assert_eq!(
        tags_of(https.tags()).get("Name"),
        Some(&format!("{name}-https"))
    );

    // Nothing to do the second time.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new(), "re-plan is empty");

    // A tag changes in place; a subnet's CIDR block replaces it (and its
    // association, whose subnet_id is then unknown).
    write_stack(dir.path(), &env.endpoint, &name, "two", "10.42.3.0/24");
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    let want: BTreeMap<String, Action> = [
        ("aws_vpc.main", Action::Update),
        ("aws_subnet.private", Action::Replace),
        ("aws_route_table_association.private", Action::Replace),
    ]
    .into_iter()
    .map(|(a, x)| (a.to_owned(), x))
    .collect();
    assert_eq!(changes(&p), want);
    let subnet_change = p
        .plan
        .changes
        .iter()
        .find(|c| c.address == "aws_subnet.private")
        .unwrap();
    assert_eq!(subnet_change.replace_because, ["cidr_block"]);
    let (state, _) = apply_plan(stack, p, state, false).await;
    let vpc = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    assert_eq!(
        tags_of(vpc.vpcs()[0].tags()).get("env").map(String::as_str),
        Some("two")
    );
    let new_private = attr(&state, "aws_subnet.private", "id");
    assert_ne!(new_private, private_id);
    let old = ec2.describe_subnets().subnet_ids(&private_id).send().await;
    assert_eq!(
        old.map_err(|e| code_of(&e)).err().as_deref(),
        Some("InvalidSubnetID.NotFound"),
        "the old subnet is gone"
    );
    let sn = ec2
        .describe_subnets()
        .subnet_ids(&new_private)
        .send()
        .await
        .unwrap();
    assert_eq!(sn.subnets()[0].cidr_block(), Some("10.42.3.0/24"));
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Deleted behind dumcel's back: the route is created again; a tag
    // changed behind its back is put back in place.
    ec2.delete_route()
        .route_table_id(&private_rt)
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    ec2.create_tags()
        .resources(&public_id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Name")
                .value("renamed")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    let want: BTreeMap<String, Action> = [
        ("aws_route.private_nat", Action::Create),
        ("aws_subnet.public", Action::Update),
    ]
    .into_iter()
    .map(|(a, x)| (a.to_owned(), x))
    .collect();
    assert_eq!(changes(&p), want);
    let (state, _) = apply_plan(stack, p, state, false).await;
    let vt = ec2
        .describe_route_tables()
        .route_table_ids(&private_rt)
        .send()
        .await
        .unwrap();
    assert_eq!(
        default_route(&vt.route_tables()[0]).and_then(|r| r.nat_gateway_id().map(str::to_owned)),
        Some(nat_id.clone())
    );
    let sn = ec2
        .describe_subnets()
        .subnet_ids(&public_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(sn.subnets()[0].tags()).get("Name"),
        Some(&format!("{name}-public"))
    );

    // Import: forget one object of each importable type, then bring each back
    // with an `import` block by Terraform's import id; the plan imports them
    // all with nothing to change.
    let import_id = |address: &str| -> String {
        match address {
            "aws_route.private_nat" => format!("{private_rt}_0.0.0.0/0"),
            "aws_route_table_association.public" => format!("{public_id}/{public_rt}"),
            a => attr(&state, a, "id"),
        }
    };
    let blocks: String = IMPORTED
        .iter()
        .map(|a| format!("import {{\n  to = {a}\n  id = \"{}\"\n}}\n", import_id(a)))
        .collect();
    let before = state.clone();
    let import_id = |address: &str| -> String {
        match address {
            "aws_route.private_nat" => format!("{private_rt}_0.0.0.0/0"),
            "aws_route_table_association.public" => format!("{public_id}/{public_rt}"),
            a => attr(&before, a, "id"),
        }
    };
    let mut forgotten = state;
    for a in IMPORTED {
        forgotten.resources.remove(*a);
    }
    std::fs::write(dir.path().join("imports.hcl"), blocks).unwrap();
    let (stack, p) = plan_of(dir.path(), &forgotten, false).await;
    for a in IMPORTED {
        let c = p
            .plan
            .changes
            .iter()
            .find(|c| c.address == *a)
            .unwrap_or_else(|| panic!("no change for {a}"));
        assert_eq!(c.importing.as_deref(), Some(import_id(a).as_str()), "{a}");
        assert_eq!(
            c.action,
            Action::NoOp,
            "{a} imports without changes: before {:?}\nafter {:?}",
            c.before,
            c.after
        );
    }
    let (state, _) = apply_plan(stack, p, forgotten, false).await;
    for a in IMPORTED {
        assert_eq!(
            attr(&state, a, "id"),
            attr(&before, a, "id"),
            "{a} imported as the same object"
        );
    }
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Destroy leaves nothing.
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, 15, "{report:?}");
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let gone = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await;
    assert_eq!(
        gone.map_err(|e| code_of(&e)).err().as_deref(),
        Some("InvalidVpcID.NotFound")
    );
    let left = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(left.subnets().is_empty());
    let gone = ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&igw_id)
        .send()
        .await;
    assert_eq!(
        gone.map_err(|e| code_of(&e)).err().as_deref(),
        Some("InvalidInternetGatewayID.NotFound")
    );
    for rt in [&public_rt, &private_rt] {
        let gone = ec2.describe_route_tables().route_table_ids(rt).send().await;
        assert_eq!(
            gone.map_err(|e| code_of(&e)).err().as_deref(),
            Some("InvalidRouteTableID.NotFound")
        );
    }
    let gone = ec2.describe_addresses().allocation_ids(&alloc).send().await;
    assert_eq!(
        gone.map_err(|e| code_of(&e)).err().as_deref(),
        Some("InvalidAllocationID.NotFound")
    );
    let nat = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat_id)
        .send()
        .await
        .unwrap();
    assert!(
        nat.nat_gateways()
            .iter()
            .all(|n| n.state() == Some(&aws_sdk_ec2::types::NatGatewayState::Deleted))
    );
    let gone = ec2
        .describe_security_groups()
        .group_ids(&sg_id)
        .send()
        .await;
    assert_eq!(
        gone.map_err(|e| code_of(&e)).err().as_deref(),
        Some("InvalidGroup.NotFound")
    );
}

fn v(text: &str) -> Value {
    Value::string(text)
}

/// In-place changes the stack above does not make, `find` (a create cut off
/// before its answer was recorded), objects gone behind dumcel's back, and
/// the errors a wrong import id or configuration gets.
#[tokio::test(flavor = "multi_thread")]
async fn networking_types_update_in_place_find_and_read_gone_objects() {
    let env = Env::new().await;
    let ec2 = env.ec2();
    let tag = unique("inplace");
    let vpc_rt = env.resource("aws_vpc");
    let mk_vpc = |cidr: &str| {
        planned(
            vpc_rt.as_ref(),
            obj(&[("cidr_block", v(cidr)), ("tags", obj(&[("Name", v(&tag))]))]),
        )
    };
    let vpc_a = vpc_rt.create(&mk_vpc("10.50.0.0/16")).await.expect("vpc a");
    let vpc_b = vpc_rt.create(&mk_vpc("10.51.0.0/16")).await.expect("vpc b");
    let (a, b) = (s(&vpc_a, "id"), s(&vpc_b, "id"));
    // Terraform's defaults, known at plan time and read back the same.
    assert_eq!(vpc_a.get("enable_dns_support"), Some(&Value::Bool(true)));
    assert_eq!(vpc_a.get("enable_dns_hostnames"), Some(&Value::Bool(false)));
    assert_eq!(vpc_a.get("instance_tenancy"), Some(&v("default")));
    assert_eq!(vpc_rt.read(&vpc_a).await.unwrap().unwrap(), vpc_a);
    // DNS host names change in place.
    let vpc_a = vpc_rt
        .update(
            &vpc_a,
            &set(&vpc_a, "enable_dns_hostnames", Value::Bool(true)),
        )
        .await
        .expect("dns");
    let attr = ec2
        .describe_vpc_attribute()
        .vpc_id(&a)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attr.enable_dns_hostnames().and_then(|x| x.value()),
        Some(true)
    );

    // A subnet: found by VPC and CIDR block; map_public_ip_on_launch in place.
    let sn_rt = env.resource("aws_subnet");
    let sn_cfg = planned(
        sn_rt.as_ref(),
        obj(&[("vpc_id", v(&a)), ("cidr_block", v("10.50.1.0/24"))]),
    );
    found_nothing(sn_rt.as_ref(), &sn_cfg).await;
    let sn = sn_rt.create(&sn_cfg).await.expect("subnet");
    assert_eq!(s(&found(sn_rt.as_ref(), &sn_cfg).await, "id"), s(&sn, "id"));
    let sn = sn_rt
        .update(&sn, &set(&sn, "map_public_ip_on_launch", Value::Bool(true)))
        .await
        .expect("public ip");
    let live = ec2
        .describe_subnets()
        .subnet_ids(s(&sn, "id"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.subnets()[0].map_public_ip_on_launch(), Some(true));

    // An internet gateway in A, a peering between A and B to route to.
    let igw_rt = env.resource("aws_internet_gateway");
    let igw = igw_rt
        .create(&planned(igw_rt.as_ref(), obj(&[("vpc_id", v(&a))])))
        .await
        .expect("igw");
    let igw_id = s(&igw, "id");
    let pcx = ec2
        .create_vpc_peering_connection()
        .vpc_id(&a)
        .peer_vpc_id(&b)
        .send()
        .await
        .unwrap()
        .vpc_peering_connection()
        .and_then(|p| p.vpc_peering_connection_id().map(str::to_owned))
        .unwrap();

    // Inline routes: a route added outside is drift, removed by apply; a new
    // target replaces the route in place.
    let table_rt = env.resource("aws_route_table");
    let route = |k: &str, target: &str| obj(&[("cidr_block", v("0.0.0.0/0")), (k, v(target))]);
    let t1 = table_rt
        .create(&planned(
            table_rt.as_ref(),
            obj(&[
                ("vpc_id", v(&a)),
                ("route", Value::List(vec![route("gateway_id", &igw_id)])),
            ]),
        ))
        .await
        .expect("table");
    let t1_id = s(&t1, "id");
    assert_eq!(table_rt.read(&t1).await.unwrap().unwrap(), t1);
    ec2.create_route()
        .route_table_id(&t1_id)
        .destination_cidr_block("192.168.0.0/16")
        .gateway_id(&igw_id)
        .send()
        .await
        .unwrap();
    let drifted = table_rt.read(&t1).await.unwrap().unwrap();
    assert_eq!(
        drifted
            .get("route")
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(2),
        "{drifted}"
    );
    let want = set(
        &t1,
        "route",
        Value::List(vec![route("vpc_peering_connection_id", &pcx)]),
    );
    let t1 = table_rt.update(&drifted, &want).await.expect("routes");
    let routes = |id: String| {
        let ec2 = ec2.clone();
        async move {
            let out = ec2
                .describe_route_tables()
                .route_table_ids(id)
                .send()
                .await
                .unwrap();
            out.route_tables()[0]
                .routes()
                .iter()
                .filter(|r| r.gateway_id() != Some("local"))
                .map(|r| {
                    (
                        r.destination_cidr_block().unwrap_or_default().to_owned(),
                        r.gateway_id()
                            .or(r.vpc_peering_connection_id())
                            .unwrap_or_default()
                            .to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        routes(t1_id.clone()).await,
        [("0.0.0.0/0".to_owned(), pcx.clone())]
    );
    assert_eq!(table_rt.read(&t1).await.unwrap().unwrap(), t1);

    // aws_route: found by table and destination; a new target in place.
    let t2 = table_rt
        .create(&planned(table_rt.as_ref(), obj(&[("vpc_id", v(&a))])))
        .await
        .expect("table 2");
    let t2_id = s(&t2, "id");
    let route_rt = env.resource("aws_route");
    let r_cfg = planned(
        route_rt.as_ref(),
        obj(&[
            ("route_table_id", v(&t2_id)),
            ("destination_cidr_block", v("10.51.0.0/16")),
            ("vpc_peering_connection_id", v(&pcx)),
        ]),
    );
    assert!(
        route_rt
            .validate(&set(&r_cfg, "gateway_id", v(&igw_id)))
            .iter()
            .any(|(k, _)| k == "gateway_id"),
        "two targets are refused before any call"
    );
    found_nothing(route_rt.as_ref(), &r_cfg).await;
    let r = route_rt.create(&r_cfg).await.expect("route");
    assert_eq!(s(&r, "state"), "active");
    assert_eq!(
        s(&found(route_rt.as_ref(), &r_cfg).await, "id"),
        s(&r, "id")
    );
    let mut to_igw = set(&r, "vpc_peering_connection_id", Value::Null);
    to_igw = set(&to_igw, "gateway_id", v(&igw_id));
    let r = route_rt.update(&r, &to_igw).await.expect("replace route");
    assert_eq!(
        routes(t2_id.clone()).await,
        [("10.51.0.0/16".to_owned(), igw_id.clone())]
    );
    assert_eq!(route_rt.read(&r).await.unwrap().unwrap(), r);
    let err = route_rt.import(&t2_id).await.unwrap_err();
    assert!(
        err.message.contains("ROUTETABLEID_DESTINATION"),
        "{}",
        err.message
    );

    // An association moves to another table in place, with a new id.
    let assoc_rt = env.resource("aws_route_table_association");
    let sn_id = s(&sn, "id");
    let as_cfg = planned(
        assoc_rt.as_ref(),
        obj(&[("subnet_id", v(&sn_id)), ("route_table_id", v(&t1_id))]),
    );
    found_nothing(assoc_rt.as_ref(), &as_cfg).await;
    let assoc = assoc_rt.create(&as_cfg).await.expect("association");
    assert_eq!(
        s(&found(assoc_rt.as_ref(), &as_cfg).await, "id"),
        s(&assoc, "id")
    );
    let moved = assoc_rt
        .update(&assoc, &set(&assoc, "route_table_id", v(&t2_id)))
        .await
        .expect("move association");
    assert_ne!(s(&moved, "id"), s(&assoc, "id"));
    let t2_live = ec2
        .describe_route_tables()
        .route_table_ids(&t2_id)
        .send()
        .await
        .unwrap();
    assert!(
        t2_live.route_tables()[0]
            .associations()
            .iter()
            .any(|x| x.subnet_id() == Some(sn_id.as_str()))
    );
    let imported = assoc_rt
        .import(&format!("{sn_id}/{t2_id}"))
        .await
        .expect("import association");
    assert_eq!(s(&imported, "id"), s(&moved, "id"));
    let err = assoc_rt.import(&sn_id).await.unwrap_err();
    assert!(
        err.message.contains("SUBNETID/ROUTETABLEID"),
        "{}",
        err.message
    );

    // A NAT gateway is found by its subnet and EIP.
    let eip_rt = env.resource("aws_eip");
    let eip = eip_rt
        .create(&planned(eip_rt.as_ref(), obj(&[])))
        .await
        .expect("eip");
    assert_eq!(s(&eip, "domain"), "vpc");
    let nat_rt = env.resource("aws_nat_gateway");
    let nat_cfg = planned(
        nat_rt.as_ref(),
        obj(&[
            ("subnet_id", v(&sn_id)),
            ("allocation_id", v(&s(&eip, "id"))),
        ]),
    );
    found_nothing(nat_rt.as_ref(), &nat_cfg).await;
    let nat = nat_rt.create(&nat_cfg).await.expect("nat");
    assert_eq!(s(&nat, "connectivity_type"), "public");
    assert_eq!(
        s(&found(nat_rt.as_ref(), &nat_cfg).await, "id"),
        s(&nat, "id")
    );

    // A rule's description changes in place; an egress rule is not imported
    // as an ingress one.
    let sg = env
        .resource("aws_security_group")
        .create(&planned(
            env.resource("aws_security_group").as_ref(),
            obj(&[("name", v(&tag)), ("vpc_id", v(&a))]),
        ))
        .await
        .expect("group");
    let sg_id = s(&sg, "id");
    let in_rt = env.resource("aws_vpc_security_group_ingress_rule");
    let rule_cfg = planned(
        in_rt.as_ref(),
        obj(&[
            ("security_group_id", v(&sg_id)),
            ("ip_protocol", v("6")),
            ("from_port", Value::Number(22.0)),
            ("to_port", Value::Number(22.0)),
            ("cidr_ipv4", v("10.0.0.0/8")),
            ("description", v("ssh")),
        ]),
    );
    found_nothing(in_rt.as_ref(), &rule_cfg).await;
    let rule = in_rt.create(&rule_cfg).await.expect("rule");
    assert_eq!(s(&rule, "ip_protocol"), "6", "the configuration's spelling");
    assert_eq!(in_rt.read(&rule).await.unwrap().unwrap(), rule);
    assert_eq!(
        s(&found(in_rt.as_ref(), &rule_cfg).await, "id"),
        s(&rule, "id")
    );
    let rule = in_rt
        .update(&rule, &set(&rule, "description", v("admin ssh")))
        .await
        .expect("description");
    let live = ec2
        .describe_security_group_rules()
        .security_group_rule_ids(s(&rule, "id"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.security_group_rules()[0].description(),
        Some("admin ssh")
    );
    let err = env
        .resource("aws_vpc_security_group_egress_rule")
        .import(&s(&rule, "id"))
        .await
        .unwrap_err();
    assert!(err.message.contains("ingress rule"), "{}", err.message);

    // The internet gateway moves to VPC B in place (detach, attach).
    let igw = igw_rt
        .update(&igw, &set(&igw, "vpc_id", v(&b)))
        .await
        .expect("move igw");
    let live = ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&igw_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(b.as_str())
    );

    // Deleted behind dumcel's back: each reads as gone (so a plan creates it
    // again), and deleting it again is no error.
    ec2.revoke_security_group_ingress()
        .group_id(&sg_id)
        .security_group_rule_ids(s(&rule, "id"))
        .send()
        .await
        .unwrap();
    assert!(in_rt.read(&rule).await.unwrap().is_none());
    in_rt.delete(&rule).await.expect("delete rule again");
    ec2.delete_route()
        .route_table_id(&t2_id)
        .destination_cidr_block("10.51.0.0/16")
        .send()
        .await
        .unwrap();
    assert!(route_rt.read(&r).await.unwrap().is_none());
    route_rt.delete(&r).await.expect("delete route again");
    ec2.disassociate_route_table()
        .association_id(s(&moved, "id"))
        .send()
        .await
        .unwrap();
    assert!(assoc_rt.read(&moved).await.unwrap().is_none());
    assoc_rt
        .delete(&moved)
        .await
        .expect("delete association again");

    // Tear down through the types; each ends gone.
    nat_rt.delete(&nat).await.expect("delete nat");
    assert!(nat_rt.read(&nat).await.unwrap().is_none());
    eip_rt.delete(&eip).await.expect("delete eip");
    assert!(eip_rt.read(&eip).await.unwrap().is_none());
    env.resource("aws_security_group")
        .delete(&sg)
        .await
        .expect("delete group");
    for t in [&t1, &t2] {
        table_rt.delete(t).await.expect("delete table");
        assert!(table_rt.read(t).await.unwrap().is_none());
    }
    ec2.delete_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx)
        .send()
        .await
        .unwrap();
    igw_rt.delete(&igw).await.expect("delete igw");
    assert!(igw_rt.read(&igw).await.unwrap().is_none());
    sn_rt.delete(&sn).await.expect("delete subnet");
    assert!(sn_rt.read(&sn).await.unwrap().is_none());
    for x in [&vpc_a, &vpc_b] {
        vpc_rt.delete(x).await.expect("delete vpc");
        assert!(vpc_rt.read(x).await.unwrap().is_none());
        vpc_rt.delete(x).await.expect("delete vpc again");
    }
}

#[tokio::test]
async fn region_and_availability_zones_data_sources() {
    let env = Env::new().await;
    let region = env.data("aws_region");
    let mine = region.read(&obj(&[])).await.expect("configured region");
    assert_eq!(s(&mine, "name"), REGION);
    assert_eq!(s(&mine, "id"), REGION);
    assert_eq!(s(&mine, "endpoint"), "ec2.us-east-1.amazonaws.com");
    let other = region
        .read(&obj(&[("name", v("eu-west-1"))]))
        .await
        .expect("by name");
    assert_eq!(s(&other, "description"), "Europe (Ireland)");
    let by_endpoint = region
        .read(&obj(&[("endpoint", v("ec2.ap-northeast-1.amazonaws.com"))]))
        .await
        .expect("by endpoint");
    assert_eq!(s(&by_endpoint, "name"), "ap-northeast-1");
    assert!(region.read(&obj(&[("name", v("Ireland"))])).await.is_err());

    let azs = env.data("aws_availability_zones");
    let all = azs
        .read(&obj(&[("state", v("available"))]))
        .await
        .expect("zones");
    let names: Vec<String> = all
        .get("names")
        .and_then(Value::as_list)
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect();
    let ids = all.get("zone_ids").and_then(Value::as_list).unwrap();
    assert!(names.len() >= 2 && names.len() == ids.len(), "{all}");
    assert!(names.iter().all(|n| n.starts_with(REGION)), "{names:?}");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let fewer = azs
        .read(&obj(&[("exclude_names", Value::List(vec![v(&names[0])]))]))
        .await
        .expect("zones but one");
    assert_eq!(
        fewer
            .get("names")
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(names.len() - 1)
    );
}
