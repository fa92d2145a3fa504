//! The ECS environments of a project share one platform
//! (examples/pipeline/platform, applied by the harness): one ALB, one HTTPS
//! listener with the wildcard certificate, one cluster. Each environment
//! (examples/pipeline/deploy) adds a host-name rule on that listener and a
//! service in that cluster, and takes only those with it when its branch is
//! deleted. The real `dumcel-pipeline worker` against tansu, dockerd, the
//! local registry and moto; every check reads ELBv2 and ECS themselves.

mod common;

use std::time::Duration;

use common::harness::{Harness, has, names_for};

const MINUTES: Duration = Duration::from_secs(240);

fn ended(events: &[serde_json::Value], sha: &str) -> bool {
    has(events, sha, "deploy_succeeded") || has(events, sha, "deploy_failed")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_environment_is_a_rule_and_a_service_on_the_shared_platform() {
    let mut h = Harness::new("");
    let main = h.head();
    let preview = h.commit("feature", "www/index.html", "a preview");
    h.produce(&h.push("main", &main, false)).await;
    h.produce(&h.push("feature", &preview, false)).await;
    let worker = h.worker();
    let events = h.events_until(&worker, MINUTES, |e| ended(e, &main) && ended(e, &preview));
    assert!(has(&events, &main, "deploy_succeeded"), "{events:#?}");
    assert!(has(&events, &preview, "deploy_succeeded"), "{events:#?}");

    // Both host names on the one HTTPS listener; both services in the one cluster.
    let production_host = format!("{}.apps.test", h.project);
    let preview_host = format!("feature--{}.apps.test", h.project);
    let mut both = vec![production_host.clone(), preview_host];
    both.sort();
    assert_eq!(h.served_hosts().await, both);
    assert_eq!(h.running_image("production").await.0, h.image(&main));
    assert_eq!(
        h.running_image("preview-feature").await.0,
        h.image(&preview)
    );
    // No load balancer of an environment's own.
    let aws = h.aws().await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&aws);
    let own = elb
        .describe_load_balancers()
        .names(format!("{}-production", h.project))
        .send()
        .await;
    assert!(
        own.map(|l| l.load_balancers().is_empty()).unwrap_or(true),
        "production has an ALB of its own"
    );

    // The branch is deleted: its rule, target group and service go;
    // production and the platform stay.
    h.delete_branch("feature");
    h.produce(&h.push("feature", &preview, true)).await;
    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &preview, "preview_destroyed") || names_for(e, &preview).len() > 7
    });
    assert!(has(&events, &preview, "preview_destroyed"), "{events:#?}");
    assert_eq!(h.served_hosts().await, [production_host]);
    assert!(!h.service_active("preview-feature").await);
    assert!(h.service_active("production").await);
    let tg = elb
        .describe_target_groups()
        .names(format!("{}-preview-feature-tg", h.project))
        .send()
        .await;
    assert!(
        tg.map(|t| t.target_groups().is_empty()).unwrap_or(true),
        "the preview's target group is left"
    );
}
