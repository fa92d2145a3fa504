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
    // moto keeps a service's first deployment entry, so the rollout of
    // revision 2 never shows: waiting for it ends at the `timeouts` limit,
    // with the update made and the last state seen in the error.
    let mut waiting = svc_cfg(&s(&td2, "arn"), 2.0);
    if let Value::Map(m) = &mut waiting {
        m.insert(
            "timeouts".into(),
            Value::List(vec![obj(&[("update", Value::string("3s"))])]),
        );
    }
    let err = svc_rt
        .update(&drifted, &waiting)
        .await
        .expect_err("moto never rolls out a second deployment");
    assert!(
        err.message
            .contains("did not finish rolling out within 3s: no deployment of"),
        "{}",
        err.message
    );
    let updated = svc_rt.read(&drifted).await.unwrap().unwrap();
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

/// An ECS object's tags as ECS holds them.
async fn ecs_tags_of(env: &Env, arn: &str) -> std::collections::BTreeMap<String, String> {
    env.ecs()
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags")
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect()
}

/// Retags `arn` behind dumcel's back: `team` changed, `rogue` added, `env` removed.
async fn retag_behind_back(env: &Env, arn: &str) {
    let tag = |k: &str, v: &str| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build();
    env.ecs()
        .tag_resource()
        .resource_arn(arn)
        .tags(tag("team", "ops"))
        .tags(tag("rogue", "x"))
        .send()
        .await
        .expect("tag behind dumcel's back");
    env.ecs()
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("env")
        .send()
        .await
        .expect("untag behind dumcel's back");
}

#[tokio::test]
async fn cluster_and_task_definition_tag_drift_is_updated_in_place() {
    use common::walk::{apply_plan, attr, changes, plan_apply, plan_of, want};
    use dumcel_planner::Action;

    let env = Env::new().await;
    let cname = unique("tagged");
    let family = unique("tagged");
    let dir = tempfile::tempdir().unwrap();
    let hcl = r#"
provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    ecs = "@ENDPOINT@"
  }
  default_tags {
    tags = { owner = "dumcel" }
  }
}

resource "aws_ecs_cluster" "c" {
  name = "@CLUSTER@"
  tags = { team = "web", env = "dev" }
}

resource "aws_ecs_task_definition" "t" {
  family                = "@FAMILY@"
  container_definitions = jsonencode([{ name = "app", image = "app:1", essential = true, memory = 256 }])
  tags                  = { team = "web", env = "dev" }
}
"#
    .replace("@ENDPOINT@", &env.endpoint)
    .replace("@CLUSTER@", &cname)
    .replace("@FAMILY@", &family);
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();
    let all: std::collections::BTreeMap<String, String> =
        [("team", "web"), ("env", "dev"), ("owner", "dumcel")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();

    let (state, _) = plan_apply(dir.path(), dumcel_state::State::new(), false).await;
    let cluster_arn = attr(&state, "aws_ecs_cluster.c", "arn");
    let td_arn = attr(&state, "aws_ecs_task_definition.t", "arn");
    assert_eq!(ecs_tags_of(&env, &cluster_arn).await, all);
    assert_eq!(ecs_tags_of(&env, &td_arn).await, all);
    for addr in ["aws_ecs_cluster.c", "aws_ecs_task_definition.t"] {
        let recorded = &state.resources[addr].attributes;
        assert_eq!(
            recorded["tags"],
            serde_json::json!({"team": "web", "env": "dev"}),
            "{addr}"
        );
    }

    retag_behind_back(&env, &cluster_arn).await;
    retag_behind_back(&env, &td_arn).await;
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    // In place: a task definition revision is not replaced for its tags.
    assert_eq!(
        changes(&p),
        want(&[
            ("aws_ecs_cluster.c", Action::Update),
            ("aws_ecs_task_definition.t", Action::Update),
        ])
    );
    let (state, report) = apply_plan(stack, p, state, false).await;
    assert_eq!((report.added, report.changed, report.destroyed), (0, 2, 0));
    assert_eq!(ecs_tags_of(&env, &cluster_arn).await, all);
    assert_eq!(ecs_tags_of(&env, &td_arn).await, all);
    assert_eq!(attr(&state, "aws_ecs_task_definition.t", "arn"), td_arn);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    plan_apply(dir.path(), state, true).await;
    let left = env
        .ecs()
        .describe_clusters()
        .clusters(&cname)
        .send()
        .await
        .expect("describe clusters");
    assert!(
        left.clusters()
            .iter()
            .all(|c| c.status() == Some("INACTIVE")),
        "{left:?}"
    );
}
