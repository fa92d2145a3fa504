//! aws_security_group and the aws_vpc / aws_subnets data sources against moto's
//! default VPC.

mod common;

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
