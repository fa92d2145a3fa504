//! The reference stack, examples/stack.hcl, through the engine as a library
//! against moto: it applies from nothing, a second plan finds nothing to do
//! (every type reads back what it recorded), its ALB routes the app's host
//! name to the ECS service's target group, and it destroys to nothing.
//!
//! The stack's own `provider "aws"` block is used, so the SDK must be pointed
//! at moto by the environment (dev/test.sh does): AWS_ENDPOINT_URL on
//! loopback and fake keys.

mod common;

use std::path::Path;
use std::sync::Arc;

use dumcel_engine::apply::{ApplyOptions, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::configure::configure_providers;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::{PlanOptions, Planned, Refreshed, plan, refresh};
use dumcel_engine::provider::Registry;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::{CliVar, resolve};
use dumcel_planner::Action;
use dumcel_state::State;

fn load(name: &str, image_tag: &str) -> Arc<Stack> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut sources = SourceMap::default();
    let module = load_module(&dir, &mut sources).unwrap_or_else(|d| panic!("{d}"));
    let vars = resolve(
        &module,
        &mut sources,
        &[
            CliVar::Pair("name".into(), name.into()),
            CliVar::Pair("image_tag".into(), image_tag.into()),
        ],
        &[],
        None,
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let mut registry = Registry::new();
    dumcel_engine::builtin::register(&mut registry);
    dumcel_provider_aws::register(&mut registry);
    Arc::new(
        Stack::new(module, sources, registry, vars, "default").unwrap_or_else(|d| panic!("{d}")),
    )
}

async fn make_plan(stack: &Stack, state: &State, destroy: bool) -> Planned {
    let opts = PlanOptions {
        destroy,
        ..PlanOptions::default()
    };
    let refreshed = if state.resources.is_empty() {
        Refreshed::default()
    } else {
        refresh(&stack.registry, state, opts.parallelism, &Silent)
            .await
            .unwrap_or_else(|d| panic!("{d}"))
    };
    let (plan, values) = plan(stack, state, &refreshed, &opts)
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    Planned {
        plan,
        values,
        refreshed,
    }
}

async fn run(stack: &Arc<Stack>, planned: Planned, state: State, destroy: bool) -> State {
    let opts = ApplyOptions {
        destroy,
        ..ApplyOptions::default()
    };
    let (state, report) = apply(stack.clone(), planned, state, None, Arc::new(Silent), &opts).await;
    assert!(
        report.failed.is_empty() && report.skipped.is_empty(),
        "failed: {:#?}\nskipped: {:?}",
        report.failed,
        report.skipped
    );
    state
}

fn attr(state: &State, address: &str, key: &str) -> String {
    state
        .resources
        .get(address)
        .and_then(|r| r.attributes.get(key))
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{address}.{key} not in state"))
        .to_owned()
}

#[tokio::test]
async fn reference_stack_applies_plans_clean_and_destroys() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1"),
        "this test applies examples/stack.hcl with its own provider block: set \
         AWS_ENDPOINT_URL to moto on loopback (dev/services/moto.sh prints it) and \
         AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION, as dev/test.sh does"
    );
    let env = common::Env::new().await;
    let name = common::unique("ex");
    let stack = load(&name, "v1");
    let state = State::new();
    configure_providers(&stack, &state)
        .await
        .unwrap_or_else(|d| panic!("{d}"));

    let planned = make_plan(&stack, &state, false).await;
    let state = run(&stack, planned, state, false).await;

    // Nothing to do the second time: every type reads back what it recorded.
    let again = make_plan(&stack, &state, false).await;
    assert!(
        again.plan.drift.is_empty(),
        "drift right after apply: {:#?}",
        again.plan.drift
    );
    let pending: Vec<_> = again
        .plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| (&c.address, c.action, &c.before, &c.after))
        .collect();
    assert!(
        pending.is_empty(),
        "changes right after apply: {pending:#?}"
    );

    // The outputs, and the routing the ALB got.
    let url = state.outputs.get("url").map(|o| o.value.clone());
    assert_eq!(
        url,
        Some(serde_json::json!(format!("http://{name}.dumcel.test/")))
    );
    let dns = state.outputs.get("lb_dns_name").map(|o| o.value.clone());
    assert_eq!(
        dns.as_ref().and_then(|v| v.as_str()),
        Some(attr(&state, "aws_lb.main", "dns_name").as_str())
    );
    let rule_arn = attr(&state, "aws_lb_listener_rule.app", "arn");
    let tg_arn = attr(&state, "aws_lb_target_group.app", "arn");
    let rules = env
        .elbv2()
        .describe_rules()
        .rule_arns(&rule_arn)
        .send()
        .await
        .expect("describe rule");
    let rule = &rules.rules()[0];
    let hosts: Vec<String> = rule
        .conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values().to_vec())
        .collect();
    assert_eq!(hosts, [format!("{name}.dumcel.test")]);
    assert_eq!(rule.actions()[0].target_group_arn(), Some(tg_arn.as_str()));
    let services = env
        .ecs()
        .describe_services()
        .cluster(attr(&state, "aws_ecs_cluster.main", "arn"))
        .services("app")
        .send()
        .await
        .expect("describe service");
    let lbs = services.services()[0].load_balancers();
    assert_eq!(lbs.len(), 1);
    assert_eq!(lbs[0].target_group_arn(), Some(tg_arn.as_str()));
    assert_eq!(lbs[0].container_port(), Some(8080));

    // A new image: a new task definition revision and the service updated in
    // place to it; the ALB and its routing are left alone.
    let v2 = load(&name, "v2");
    configure_providers(&v2, &state)
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    let planned = make_plan(&v2, &state, false).await;
    let action = |address: &str| {
        planned
            .plan
            .changes
            .iter()
            .find(|c| c.address == address)
            .map(|c| c.action)
    };
    assert_eq!(action("aws_ecs_service.app"), Some(Action::Update));
    for lb in [
        "aws_lb.main",
        "aws_lb_target_group.app",
        "aws_lb_listener.http",
        "aws_lb_listener_rule.app",
    ] {
        assert_eq!(action(lb), Some(Action::NoOp), "{lb}");
    }
    let state = run(&v2, planned, state, false).await;
    let td = attr(&state, "aws_ecs_task_definition.app", "arn");
    assert!(td.ends_with(":2"), "{td}");

    let planned = make_plan(&stack, &state, true).await;
    let state = run(&stack, planned, state, true).await;
    assert!(
        state.resources.is_empty(),
        "left after destroy: {:?}",
        state.resources.keys().collect::<Vec<_>>()
    );
    let gone = env
        .elbv2()
        .describe_load_balancers()
        .names(&name)
        .send()
        .await;
    assert!(gone.is_err(), "the ALB is gone after destroy: {gone:?}");
}
