//! aws_ecs_cluster, aws_ecs_task_definition and aws_ecs_service against moto
//! (started with MOTO_ECS_SERVICE_RUNNING so services report tasks running).

mod common;

use common::*;
use dumcel_planner::Value;

fn containers(image: &str) -> String {
    format!(
        r#"[{{"name":"app","image":"{image}","essential":true,"memory":256,
             "portMappings":[{{"containerPort":8080,"protocol":"tcp"}}]}}]"#
    )
}

#[tokio::test]
async fn cluster_task_definition_service_lifecycle() {
    let env = Env::new().await;
    let cluster_rt = env.resource("aws_ecs_cluster");
    let td_rt = env.resource("aws_ecs_task_definition");
    let svc_rt = env.resource("aws_ecs_service");

    let cname = unique("cluster");
    let cluster = cluster_rt
        .create(&planned(
            cluster_rt.as_ref(),
            obj(&[("name", Value::string(&cname))]),
        ))
        .await
        .expect("cluster");
    assert!(s(&cluster, "arn").contains(&cname));
    let imported = cluster_rt.import(&cname).await.expect("import cluster");
    assert_eq!(s(&imported, "arn"), s(&cluster, "arn"));

    let family = unique("family");
    let td_cfg = |image: &str| {
        planned(
            td_rt.as_ref(),
            obj(&[
                ("family", Value::string(&family)),
                ("container_definitions", Value::string(containers(image))),
                ("cpu", Value::string("256")),
                ("memory", Value::string("512")),
                ("network_mode", Value::string("awsvpc")),
                (
                    "requires_compatibilities",
                    Value::List(vec![Value::string("FARGATE")]),
                ),
            ]),
        )
    };
    let td1 = td_rt
        .create(&td_cfg("app:1"))
        .await
        .expect("task definition");
    assert_eq!(td1.get("revision"), Some(&Value::Number(1.0)));

    let svc_name = unique("svc");
    let svc_cfg = |td: &str, count: f64| {
        planned(
            svc_rt.as_ref(),
            obj(&[
                ("name", Value::string(&svc_name)),
                ("cluster", Value::string(s(&cluster, "arn"))),
                ("task_definition", Value::string(td)),
                ("desired_count", Value::Number(count)),
                ("launch_type", Value::string("FARGATE")),
                ("wait_for_steady_state", Value::Bool(true)),
                (
                    "deployment_circuit_breaker",
                    Value::List(vec![obj(&[
                        ("enable", Value::Bool(true)),
                        ("rollback", Value::Bool(true)),
                    ])]),
                ),
            ]),
        )
    };
    let svc = svc_rt
        .create(&svc_cfg(&s(&td1, "arn"), 2.0))
        .await
        .expect("service");
    assert_eq!(svc_rt.read(&svc).await.unwrap().unwrap(), svc);

    // Scaled outside dumcel: read shows it (drift), update repairs it.
    env.ecs()
        .update_service()
        .cluster(&cname)
        .service(&svc_name)
        .desired_count(0)
        .send()
        .await
        .unwrap();
    let drifted = svc_rt.read(&svc).await.unwrap().unwrap();
    assert_eq!(drifted.get("desired_count"), Some(&Value::Number(0.0)));

    // A new image: a new revision, and the service updated in place to it.
    let td2 = td_rt.create(&td_cfg("app:2")).await.expect("revision 2");
    assert_eq!(td2.get("revision"), Some(&Value::Number(2.0)));
    td_rt.delete(&td1).await.expect("deregister 1");
    assert!(td_rt.read(&td1).await.unwrap().is_none());
    let updated = svc_rt
        .update(&drifted, &svc_cfg(&s(&td2, "arn"), 2.0))
        .await
        .expect("update service");
    let live = env
        .ecs()
        .describe_services()
        .cluster(&cname)
        .services(&svc_name)
        .send()
        .await
        .unwrap();
    let live = &live.services()[0];
    assert_eq!(live.desired_count(), 2);
    assert_eq!(live.task_definition(), Some(s(&td2, "arn").as_str()));
    assert_eq!(s(&updated, "task_definition"), s(&td2, "arn"));

    svc_rt.delete(&updated).await.expect("delete service");
    assert!(svc_rt.read(&updated).await.unwrap().is_none());
    td_rt.delete(&td2).await.expect("deregister 2");
    cluster_rt.delete(&cluster).await.expect("delete cluster");
    assert!(cluster_rt.read(&cluster).await.unwrap().is_none());
}

#[tokio::test]
async fn bad_container_definitions_are_named_before_any_call() {
    let env = Env::new().await;
    let td_rt = env.resource("aws_ecs_task_definition");
    let errs = td_rt.validate(&obj(&[
        ("family", Value::string("x")),
        ("container_definitions", Value::string(r#"[{"name":"a"}]"#)),
    ]));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("\"image\" is required"), "{errs:?}");
}

#[tokio::test]
async fn find_cluster_task_definition_and_service() {
    let env = Env::new().await;
    let cluster_rt = env.resource("aws_ecs_cluster");
    let td_rt = env.resource("aws_ecs_task_definition");
    let svc_rt = env.resource("aws_ecs_service");

    let ccfg = planned(
        cluster_rt.as_ref(),
        obj(&[("name", Value::string(unique("find")))]),
    );
    found_nothing(cluster_rt.as_ref(), &ccfg).await;
    let cluster = cluster_rt.create(&ccfg).await.expect("cluster");
    assert_eq!(
        s(&found(cluster_rt.as_ref(), &ccfg).await, "arn"),
        s(&cluster, "arn")
    );

    // Task definitions: the latest ACTIVE revision, when it holds the
    // planned containers (ECS's defaults filled in do not count).
    let family = unique("find");
    let td_cfg = |image: &str| {
        planned(
            td_rt.as_ref(),
            obj(&[
                ("family", Value::string(&family)),
                ("container_definitions", Value::string(containers(image))),
                ("cpu", Value::string("256")),
                ("memory", Value::string("512")),
                (
                    "requires_compatibilities",
                    Value::List(vec![Value::string("FARGATE")]),
                ),
            ]),
        )
    };
    found_nothing(td_rt.as_ref(), &td_cfg("app:1")).await;
    let td1 = td_rt.create(&td_cfg("app:1")).await.expect("revision 1");
    let got = found(td_rt.as_ref(), &td_cfg("app:1")).await;
    assert_eq!(s(&got, "arn"), s(&td1, "arn"));
    assert_eq!(got.get("revision"), td1.get("revision"));
    // A new image was never registered: revision 1 is not it.
    found_nothing(td_rt.as_ref(), &td_cfg("app:2")).await;
    let td2 = td_rt.create(&td_cfg("app:2")).await.expect("revision 2");
    assert_eq!(
        s(&found(td_rt.as_ref(), &td_cfg("app:2")).await, "arn"),
        s(&td2, "arn")
    );
    // Only the latest revision counts.
    found_nothing(td_rt.as_ref(), &td_cfg("app:1")).await;
    td_rt.delete(&td2).await.expect("deregister 2");
    // Revision 2 deregistered: revision 1 is the latest ACTIVE one again.
    assert_eq!(
        s(&found(td_rt.as_ref(), &td_cfg("app:1")).await, "arn"),
        s(&td1, "arn")
    );

    let svc_cfg = planned(
        svc_rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("find"))),
            ("cluster", Value::string(s(&cluster, "arn"))),
            ("task_definition", Value::string(s(&td1, "arn"))),
            ("desired_count", Value::Number(1.0)),
            ("launch_type", Value::string("FARGATE")),
        ]),
    );
    found_nothing(svc_rt.as_ref(), &svc_cfg).await;
    let svc = svc_rt.create(&svc_cfg).await.expect("service");
    let got = found(svc_rt.as_ref(), &svc_cfg).await;
    assert_eq!(s(&got, "id"), s(&svc, "id"));
    assert_eq!(s(&got, "arn"), s(&svc, "arn"));
    // A deleted service (INACTIVE or DRAINING) is gone.
    svc_rt.delete(&svc).await.expect("delete service");
    found_nothing(svc_rt.as_ref(), &svc_cfg).await;

    td_rt.delete(&td1).await.expect("deregister 1");
    found_nothing(td_rt.as_ref(), &td_cfg("app:1")).await;
    // A deleted cluster lingers as INACTIVE: gone all the same.
    cluster_rt.delete(&cluster).await.expect("delete cluster");
    found_nothing(cluster_rt.as_ref(), &ccfg).await;
    // No cluster: no service in it either.
    found_nothing(svc_rt.as_ref(), &svc_cfg).await;
}
