//! CloudFront: aws_cloudfront_origin_access_control and
//! aws_cloudfront_distribution serving a private S3 bucket (the bucket's
//! policy allows only cloudfront.amazonaws.com for this distribution), end
//! to end through the engine's plan and apply walks against moto, checked
//! through aws-sdk-cloudfront.
//!
//! What moto (5.2) does not do, and these tests live with: a distribution's
//! origins come back without `OriginAccessControlId` (the provider keeps the
//! recorded value when the element is missing, since CloudFront always
//! answers it), so an import cannot read it and its first plan sets it
//! again; the viewer certificate always comes back with `SSLSupportMethod`
//! `sni-only`, even with CloudFront's default certificate (shown by import,
//! which has no configuration to narrow the answer to); a distribution is
//! `Deployed` as soon as it is read after a change, so waits end at once;
//! `IfMatch` is required but its value is not checked; an origin access
//! control still used by a distribution can be deleted; an S3 origin's
//! domain is only checked to end in `amazonaws.com`. aws_s3_bucket has no
//! `bucket_regional_domain_name` yet, so the origin uses `bucket_domain_name`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::walk::*;
use common::*;
use dumcel_planner::Action;
use dumcel_state::State;

fn cf(env: &Env) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(&env.sdk)
}

struct Knobs {
    comment: &'static str,
    price_class: &'static str,
    description: &'static str,
    env: &'static str,
}

const FIRST: Knobs = Knobs {
    comment: "the site",
    price_class: "PriceClass_100",
    description: "signs requests to the site bucket",
    env: "one",
};

const CHANGED: Knobs = Knobs {
    comment: "the site, changed",
    price_class: "PriceClass_200",
    description: "signs requests, changed",
    env: "two",
};

fn write_stack(dir: &Path, endpoint: &str, name: &str, k: &Knobs) {
    let hcl = format!(
        r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    s3         = "{endpoint}"
    cloudfront = "{endpoint}"
  }}
}}

resource "aws_s3_bucket" "site" {{
  bucket        = "{name}"
  force_destroy = true
}}

resource "aws_cloudfront_origin_access_control" "site" {{
  name                              = "{name}"
  description                       = "{description}"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}}

locals {{
  origin = "s3-{name}"
}}

resource "aws_cloudfront_distribution" "site" {{
  enabled             = true
  comment             = "{comment}"
  default_root_object = "index.html"
  price_class         = "{price_class}"
  is_ipv6_enabled     = true

  origin {{
    domain_name              = aws_s3_bucket.site.bucket_domain_name
    origin_id                = local.origin
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }}

  default_cache_behavior {{
    target_origin_id       = local.origin
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    compress               = true
  }}

  ordered_cache_behavior {{
    path_pattern           = "/assets/*"
    target_origin_id       = local.origin
    viewer_protocol_policy = "https-only"
    allowed_methods        = ["GET", "HEAD", "OPTIONS"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  }}

  custom_error_response {{
    error_code         = 404
    response_code      = 200
    response_page_path = "/index.html"
  }}

  restrictions {{
    geo_restriction {{
      restriction_type = "none"
    }}
  }}

  viewer_certificate {{
    cloudfront_default_certificate = true
  }}

  tags = {{
    env = "{env}"
  }}
}}

resource "aws_s3_bucket_policy" "site" {{
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "AllowCloudFront"
      Effect    = "Allow"
      Principal = {{ Service = "cloudfront.amazonaws.com" }}
      Action    = "s3:GetObject"
      Resource  = "${{aws_s3_bucket.site.arn}}/*"
      Condition = {{
        StringEquals = {{ "AWS:SourceArn" = aws_cloudfront_distribution.site.arn }}
      }}
    }}]
  }})
}}
"#,
        comment = k.comment,
        price_class = k.price_class,
        description = k.description,
        env = k.env,
    );
    std::fs::write(dir.join("main.hcl"), hcl).expect("write main.hcl");
}

const OAC: &str = "aws_cloudfront_origin_access_control.site";
const DIST: &str = "aws_cloudfront_distribution.site";

async fn dist_config(
    c: &aws_sdk_cloudfront::Client,
    id: &str,
) -> (aws_sdk_cloudfront::types::DistributionConfig, String) {
    let out = c.get_distribution_config().id(id).send().await.unwrap();
    (
        out.distribution_config.expect("a configuration"),
        out.e_tag.unwrap_or_default(),
    )
}

async fn dist_tags(c: &aws_sdk_cloudfront::Client, arn: &str) -> BTreeMap<String, String> {
    let out = c
        .list_tags_for_resource()
        .resource(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .map(|t| t.items())
        .unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn static_site_distribution_applies_drifts_imports_and_destroys() {
    let env = Env::new().await;
    let c = cf(&env);
    let name = unique("site");
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), &env.endpoint, &name, &FIRST);

    // Apply from nothing: bucket, control, distribution, bucket policy.
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 4, "{report:?}");

    // Read back through the SDK.
    let oac_id = attr(&state, OAC, "id");
    let oac = c
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .unwrap();
    let oc = oac
        .origin_access_control()
        .and_then(|o| o.origin_access_control_config())
        .unwrap();
    assert_eq!(oc.name(), name);
    assert_eq!(oc.description(), Some(FIRST.description));
    assert_eq!(oc.signing_behavior().as_str(), "always");
    assert_eq!(oc.signing_protocol().as_str(), "sigv4");
    assert_eq!(oc.origin_access_control_origin_type().as_str(), "s3");
    assert_eq!(attr(&state, OAC, "etag"), oac.e_tag().unwrap());

    let id = attr(&state, DIST, "id");
    let d = c.get_distribution().id(&id).send().await.unwrap();
    let dist = d.distribution().unwrap();
    assert_eq!(
        dist.status(),
        "Deployed",
        "create waited for the deployment"
    );
    assert_eq!(attr(&state, DIST, "status"), "Deployed");
    assert_eq!(attr(&state, DIST, "arn"), dist.arn());
    assert_eq!(attr(&state, DIST, "domain_name"), dist.domain_name());
    assert!(dist.domain_name().ends_with(".cloudfront.net"));
    assert_eq!(attr(&state, DIST, "hosted_zone_id"), "Z2FDTNDATAQYW2");
    let cfg = dist.distribution_config().unwrap();
    assert_eq!(
        attr(&state, DIST, "caller_reference"),
        cfg.caller_reference()
    );
    assert!(cfg.enabled());
    assert_eq!(cfg.comment(), FIRST.comment);
    assert_eq!(cfg.default_root_object(), Some("index.html"));
    assert_eq!(
        cfg.price_class().map(|p| p.as_str()),
        Some("PriceClass_100")
    );
    assert_eq!(cfg.is_ipv6_enabled(), Some(true));
    let origin = &cfg.origins().unwrap().items()[0];
    assert_eq!(origin.id(), format!("s3-{name}"));
    assert_eq!(origin.domain_name(), format!("{name}.s3.amazonaws.com"));
    let dcb = cfg.default_cache_behavior().unwrap();
    assert_eq!(dcb.target_origin_id(), format!("s3-{name}"));
    assert_eq!(dcb.viewer_protocol_policy().as_str(), "redirect-to-https");
    assert_eq!(
        dcb.cache_policy_id(),
        Some("658327ea-f89d-4fab-a63d-7e88639e58f6")
    );
    assert_eq!(dcb.compress(), Some(true));
    let ordered = cfg.cache_behaviors().unwrap().items();
    assert_eq!(ordered.len(), 1);
    assert_eq!(ordered[0].path_pattern(), "/assets/*");
    assert_eq!(ordered[0].viewer_protocol_policy().as_str(), "https-only");
    assert_eq!(
        ordered[0].allowed_methods().map(|m| m.items().len()),
        Some(3)
    );
    let errors = cfg.custom_error_responses().unwrap().items();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_code(), 404);
    assert_eq!(errors[0].response_code(), Some("200"));
    assert_eq!(errors[0].response_page_path(), Some("/index.html"));
    assert_eq!(
        cfg.viewer_certificate()
            .and_then(|v| v.cloud_front_default_certificate()),
        Some(true)
    );
    assert_eq!(
        dist_tags(&c, dist.arn())
            .await
            .get("env")
            .map(String::as_str),
        Some("one")
    );
    let policy = env
        .s3()
        .get_bucket_policy()
        .bucket(&name)
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(policy.policy().unwrap()).expect("JSON policy");
    assert_eq!(
        policy["Statement"][0]["Principal"]["Service"],
        "cloudfront.amazonaws.com"
    );
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"],
        dist.arn()
    );

    // Nothing to do.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Comment, price class, tags and the control's description change in
    // place: the same distribution, its caller reference kept.
    write_stack(dir.path(), &env.endpoint, &name, &CHANGED);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(OAC, Action::Update), (DIST, Action::Update)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(attr(&state, DIST, "id"), id);
    assert_eq!(attr(&state, OAC, "id"), oac_id);
    let (cfg, _) = dist_config(&c, &id).await;
    assert_eq!(cfg.comment(), CHANGED.comment);
    assert_eq!(
        cfg.price_class().map(|p| p.as_str()),
        Some("PriceClass_200")
    );
    assert_eq!(
        attr(&state, DIST, "caller_reference"),
        cfg.caller_reference()
    );
    let arn = attr(&state, DIST, "arn");
    assert_eq!(
        dist_tags(&c, &arn).await.get("env").map(String::as_str),
        Some("two")
    );
    let oac = c
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        oac.origin_access_control()
            .and_then(|o| o.origin_access_control_config())
            .and_then(|c| c.description()),
        Some(CHANGED.description)
    );
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Drift: the comment and the control's description changed behind
    // dumcel's back are found and put back.
    let (mut cfg, etag) = dist_config(&c, &id).await;
    cfg.comment = "changed by hand".into();
    c.update_distribution()
        .id(&id)
        .if_match(etag)
        .distribution_config(cfg)
        .send()
        .await
        .unwrap();
    let oac_etag = c
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .unwrap()
        .e_tag
        .unwrap_or_default();
    c.update_origin_access_control()
        .id(&oac_id)
        .if_match(oac_etag)
        .origin_access_control_config(
            aws_sdk_cloudfront::types::OriginAccessControlConfig::builder()
                .name(&name)
                .description("by hand")
                .signing_behavior(
                    aws_sdk_cloudfront::types::OriginAccessControlSigningBehaviors::Always,
                )
                .signing_protocol(
                    aws_sdk_cloudfront::types::OriginAccessControlSigningProtocols::Sigv4,
                )
                .origin_access_control_origin_type(
                    aws_sdk_cloudfront::types::OriginAccessControlOriginTypes::S3,
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(OAC, Action::Update), (DIST, Action::Update)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(dist_config(&c, &id).await.0.comment(), CHANGED.comment);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Import both by id. The control reads back whole: no change. The
    // distribution's origin access control id and certificate settings
    // differ on moto (see the top comment), so its first plan is an update
    // of those two blocks only, after which nothing is left to do.
    std::fs::write(
        dir.path().join("imports.hcl"),
        format!(
            "import {{\n  to = {OAC}\n  id = \"{oac_id}\"\n}}\n\
             import {{\n  to = {DIST}\n  id = \"{id}\"\n}}\n"
        ),
    )
    .unwrap();
    let mut forgotten = state.clone();
    forgotten.resources.remove(OAC);
    forgotten.resources.remove(DIST);
    let (stack, p) = plan_of(dir.path(), &forgotten, false).await;
    let change = |a: &str| {
        p.plan
            .changes
            .iter()
            .find(|ch| ch.address == a)
            .unwrap_or_else(|| panic!("no change for {a}"))
            .clone()
    };
    let oc = change(OAC);
    assert_eq!(oc.importing.as_deref(), Some(oac_id.as_str()));
    assert_eq!(oc.action, Action::NoOp, "{:?}\n{:?}", oc.before, oc.after);
    let dc = change(DIST);
    assert_eq!(dc.importing.as_deref(), Some(id.as_str()));
    let (before, after) = (dc.before.clone().unwrap(), dc.after.clone().unwrap());
    let differing: Vec<String> =
        dumcel_planner::diff::changed_names(&after, before.as_map().unwrap());
    assert_eq!(dc.action, Action::Update);
    assert_eq!(
        differing,
        ["origin", "viewer_certificate"],
        "before {before:?}\nafter {after:?}"
    );
    let (imported, _) = apply_plan(stack, p, forgotten, false).await;
    assert_eq!(attr(&imported, DIST, "id"), id);
    assert_eq!(attr(&imported, DIST, "arn"), arn);
    assert_eq!(attr(&imported, OAC, "id"), oac_id);
    let (_, again) = plan_of(dir.path(), &imported, false).await;
    assert_eq!(changes(&again), BTreeMap::new());
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();

    // Destroy disables, waits, deletes: nothing is left.
    let (state, report) = plan_apply(dir.path(), imported, true).await;
    assert_eq!(report.destroyed, 4, "{report:?}");
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let gone = c.get_distribution().id(&id).send().await.unwrap_err();
    assert!(
        gone.into_service_error().is_no_such_distribution(),
        "the distribution is gone"
    );
    let gone = c
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .unwrap_err();
    assert!(
        gone.into_service_error().is_no_such_origin_access_control(),
        "the control is gone"
    );
}

/// Without the stack: an argument the provider does not support is an
/// error naming it, a retained distribution is only disabled, and wrong
/// import ids say what is expected.
#[tokio::test(flavor = "multi_thread")]
async fn unsupported_arguments_retain_on_delete_and_import_ids() {
    let env = Env::new().await;
    let c = cf(&env);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("site");
    write_stack(dir.path(), &env.endpoint, &name, &FIRST);
    let text = std::fs::read_to_string(dir.path().join("main.hcl")).unwrap();
    let text = text.replace(
        "  is_ipv6_enabled     = true\n",
        "  is_ipv6_enabled     = true\n  web_acl_id          = \"arn:aws:wafv2:acl\"\n",
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let path = dir.path().to_owned();
    let got = tokio::spawn(async move {
        let _ = plan_of(&path, &State::new(), false).await;
    })
    .await;
    let got = match got {
        Ok(()) => "the plan succeeded".to_owned(),
        Err(e) => panic_text(e),
    };
    assert!(got.contains("Unsupported argument \"web_acl_id\""), "{got}");

    let rt = env.resource("aws_cloudfront_distribution");
    assert!(rt.import("a/b").await.is_err());
    let ort = env.resource("aws_cloudfront_origin_access_control");
    assert!(ort.import("").await.is_err());

    // retain_on_delete: destroy leaves the distribution, disabled.
    let v = dumcel_planner::Value::string;
    let list = |o: dumcel_planner::Value| dumcel_planner::Value::List(vec![o]);
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("enabled", dumcel_planner::Value::Bool(true)),
            ("retain_on_delete", dumcel_planner::Value::Bool(true)),
            (
                "origin",
                list(obj(&[
                    ("domain_name", v("www.example.com")),
                    ("origin_id", v("web")),
                    (
                        "custom_origin_config",
                        list(obj(&[
                            ("http_port", dumcel_planner::Value::Number(80.0)),
                            ("https_port", dumcel_planner::Value::Number(443.0)),
                            ("origin_protocol_policy", v("https-only")),
                            (
                                "origin_ssl_protocols",
                                dumcel_planner::Value::List(vec![v("TLSv1.2")]),
                            ),
                        ])),
                    ),
                ])),
            ),
            (
                "default_cache_behavior",
                list(obj(&[
                    ("target_origin_id", v("web")),
                    ("viewer_protocol_policy", v("allow-all")),
                    (
                        "allowed_methods",
                        dumcel_planner::Value::List(vec![v("GET"), v("HEAD")]),
                    ),
                    (
                        "cached_methods",
                        dumcel_planner::Value::List(vec![v("GET"), v("HEAD")]),
                    ),
                    (
                        "forwarded_values",
                        list(obj(&[
                            ("query_string", dumcel_planner::Value::Bool(false)),
                            ("cookies", list(obj(&[("forward", v("none"))]))),
                        ])),
                    ),
                ])),
            ),
            (
                "restrictions",
                list(obj(&[(
                    "geo_restriction",
                    list(obj(&[
                        ("restriction_type", v("whitelist")),
                        (
                            "locations",
                            dumcel_planner::Value::List(vec![v("CA"), v("US")]),
                        ),
                    ])),
                )])),
            ),
            (
                "viewer_certificate",
                list(obj(&[(
                    "cloudfront_default_certificate",
                    dumcel_planner::Value::Bool(true),
                )])),
            ),
        ]),
    );
    assert!(rt.validate(&cfg).is_empty(), "{:?}", rt.validate(&cfg));
    let made = rt.create(&cfg).await.expect("create");
    assert_eq!(rt.read(&made).await.unwrap().unwrap(), made, "no drift");
    let id = s(&made, "id");
    let (dc, _) = dist_config(&c, &id).await;
    let o = &dc.origins().unwrap().items()[0];
    let custom = o.custom_origin_config().expect("a custom origin");
    assert_eq!(custom.origin_protocol_policy().as_str(), "https-only");
    assert_eq!(
        dc.restrictions()
            .and_then(|r| r.geo_restriction())
            .map(|g| g.items().to_vec()),
        Some(vec!["CA".to_owned(), "US".to_owned()])
    );
    rt.delete(&made).await.expect("retained");
    let (dc, etag) = dist_config(&c, &id).await;
    assert!(!dc.enabled(), "disabled, not deleted");
    c.delete_distribution()
        .id(&id)
        .if_match(etag)
        .send()
        .await
        .unwrap();
    assert!(rt.read(&made).await.unwrap().is_none(), "reads as gone");
    rt.delete(&made)
        .await
        .expect("deleting a gone distribution");
}

/// The message of a task's panic (the walks panic with the engine's
/// diagnostics).
fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
        Err(e) => e.to_string(),
    }
}
