//! DNS and TLS: aws_route53_zone, aws_route53_record, aws_acm_certificate,
//! aws_acm_certificate_validation, HTTPS and redirects on aws_lb_listener,
//! and aws_lb_listener_certificate, end to end through the engine's plan
//! and apply walks (as the CLI runs them) against moto, checked through
//! aws-sdk-route53, aws-sdk-acm and aws-sdk-elasticloadbalancingv2.
//!
//! What moto (5.2) does and does not do, and these tests live with:
//! - ACM issues a DNS-validated certificate by the clock, not by its
//!   records: a `PENDING_VALIDATION` certificate reads as `ISSUED` once it
//!   is older than `MOTO_ACM_VALIDATION_WAIT` seconds (default 60; moto's
//!   `CertBundle.check`), so aws_acm_certificate_validation waits about a
//!   minute here. The validation record names are `_d930b28b....DOMAIN.`
//!   for every certificate, with the same value. `key_algorithm` is ignored
//!   (always RSA_2048). A certificate in use by a listener deletes anyway.
//!   An imported certificate's chain comes back with moto's root CA
//!   appended (so the chain is never read back), its body with a trailing
//!   newline.
//! - ELBv2 lists a listener's SNI certificates (added by
//!   AddListenerCertificates) in DescribeListeners too, the default one
//!   first, and answers an SSL policy for plain HTTP listeners.
//! - Route 53 changes are INSYNC at once; a DELETE must repeat a CREATE or
//!   UPSERT moto saw (so record sets are deleted as read back, as Terraform
//!   deletes them), and a CREATE it journaled before counts as a duplicate
//!   (so an update of the same name and type is one UPSERT); alias targets
//!   are not checked; StartRecordIdentifier is ignored; a private zone's
//!   last VPC cannot be disassociated (as in AWS).
//!
//! The stack test applies in two steps (the certificates first) to check
//! updates of each part; the one-step apply of the Terraform
//! documentation's pattern (`for_each` over `domain_validation_options`,
//! whose record names and values are known only at apply) is
//! `certificate_validated_in_one_apply`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::walk::*;
use common::*;
use dumcel_planner::Action;
use dumcel_state::State;

fn route53(env: &Env) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&env.sdk)
}

fn acm(env: &Env) -> aws_sdk_acm::Client {
    aws_sdk_acm::Client::new(&env.sdk)
}

struct Names {
    /// The zone's domain, lower case.
    domain: String,
    lb: String,
    stack: String,
}

impl Names {
    fn new() -> Names {
        let id = unique("dns");
        Names {
            domain: format!("{id}.example.com"),
            lb: unique("tls"),
            stack: id,
        }
    }
}

/// The stack: `validated` adds what needs the certificates' validation
/// records (see the top comment): the records, the validation, the HTTPS
/// listener and its extra certificate.
fn stack_hcl(endpoint: &str, n: &Names, comment: &str, txt: &str, validated: bool) -> String {
    let domain = &n.domain;
    let upper = domain.to_uppercase();
    let mut hcl = format!(
        r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    route53 = "{endpoint}"
    acm     = "{endpoint}"
    elbv2   = "{endpoint}"
    ec2     = "{endpoint}"
  }}
  default_tags {{
    tags = {{ stack = "{stack}" }}
  }}
}}

resource "aws_route53_zone" "main" {{
  name          = "{upper}."
  comment       = "{comment}"
  force_destroy = true
  tags = {{
    env = "test"
  }}
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.44.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.44.1.0/24"
  availability_zone = "us-east-1a"
}}

resource "aws_subnet" "b" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.44.2.0/24"
  availability_zone = "us-east-1b"
}}

resource "aws_route53_zone" "internal" {{
  name = "internal.{domain}"
  vpc {{
    vpc_id = aws_vpc.main.id
  }}
}}

resource "aws_acm_certificate" "app" {{
  domain_name               = "app.{domain}"
  subject_alternative_names = ["www.{domain}"]
  validation_method         = "DNS"
  tags = {{
    Name = "app"
  }}
  lifecycle {{
    create_before_destroy = true
  }}
}}

resource "aws_acm_certificate" "api" {{
  domain_name       = "api.{domain}"
  validation_method = "DNS"
}}

resource "aws_lb" "web" {{
  name    = "{lb}"
  subnets = [aws_subnet.a.id, aws_subnet.b.id]
}}

resource "aws_lb_listener" "http" {{
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"
  default_action {{
    type = "redirect"
    redirect {{
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }}
  }}
}}

resource "aws_route53_record" "app" {{
  zone_id = aws_route53_zone.main.zone_id
  name    = "app.{domain}"
  type    = "A"
  alias {{
    name                   = aws_lb.web.dns_name
    zone_id                = aws_lb.web.zone_id
    evaluate_target_health = true
  }}
}}

resource "aws_route53_record" "info" {{
  zone_id = aws_route53_zone.main.zone_id
  name    = "Info"
  type    = "TXT"
  ttl     = 300
  records = ["{txt}"]
}}
"#,
        stack = n.stack,
        lb = n.lb,
    );
    if validated {
        hcl.push_str(
            r#"
resource "aws_route53_record" "validation" {
  for_each = {
    for dvo in aws_acm_certificate.app.domain_validation_options : dvo.domain_name => {
      name   = dvo.resource_record_name
      record = dvo.resource_record_value
      type   = dvo.resource_record_type
    }
  }

  allow_overwrite = true
  name            = each.value.name
  records         = [each.value.record]
  ttl             = 60
  type            = each.value.type
  zone_id         = aws_route53_zone.main.zone_id
}

resource "aws_acm_certificate_validation" "app" {
  certificate_arn         = aws_acm_certificate.app.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = aws_acm_certificate_validation.app.certificate_arn
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "ok"
      status_code  = "200"
    }
  }
}

resource "aws_lb_listener_certificate" "api" {
  listener_arn    = aws_lb_listener.https.arn
  certificate_arn = aws_acm_certificate.api.arn
}
"#,
        );
    }
    hcl
}

fn write_stack(dir: &Path, endpoint: &str, n: &Names, comment: &str, txt: &str, validated: bool) {
    std::fs::write(
        dir.join("main.hcl"),
        stack_hcl(endpoint, n, comment, txt, validated),
    )
    .expect("write main.hcl");
}

/// The record set `name`/`kind` of a zone, as Route 53 holds it.
async fn record(
    r53: &aws_sdk_route53::Client,
    zone: &str,
    name: &str,
    kind: &str,
) -> Option<aws_sdk_route53::types::ResourceRecordSet> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("list record sets");
    let want = format!("{}.", name.trim_end_matches('.'));
    out.resource_record_sets()
        .iter()
        .find(|r| r.name().eq_ignore_ascii_case(&want) && r.r#type().as_str() == kind)
        .cloned()
}

fn values(r: &aws_sdk_route53::types::ResourceRecordSet) -> Vec<String> {
    r.resource_records()
        .iter()
        .map(|v| v.value().to_owned())
        .collect()
}

fn upsert_txt(name: &str, value: &str) -> aws_sdk_route53::types::ChangeBatch {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(
                    ResourceRecordSet::builder()
                        .name(name)
                        .r#type(RrType::Txt)
                        .ttl(300)
                        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

const STAGE_ONE: usize = 11;
const STAGE_TWO: usize = 5;

#[tokio::test(flavor = "multi_thread")]
async fn dns_tls_stack_applies_drifts_imports_and_destroys() {
    let env = Env::new().await;
    let (r53, acm, elb) = (route53(&env), acm(&env), env.elbv2());
    let n = Names::new();
    let domain = n.domain.clone();
    let dir = tempfile::tempdir().unwrap();

    // The certificates and everything that does not need their records.
    write_stack(dir.path(), &env.endpoint, &n, "one", "hello world", false);
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, STAGE_ONE, "{report:?}");

    // The validation records over domain_validation_options, the wait for
    // ISSUED, the HTTPS listener with the certificate.
    write_stack(dir.path(), &env.endpoint, &n, "one", "hello world", true);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    let keys: Vec<&str> = p
        .plan
        .changes
        .iter()
        .filter(|c| c.address.starts_with("aws_route53_record.validation["))
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        keys,
        vec![
            format!("aws_route53_record.validation[\"app.{domain}\"]"),
            format!("aws_route53_record.validation[\"www.{domain}\"]"),
        ],
        "one record per domain, keyed by domain_name"
    );
    let (state, report) = apply_plan(stack, p, state, false).await;
    assert_eq!(report.added, STAGE_TWO, "{report:?}");

    // Nothing to do.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // The zone, read back: its name as Terraform records it, its comment,
    // tags and name servers.
    let zone_id = attr(&state, "aws_route53_zone.main", "zone_id");
    assert_eq!(attr(&state, "aws_route53_zone.main", "id"), zone_id);
    assert!(!zone_id.starts_with('/'), "{zone_id}");
    assert_eq!(attr(&state, "aws_route53_zone.main", "name"), domain);
    assert_eq!(
        attr(&state, "aws_route53_zone.main", "arn"),
        format!("arn:aws:route53:::hostedzone/{zone_id}")
    );
    let zone = r53.get_hosted_zone().id(&zone_id).send().await.unwrap();
    let hz = zone.hosted_zone().unwrap();
    assert_eq!(hz.name(), format!("{domain}."));
    assert_eq!(hz.config().and_then(|c| c.comment()), Some("one"));
    let mut servers = zone.delegation_set().unwrap().name_servers().to_vec();
    servers.sort();
    let recorded = &state.resources["aws_route53_zone.main"].attributes["name_servers"];
    assert_eq!(recorded, &serde_json::json!(servers));
    assert!(!servers.is_empty());
    let tags = r53
        .list_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
        .resource_id(&zone_id)
        .send()
        .await
        .unwrap();
    let tags: BTreeMap<String, String> = tags
        .resource_tag_set()
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert_eq!(tags.get("env").map(String::as_str), Some("test"));
    assert_eq!(
        tags.get("stack"),
        Some(&n.stack),
        "default_tags reach Route 53"
    );

    // The private zone holds the VPC.
    let internal = attr(&state, "aws_route53_zone.internal", "id");
    let iz = r53.get_hosted_zone().id(&internal).send().await.unwrap();
    assert_eq!(
        iz.hosted_zone().unwrap().config().map(|c| c.private_zone()),
        Some(true)
    );
    assert_eq!(
        iz.vpcs().first().and_then(|v| v.vpc_id()),
        Some(attr(&state, "aws_vpc.main", "id").as_str())
    );

    // The certificate, its validation records and its validation.
    let cert_arn = attr(&state, "aws_acm_certificate.app", "arn");
    assert_eq!(attr(&state, "aws_acm_certificate.app", "id"), cert_arn);
    let cert = acm
        .describe_certificate()
        .certificate_arn(&cert_arn)
        .send()
        .await
        .unwrap();
    let cert = cert.certificate().unwrap();
    assert_eq!(cert.status().map(|s| s.as_str()), Some("ISSUED"));
    assert_eq!(cert.domain_name(), Some(format!("app.{domain}").as_str()));
    let dvos = cert.domain_validation_options();
    assert_eq!(dvos.len(), 2);
    for d in dvos {
        let rr = d.resource_record().unwrap();
        let live = record(&r53, &zone_id, rr.name(), "CNAME")
            .await
            .unwrap_or_else(|| panic!("no validation record {}", rr.name()));
        assert_eq!(values(&live), vec![rr.value().to_owned()]);
        assert_eq!(live.ttl(), Some(60));
        let address = format!("aws_route53_record.validation[\"{}\"]", d.domain_name());
        let fqdn = rr.name().trim_end_matches('.').to_lowercase();
        assert_eq!(attr(&state, &address, "fqdn"), fqdn);
        assert_eq!(
            attr(&state, &address, "id"),
            format!("{zone_id}_{fqdn}_CNAME"),
            "Terraform's record id"
        );
    }
    let validation_id = attr(&state, "aws_acm_certificate_validation.app", "id");
    assert!(
        validation_id.ends_with(" +0000 UTC"),
        "Terraform's time id: {validation_id}"
    );
    let cert_tags = acm
        .list_tags_for_certificate()
        .certificate_arn(&cert_arn)
        .send()
        .await
        .unwrap();
    assert!(
        cert_tags
            .tags()
            .iter()
            .any(|t| t.key() == "Name" && t.value() == Some("app"))
    );

    // The alias record to the load balancer and the TXT record (quoted in
    // Route 53, as Terraform sends it; its relative name in the zone).
    let lb_dns = attr(&state, "aws_lb.web", "dns_name");
    let alias = record(&r53, &zone_id, &format!("app.{domain}"), "A")
        .await
        .expect("the alias record");
    let target = alias.alias_target().unwrap();
    assert_eq!(
        target.dns_name().trim_end_matches('.').to_lowercase(),
        lb_dns.to_lowercase()
    );
    assert_eq!(
        target.hosted_zone_id(),
        attr(&state, "aws_lb.web", "zone_id")
    );
    assert!(target.evaluate_target_health());
    let info = record(&r53, &zone_id, &format!("info.{domain}"), "TXT")
        .await
        .expect("the TXT record");
    assert_eq!(values(&info), vec!["\"hello world\"".to_owned()]);
    assert_eq!(attr(&state, "aws_route53_record.info", "name"), "info");
    assert_eq!(
        attr(&state, "aws_route53_record.info", "fqdn"),
        format!("info.{domain}")
    );

    // The listeners: HTTP redirects to HTTPS; HTTPS has the certificate,
    // AWS's default policy and the extra certificate.
    let http_arn = attr(&state, "aws_lb_listener.http", "arn");
    let https_arn = attr(&state, "aws_lb_listener.https", "arn");
    let listeners = elb
        .describe_listeners()
        .listener_arns(&http_arn)
        .listener_arns(&https_arn)
        .send()
        .await
        .unwrap();
    let by_arn = |arn: &str| {
        listeners
            .listeners()
            .iter()
            .find(|l| l.listener_arn() == Some(arn))
            .cloned()
            .unwrap()
    };
    let http = by_arn(&http_arn);
    let redirect = http.default_actions()[0].redirect_config().unwrap();
    assert_eq!(redirect.port(), Some("443"));
    assert_eq!(redirect.protocol(), Some("HTTPS"));
    assert_eq!(redirect.status_code().map(|c| c.as_str()), Some("HTTP_301"));
    let https = by_arn(&https_arn);
    assert_eq!(https.protocol().map(|p| p.as_str()), Some("HTTPS"));
    assert_eq!(https.ssl_policy(), Some("ELBSecurityPolicy-2016-08"));
    assert_eq!(
        https
            .certificates()
            .first()
            .and_then(|c| c.certificate_arn()),
        Some(cert_arn.as_str())
    );
    assert_eq!(
        attr(&state, "aws_lb_listener.https", "ssl_policy"),
        "ELBSecurityPolicy-2016-08"
    );
    let api_arn = attr(&state, "aws_acm_certificate.api", "arn");
    let sni = elb
        .describe_listener_certificates()
        .listener_arn(&https_arn)
        .send()
        .await
        .unwrap();
    assert!(
        sni.certificates()
            .iter()
            .any(|c| c.certificate_arn() == Some(api_arn.as_str()) && c.is_default() != Some(true)),
        "{sni:?}"
    );
    assert_eq!(
        attr(&state, "aws_lb_listener_certificate.api", "id"),
        format!("{https_arn}_{api_arn}")
    );

    // In place: the zone's comment and the TXT value.
    write_stack(dir.path(), &env.endpoint, &n, "two", "v=spf1 -all", true);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[
            ("aws_route53_record.info", Action::Update),
            ("aws_route53_zone.main", Action::Update),
        ])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let zone = r53.get_hosted_zone().id(&zone_id).send().await.unwrap();
    assert_eq!(
        zone.hosted_zone()
            .unwrap()
            .config()
            .and_then(|c| c.comment()),
        Some("two")
    );
    let info = record(&r53, &zone_id, &format!("info.{domain}"), "TXT")
        .await
        .unwrap();
    assert_eq!(values(&info), vec!["\"v=spf1 -all\"".to_owned()]);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Drift: the TXT value changed and the extra certificate taken off the
    // listener behind dumcel's back; the plan finds both, apply repairs.
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(upsert_txt(&format!("info.{domain}."), "\"tampered\""))
        .send()
        .await
        .unwrap();
    elb.remove_listener_certificates()
        .listener_arn(&https_arn)
        .certificates(
            aws_sdk_elasticloadbalancingv2::types::Certificate::builder()
                .certificate_arn(&api_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[
            ("aws_lb_listener_certificate.api", Action::Create),
            ("aws_route53_record.info", Action::Update),
        ])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    let info = record(&r53, &zone_id, &format!("info.{domain}"), "TXT")
        .await
        .unwrap();
    assert_eq!(values(&info), vec!["\"v=spf1 -all\"".to_owned()]);
    let sni = elb
        .describe_listener_certificates()
        .listener_arn(&https_arn)
        .send()
        .await
        .unwrap();
    assert!(
        sni.certificates()
            .iter()
            .any(|c| c.certificate_arn() == Some(api_arn.as_str())),
        "the extra certificate is back"
    );
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Import: forget the zone, the alias record, the extra certificate and
    // the first certificate, and bring them back by Terraform's import ids.
    let imported: Vec<(&str, String)> = vec![
        ("aws_route53_zone.main", zone_id.clone()),
        (
            "aws_route53_record.app",
            format!("{zone_id}_app.{domain}_A"),
        ),
        (
            "aws_lb_listener_certificate.api",
            format!("{https_arn}_{api_arn}"),
        ),
        ("aws_acm_certificate.app", cert_arn.clone()),
    ];
    let blocks: String = imported
        .iter()
        .map(|(a, id)| format!("import {{\n  to = {a}\n  id = \"{id}\"\n}}\n"))
        .collect();
    std::fs::write(dir.path().join("imports.hcl"), blocks).unwrap();
    let before = state.clone();
    let mut forgotten = state;
    for (a, _) in &imported {
        forgotten.resources.remove(*a);
    }
    let (stack, p) = plan_of(dir.path(), &forgotten, false).await;
    for (a, id) in &imported {
        let c = p
            .plan
            .changes
            .iter()
            .find(|c| c.address == *a)
            .unwrap_or_else(|| panic!("no change for {a}"));
        assert_eq!(c.importing.as_deref(), Some(id.as_str()), "{a}");
        // The zone's force_destroy is not Route 53's to tell (imported as
        // false, as Terraform does), so it alone changes.
        let expected = if *a == "aws_route53_zone.main" {
            Action::Update
        } else {
            Action::NoOp
        };
        assert_eq!(
            c.action, expected,
            "{a}: before {:?}\nafter {:?}",
            c.before, c.after
        );
    }
    let (state, _) = apply_plan(stack, p, forgotten, false).await;
    for (a, _) in &imported {
        assert_eq!(attr(&state, a, "id"), attr(&before, a, "id"), "{a}");
    }
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();

    // A record made behind dumcel's back: force_destroy deletes it with the
    // zone. Destroy leaves nothing.
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(upsert_txt(&format!("stray.{domain}."), "\"left behind\""))
        .send()
        .await
        .unwrap();
    let (state, report) = plan_apply(dir.path(), state, true).await;
    assert_eq!(report.destroyed, STAGE_ONE + STAGE_TWO, "{report:?}");
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let gone = r53.get_hosted_zone().id(&zone_id).send().await;
    assert!(
        gone.unwrap_err()
            .into_service_error()
            .is_no_such_hosted_zone()
    );
    assert!(r53.get_hosted_zone().id(&internal).send().await.is_err());
    for arn in [&cert_arn, &api_arn] {
        let gone = acm.describe_certificate().certificate_arn(arn).send().await;
        assert!(
            gone.unwrap_err()
                .into_service_error()
                .is_resource_not_found_exception(),
            "{arn}"
        );
    }
    let lbs = elb.describe_load_balancers().names(&n.lb).send().await;
    assert!(lbs.is_err() || lbs.unwrap().load_balancers().is_empty());
}

/// The Terraform documentation's pattern in one apply: the certificate, its
/// validation records by `for_each` over `domain_validation_options`, and
/// the validation: the map's keys are known at plan, its values at apply.
#[tokio::test(flavor = "multi_thread")]
async fn certificate_validated_in_one_apply() {
    let env = Env::new().await;
    let n = Names::new();
    let dir = tempfile::tempdir().unwrap();
    let full = stack_hcl(&env.endpoint, &n, "one", "x", true);
    // Only the DNS and ACM part.
    let keep = [
        "provider \"aws\"",
        "resource \"aws_route53_zone\" \"main\"",
        "resource \"aws_acm_certificate\" \"app\"",
        "resource \"aws_route53_record\" \"validation\"",
        "resource \"aws_acm_certificate_validation\" \"app\"",
    ];
    let parts: Vec<&str> = full.split("\nresource ").collect();
    let mut hcl = String::new();
    for (i, part) in parts.iter().enumerate() {
        let text = if i == 0 {
            part.to_string()
        } else {
            format!("\nresource {part}")
        };
        if keep.iter().any(|k| text.trim_start().starts_with(k)) {
            hcl.push_str(&text);
            hcl.push('\n');
        }
    }
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 5, "{report:?}");
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());
    let (state, _) = plan_apply(dir.path(), state, true).await;
    assert!(state.resources.is_empty());
}

/// A self-signed certificate and its key for `cn`, in PEM, made by openssl.
fn self_signed(dir: &Path, cn: &str) -> (String, String) {
    let (key, cert) = (dir.join(format!("{cn}.key")), dir.join(format!("{cn}.pem")));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-subj", &format!("/CN={cn}")])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl makes the test certificates");
    assert!(status.success(), "openssl req failed");
    (
        std::fs::read_to_string(cert).unwrap(),
        std::fs::read_to_string(key).unwrap(),
    )
}

/// A certificate imported into ACM (private_key, certificate_body): made,
/// read back, imported again in place with a new body under the same ARN,
/// imported by ARN (the key is ACM's secret: not read back), destroyed; the
/// key is sensitive in the schema.
#[tokio::test(flavor = "multi_thread")]
async fn imported_certificate_is_made_reimported_and_destroyed() {
    let env = Env::new().await;
    let acm = acm(&env);
    let rt = env.resource("aws_acm_certificate");
    assert!(rt.schema().is_sensitive("private_key"));
    let dir = tempfile::tempdir().unwrap();
    let cn = format!("{}.example.com", unique("imp"));
    let (body, key) = self_signed(dir.path(), &cn);
    let v = |x: &str| dumcel_planner::Value::string(x);
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("private_key", v(&key)),
            ("certificate_body", v(&body)),
            (
                "tags",
                dumcel_planner::Value::Map([("env".to_owned(), v("test"))].into_iter().collect()),
            ),
        ]),
    );
    assert!(rt.validate(&cfg).is_empty(), "{:?}", rt.validate(&cfg));
    let made = rt.create(&cfg).await.expect("import the certificate");
    let arn = s(&made, "arn");
    assert_eq!(s(&made, "id"), arn);
    assert_eq!(s(&made, "domain_name"), cn);
    assert_eq!(s(&made, "type"), "IMPORTED");
    assert_eq!(s(&made, "validation_method"), "NONE");
    assert_eq!(s(&made, "status"), "ISSUED");
    assert!(!s(&made, "not_after").is_empty());
    assert_eq!(made.get("private_key"), Some(&v(&key)), "kept as recorded");
    let live = acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.certificate()
            .and_then(|c| c.r#type())
            .map(|t| t.as_str()),
        Some("IMPORTED")
    );
    assert_eq!(rt.read(&made).await.unwrap().unwrap(), made, "no drift");

    // A new body and key: imported again under the same ARN.
    let (body2, key2) = self_signed(dir.path(), &format!("new.{cn}"));
    let next = set(
        &set(&made, "certificate_body", v(&body2)),
        "private_key",
        v(&key2),
    );
    let updated = rt.update(&made, &next).await.expect("import again");
    assert_eq!(s(&updated, "arn"), arn);
    assert_eq!(s(&updated, "domain_name"), format!("new.{cn}"));
    let got = acm
        .get_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.certificate().map(str::trim), Some(body2.trim()));

    // Import by ARN: everything but the key, which ACM never gives back.
    let imported = rt.import(&arn).await.expect("import by ARN");
    assert_eq!(s(&imported, "domain_name"), format!("new.{cn}"));
    assert_eq!(s(&imported, "certificate_body").trim(), body2.trim());
    assert!(imported.get("private_key").is_none_or(|k| k.is_null()));
    assert!(
        rt.import("arn:aws:acm:us-east-1:123456789012:certificate/nope")
            .await
            .is_err()
    );

    rt.delete(&updated).await.expect("delete");
    let gone = acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await;
    assert!(
        gone.unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
    rt.delete(&updated).await.expect("deleting again is fine");
}

/// A private zone's VPCs change in place (associate first, then
/// disassociate); a zone cannot turn public; without force_destroy, a zone
/// holding a record is refused with what to do; a gone zone reads as gone.
#[tokio::test(flavor = "multi_thread")]
async fn private_zone_vpcs_change_in_place() {
    let env = Env::new().await;
    let (r53, ec2) = (route53(&env), env.ec2());
    let rt = env.resource("aws_route53_zone");
    let mut vpcs = Vec::new();
    for cidr in ["10.61.0.0/16", "10.62.0.0/16"] {
        let out = ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
        vpcs.push(out.vpc().unwrap().vpc_id().unwrap().to_owned());
    }
    let v = |x: &str| dumcel_planner::Value::string(x);
    let vpc = |id: &str| {
        obj(&[
            ("vpc_id", v(id)),
            ("vpc_region", dumcel_planner::Value::Null),
        ])
    };
    let name = format!("{}.internal", unique("priv"));
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", v(&name)),
            ("vpc", dumcel_planner::Value::List(vec![vpc(&vpcs[0])])),
        ]),
    );
    assert_eq!(cfg.get("comment"), Some(&v("Managed by Terraform")));
    let zone = rt.create(&cfg).await.expect("create private zone");
    let id = s(&zone, "id");
    assert_eq!(rt.read(&zone).await.unwrap().unwrap(), zone, "no drift");

    // The second VPC in, the first out.
    let next = rt
        .plan(
            Some(&zone),
            set(
                &zone,
                "vpc",
                dumcel_planner::Value::List(vec![vpc(&vpcs[1])]),
            ),
        )
        .expect("plan");
    let zone = rt.update(&zone, &next).await.expect("move the zone");
    let live = r53.get_hosted_zone().id(&id).send().await.unwrap();
    let ids: Vec<&str> = live.vpcs().iter().filter_map(|x| x.vpc_id()).collect();
    assert_eq!(ids, vec![vpcs[1].as_str()]);
    assert_eq!(rt.read(&zone).await.unwrap().unwrap(), zone, "no drift");

    // No VPC: a public zone, which Terraform makes anew; refused at plan.
    let public = set(&zone, "vpc", dumcel_planner::Value::List(vec![]));
    let err = rt.plan(Some(&zone), public).unwrap_err();
    assert!(err.contains("public and private"), "{err}");

    // A record left in it, no force_destroy: refused, saying what to do.
    r53.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(upsert_txt(&format!("left.{name}."), "\"x\""))
        .send()
        .await
        .unwrap();
    let err = rt.delete(&zone).await.unwrap_err();
    assert!(
        err.message.contains("HostedZoneNotEmpty") && err.message.contains("force_destroy"),
        "{}",
        err.message
    );
    let forced = set(&zone, "force_destroy", dumcel_planner::Value::Bool(true));
    rt.delete(&forced).await.expect("force_destroy empties it");
    assert!(
        rt.read(&zone).await.unwrap().is_none(),
        "gone reads as gone"
    );
    assert!(rt.import(&id).await.is_err());
}
