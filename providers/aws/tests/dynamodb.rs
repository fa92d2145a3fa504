//! aws_dynamodb_table against moto, checked with the SDK.

mod common;

use common::*;
use dumcel_planner::Value;

#[tokio::test]
async fn table_with_range_key_and_ttl() {
    let env = Env::new().await;
    let rt = env.resource("aws_dynamodb_table");
    let name = unique("table");
    let attr = |n: &str, t: &str| obj(&[("name", Value::string(n)), ("type", Value::string(t))]);
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(&name)),
            ("billing_mode", Value::string("PAY_PER_REQUEST")),
            ("hash_key", Value::string("pk")),
            ("range_key", Value::string("sk")),
            (
                "attribute",
                Value::List(vec![attr("pk", "S"), attr("sk", "N")]),
            ),
            (
                "ttl",
                Value::List(vec![obj(&[
                    ("attribute_name", Value::string("expires")),
                    ("enabled", Value::Bool(true)),
                ])]),
            ),
        ]),
    );
    let made = rt.create(&cfg).await.expect("create");
    let t = env
        .dynamodb()
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    assert_eq!(t.key_schema().len(), 2);
    let ttl = env
        .dynamodb()
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expires")
    );
    assert_eq!(rt.read(&made).await.unwrap().unwrap(), made);

    // In place: switch to provisioned capacity.
    let mut changed = made.clone();
    if let Value::Map(m) = &mut changed {
        m.insert("billing_mode".into(), Value::string("PROVISIONED"));
        m.insert("read_capacity".into(), Value::Number(2.0));
        m.insert("write_capacity".into(), Value::Number(3.0));
    }
    let updated = rt.update(&made, &changed).await.expect("update");
    assert_eq!(s(&updated, "billing_mode"), "PROVISIONED");

    rt.delete(&updated).await.expect("delete");
    assert!(rt.read(&updated).await.unwrap().is_none());
}

#[tokio::test]
async fn find_table_by_name() {
    let env = Env::new().await;
    let rt = env.resource("aws_dynamodb_table");
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("find"))),
            ("billing_mode", Value::string("PAY_PER_REQUEST")),
            ("hash_key", Value::string("pk")),
            (
                "attribute",
                Value::List(vec![obj(&[
                    ("name", Value::string("pk")),
                    ("type", Value::string("S")),
                ])]),
            ),
        ]),
    );
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    let got = found(rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "id"), s(&made, "id"));
    assert_eq!(s(&got, "arn"), s(&made, "arn"));
    rt.delete(&made).await.expect("delete");
    found_nothing(rt.as_ref(), &cfg).await;
}
