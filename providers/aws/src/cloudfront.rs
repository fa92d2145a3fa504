//! `aws_cloudfront_distribution`'s conversions: its schema (the subset a
//! static site from S3 needs, with Terraform's names), its configuration
//! turned into CloudFront's `DistributionConfig`, and CloudFront's answer
//! turned back into blocks. An argument outside the schema is the engine's
//! "Unsupported argument" error, never dropped.

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CookiePreference,
    CustomErrorResponse, CustomErrorResponses, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, ForwardedValues, GeoRestriction, GeoRestrictionType, HttpVersion,
    ItemSelection, Method, MinimumProtocolVersion, Origin, OriginProtocolPolicy,
    OriginSslProtocols, Origins, PriceClass, Restrictions, S3OriginConfig, SslProtocol,
    SslSupportMethod, ViewerCertificate, ViewerProtocolPolicy,
};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    block, blocks, n, narrow_blocks, numbers_like, obj, opt_bool, opt_i32, opt_i64, opt_str,
    opt_text, os, req_str, s, set_like, str_list,
};
use crate::error::{AwsError, AwsResult};

/// CloudFront's hosted zone, for Route 53 alias records.
pub const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

fn nb(schema: Schema, min: usize, max: Option<usize>) -> NestedBlock {
    NestedBlock {
        schema,
        min_items: min,
        max_items: max,
        force_new: false,
    }
}

/// The distribution's schema, without `tags` (the caller adds them).
pub fn schema() -> Schema {
    let s3_origin = Schema::new().attr("origin_access_identity", Attribute::required());
    let custom_origin = Schema::new()
        .attr("http_port", Attribute::required())
        .attr("https_port", Attribute::required())
        .attr(
            "origin_protocol_policy",
            Attribute::required().describe("http-only, https-only or match-viewer"),
        )
        .attr(
            "origin_ssl_protocols",
            Attribute::required().describe("SSLv3, TLSv1, TLSv1.1, TLSv1.2"),
        );
    let origin = Schema::new()
        .attr("domain_name", Attribute::required())
        .attr("origin_id", Attribute::required())
        .attr("origin_access_control_id", Attribute::optional())
        .attr(
            "origin_path",
            Attribute::optional().describe("default \"\""),
        )
        .block("s3_origin_config", nb(s3_origin, 0, Some(1)))
        .block("custom_origin_config", nb(custom_origin, 0, Some(1)));
    let cookies = Schema::new().attr(
        "forward",
        Attribute::required().describe("none, all or whitelist"),
    );
    let forwarded = Schema::new()
        .attr("query_string", Attribute::required())
        .block("cookies", nb(cookies, 1, Some(1)));
    let behavior = Schema::new()
        .attr("target_origin_id", Attribute::required())
        .attr(
            "viewer_protocol_policy",
            Attribute::required().describe("allow-all, https-only or redirect-to-https"),
        )
        .attr("allowed_methods", Attribute::required())
        .attr("cached_methods", Attribute::required())
        .attr("cache_policy_id", Attribute::optional())
        .attr("compress", Attribute::optional().describe("default false"))
        .attr("min_ttl", Attribute::optional().describe("default 0"))
        .attr(
            "default_ttl",
            Attribute::optional().describe("left out: CloudFront's"),
        )
        .attr(
            "max_ttl",
            Attribute::optional().describe("left out: CloudFront's"),
        )
        .block("forwarded_values", nb(forwarded, 0, Some(1)));
    let ordered = behavior.clone().attr("path_pattern", Attribute::required());
    let error_response = Schema::new()
        .attr("error_code", Attribute::required())
        .attr("response_code", Attribute::optional())
        .attr("response_page_path", Attribute::optional())
        .attr("error_caching_min_ttl", Attribute::optional());
    let geo = Schema::new()
        .attr(
            "restriction_type",
            Attribute::required().describe("none, whitelist or blacklist"),
        )
        .attr("locations", Attribute::optional());
    let restrictions = Schema::new().block("geo_restriction", nb(geo, 1, Some(1)));
    let certificate = Schema::new()
        .attr("cloudfront_default_certificate", Attribute::optional())
        .attr("acm_certificate_arn", Attribute::optional())
        .attr(
            "ssl_support_method",
            Attribute::optional().describe("sni-only, vip or static-ip"),
        )
        .attr(
            "minimum_protocol_version",
            Attribute::optional().describe("default TLSv1"),
        );
    Schema::new()
        .attr("id", Attribute::computed())
        .attr("enabled", Attribute::required())
        .attr("comment", Attribute::optional())
        .attr("aliases", Attribute::optional())
        .attr("default_root_object", Attribute::optional())
        .attr(
            "price_class",
            Attribute::optional()
                .describe("PriceClass_All (default), PriceClass_200 or PriceClass_100"),
        )
        .attr(
            "is_ipv6_enabled",
            Attribute::optional().describe("default false"),
        )
        .attr(
            "http_version",
            Attribute::optional().describe("http2 (default), http1.1, http2and3 or http3"),
        )
        .attr(
            "wait_for_deployment",
            Attribute::optional().describe(
                "wait for the distribution to be Deployed on create and update (default true)",
            ),
        )
        .attr(
            "retain_on_delete",
            Attribute::optional()
                .describe("destroy only disables the distribution (default false)"),
        )
        .attr("arn", Attribute::computed())
        .attr("caller_reference", Attribute::computed())
        .attr("domain_name", Attribute::computed())
        .attr("etag", Attribute::computed())
        .attr("hosted_zone_id", Attribute::computed())
        .attr("status", Attribute::computed())
        .block("origin", nb(origin, 1, None))
        .block("default_cache_behavior", nb(behavior, 1, Some(1)))
        .block("ordered_cache_behavior", nb(ordered, 0, None))
        .block("custom_error_response", nb(error_response, 0, None))
        .block("restrictions", nb(restrictions, 1, Some(1)))
        .block("viewer_certificate", nb(certificate, 1, Some(1)))
}

fn built<T>(what: &str, r: Result<T, aws_sdk_cloudfront::error::BuildError>) -> AwsResult<T> {
    r.map_err(|e| AwsError::invalid(format!("{what}: {e}")))
}

fn len(items: &[impl Sized]) -> i32 {
    i32::try_from(items.len()).unwrap_or(i32::MAX)
}

fn methods(v: &Value, key: &str) -> Vec<Method> {
    str_list(v, key)
        .iter()
        .map(|m| Method::from(m.as_str()))
        .collect()
}

fn origin(o: &Value) -> AwsResult<Origin> {
    let id = req_str(o, "origin_id")?;
    let what = format!("origin {id:?}");
    let mut b = Origin::builder()
        .id(id)
        .domain_name(req_str(o, "domain_name")?)
        .origin_path(opt_str(o, "origin_path").unwrap_or(""))
        .set_origin_access_control_id(opt_str(o, "origin_access_control_id").map(str::to_owned));
    let custom = block(o, "custom_origin_config");
    match (block(o, "s3_origin_config"), custom) {
        (Some(_), Some(_)) => {
            return Err(AwsError::invalid(format!(
                "{what}: set s3_origin_config or custom_origin_config, not both"
            )));
        }
        (Some(s3), None) => {
            b = b.s3_origin_config(
                S3OriginConfig::builder()
                    .origin_access_identity(req_str(s3, "origin_access_identity")?)
                    .build(),
            );
        }
        (None, Some(c)) => {
            let protocols: Vec<SslProtocol> = str_list(c, "origin_ssl_protocols")
                .iter()
                .map(|p| SslProtocol::from(p.as_str()))
                .collect();
            let config = CustomOriginConfig::builder()
                .set_http_port(opt_i32(c, "http_port")?)
                .set_https_port(opt_i32(c, "https_port")?)
                .origin_protocol_policy(OriginProtocolPolicy::from(req_str(
                    c,
                    "origin_protocol_policy",
                )?))
                .origin_ssl_protocols(built(
                    &what,
                    OriginSslProtocols::builder()
                        .quantity(len(&protocols))
                        .set_items(Some(protocols))
                        .build(),
                )?)
                .build();
            b = b.custom_origin_config(built(&what, config)?);
        }
        // As Terraform does: an origin with neither is an S3 origin
        // without an origin access identity (one that uses an origin access
        // control, or a public bucket).
        (None, None) => {
            b = b.s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build());
        }
    }
    built(&what, b.build())
}

/// The fields `DefaultCacheBehavior` and `CacheBehavior` share (all but
/// the path pattern), set on either's builder: the types differ, the
/// methods do not.
macro_rules! behavior_fields {
    ($builder:expr, $c:expr, $what:expr) => {{
        let (c, what): (&Value, &str) = ($c, $what);
        let cached = methods(c, "cached_methods");
        let allowed = methods(c, "allowed_methods");
        let allowed = built(
            what,
            AllowedMethods::builder()
                .quantity(len(&allowed))
                .set_items(Some(allowed))
                .cached_methods(built(
                    what,
                    CachedMethods::builder()
                        .quantity(len(&cached))
                        .set_items(Some(cached))
                        .build(),
                )?)
                .build(),
        )?;
        let mut b = $builder
            .target_origin_id(req_str(c, "target_origin_id")?)
            .viewer_protocol_policy(ViewerProtocolPolicy::from(req_str(
                c,
                "viewer_protocol_policy",
            )?))
            .allowed_methods(allowed)
            .compress(opt_bool(c, "compress").unwrap_or(false));
        match opt_str(c, "cache_policy_id").filter(|p| !p.is_empty()) {
            // With a cache policy, the policy holds the TTLs (as in
            // Terraform, they are not sent).
            Some(p) => b = b.cache_policy_id(p),
            None => {
                b = b
                    .min_ttl(opt_i64(c, "min_ttl")?.unwrap_or(0))
                    .set_default_ttl(opt_i64(c, "default_ttl")?)
                    .set_max_ttl(opt_i64(c, "max_ttl")?);
            }
        }
        if let Some(f) = block(c, "forwarded_values") {
            let forward = block(f, "cookies")
                .and_then(|k| opt_str(k, "forward"))
                .unwrap_or("none");
            b = b.forwarded_values(built(
                what,
                ForwardedValues::builder()
                    .query_string(opt_bool(f, "query_string").unwrap_or(false))
                    .cookies(built(
                        what,
                        CookiePreference::builder()
                            .forward(ItemSelection::from(forward))
                            .build(),
                    )?)
                    .build(),
            )?);
        } else if opt_str(c, "cache_policy_id").is_none_or(str::is_empty) {
            return Err(AwsError::invalid(format!(
                "{what} needs cache_policy_id or a forwarded_values block"
            )));
        }
        b
    }};
}

// The TTLs and forwarded values are deprecated in the API in favour of
// cache policies, but Terraform (and older distributions) still use them.
#[allow(deprecated)]
fn default_cache_behavior(c: &Value) -> AwsResult<DefaultCacheBehavior> {
    let what = "default_cache_behavior";
    let b = behavior_fields!(DefaultCacheBehavior::builder(), c, what);
    built(what, b.build())
}

#[allow(deprecated)]
fn cache_behavior(c: &Value) -> AwsResult<CacheBehavior> {
    let pattern = req_str(c, "path_pattern")?;
    let what = format!("ordered_cache_behavior {pattern:?}");
    let b = behavior_fields!(CacheBehavior::builder().path_pattern(pattern), c, &what);
    built(&what, b.build())
}

fn error_response(e: &Value) -> AwsResult<CustomErrorResponse> {
    let code = opt_i32(e, "error_code")?
        .ok_or_else(|| AwsError::invalid("custom_error_response: \"error_code\" is required"))?;
    built(
        "custom_error_response",
        CustomErrorResponse::builder()
            .error_code(code)
            .set_response_code(opt_text(e, "response_code"))
            .set_response_page_path(opt_str(e, "response_page_path").map(str::to_owned))
            .set_error_caching_min_ttl(opt_i64(e, "error_caching_min_ttl")?)
            .build(),
    )
}

/// The configuration CloudFront takes, from the planned value.
pub fn expand(v: &Value, caller_reference: &str) -> AwsResult<DistributionConfig> {
    let origins = blocks(v, "origin")
        .iter()
        .map(origin)
        .collect::<AwsResult<Vec<_>>>()?;
    let dcb = block(v, "default_cache_behavior")
        .ok_or_else(|| AwsError::invalid("a default_cache_behavior block is required"))?;
    let ordered = blocks(v, "ordered_cache_behavior")
        .iter()
        .map(cache_behavior)
        .collect::<AwsResult<Vec<_>>>()?;
    let errors = blocks(v, "custom_error_response")
        .iter()
        .map(error_response)
        .collect::<AwsResult<Vec<_>>>()?;
    let geo = block(v, "restrictions")
        .and_then(|r| block(r, "geo_restriction"))
        .ok_or_else(|| {
            AwsError::invalid("a restrictions { geo_restriction { ... } } block is required")
        })?;
    let locations = str_list(geo, "locations");
    let cert = block(v, "viewer_certificate")
        .ok_or_else(|| AwsError::invalid("a viewer_certificate block is required"))?;
    let aliases = str_list(v, "aliases");
    let config = DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(opt_str(v, "comment").unwrap_or(""))
        .enabled(opt_bool(v, "enabled").unwrap_or(false))
        .aliases(built(
            "aliases",
            Aliases::builder()
                .quantity(len(&aliases))
                .set_items(Some(aliases))
                .build(),
        )?)
        .default_root_object(opt_str(v, "default_root_object").unwrap_or(""))
        .price_class(PriceClass::from(
            opt_str(v, "price_class").unwrap_or("PriceClass_All"),
        ))
        .http_version(HttpVersion::from(
            opt_str(v, "http_version").unwrap_or("http2"),
        ))
        .is_ipv6_enabled(opt_bool(v, "is_ipv6_enabled").unwrap_or(false))
        .origins(built(
            "origin",
            Origins::builder()
                .quantity(len(&origins))
                .set_items(Some(origins))
                .build(),
        )?)
        .default_cache_behavior(default_cache_behavior(dcb)?)
        .cache_behaviors(built(
            "ordered_cache_behavior",
            CacheBehaviors::builder()
                .quantity(len(&ordered))
                .set_items((!ordered.is_empty()).then_some(ordered))
                .build(),
        )?)
        .custom_error_responses(built(
            "custom_error_response",
            CustomErrorResponses::builder()
                .quantity(len(&errors))
                .set_items(Some(errors))
                .build(),
        )?)
        .restrictions(
            Restrictions::builder()
                .geo_restriction(built(
                    "geo_restriction",
                    GeoRestriction::builder()
                        .restriction_type(GeoRestrictionType::from(req_str(
                            geo,
                            "restriction_type",
                        )?))
                        .quantity(len(&locations))
                        .set_items((!locations.is_empty()).then_some(locations))
                        .build(),
                )?)
                .build(),
        )
        .viewer_certificate(
            ViewerCertificate::builder()
                .set_cloud_front_default_certificate(opt_bool(
                    cert,
                    "cloudfront_default_certificate",
                ))
                .set_acm_certificate_arn(opt_str(cert, "acm_certificate_arn").map(str::to_owned))
                .set_ssl_support_method(
                    opt_str(cert, "ssl_support_method").map(SslSupportMethod::from),
                )
                .minimum_protocol_version(MinimumProtocolVersion::from(
                    opt_str(cert, "minimum_protocol_version").unwrap_or("TLSv1"),
                ))
                .build(),
        )
        .build();
    built("distribution", config)
}

fn opt_n64(x: Option<i64>) -> Value {
    // TTLs are seconds: well inside f64's exact integers.
    x.map(|x| Value::Number(x as f64)).unwrap_or(Value::Null)
}

/// A string CloudFront answers empty for "not set": null, as Terraform reads it.
fn non_empty(x: Option<&str>) -> Value {
    os(x.filter(|x| !x.is_empty()))
}

/// The recorded block objects at `key` of `base` (empty when none).
fn prior_blocks<'a>(base: &'a Value, key: &str) -> &'a [Value] {
    blocks(base, key)
}

fn origins_of(base: &Value, c: &DistributionConfig) -> Vec<Value> {
    let prior = prior_blocks(base, "origin");
    c.origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let recorded = prior
                .iter()
                .find(|p| opt_str(p, "origin_id") == Some(o.id()))
                .or_else(|| prior.get(i));
            let s3 = o
                .s3_origin_config()
                .filter(|c| !c.origin_access_identity().is_empty())
                .map(|c| obj([("origin_access_identity", s(c.origin_access_identity()))]));
            let custom = o.custom_origin_config().map(|c| {
                let protocols: Vec<String> = c
                    .origin_ssl_protocols()
                    .map(|p| p.items().iter().map(|x| x.as_str().to_owned()).collect())
                    .unwrap_or_default();
                obj([
                    ("http_port", n(c.http_port())),
                    ("https_port", n(c.https_port())),
                    (
                        "origin_protocol_policy",
                        s(c.origin_protocol_policy().as_str()),
                    ),
                    (
                        "origin_ssl_protocols",
                        set_like(
                            recorded
                                .and_then(|r| crate::attrs::block(r, "custom_origin_config"))
                                .and_then(|c| c.get("origin_ssl_protocols")),
                            protocols,
                        ),
                    ),
                ])
            });
            // CloudFront always answers the element, empty when there is
            // no control. An answer without it (moto drops it) tells
            // nothing, so the recorded value stands.
            let oac = match o.origin_access_control_id() {
                Some(id) => non_empty(Some(id)),
                None => recorded
                    .and_then(|r| r.get("origin_access_control_id"))
                    .cloned()
                    .unwrap_or(Value::Null),
            };
            obj([
                ("domain_name", s(o.domain_name())),
                ("origin_id", s(o.id())),
                ("origin_access_control_id", oac),
                ("origin_path", s(o.origin_path().unwrap_or_default())),
                ("s3_origin_config", Value::List(s3.into_iter().collect())),
                (
                    "custom_origin_config",
                    Value::List(custom.into_iter().collect()),
                ),
            ])
        })
        .collect()
}

/// A `DefaultCacheBehavior` or `CacheBehavior` as a block (without the
/// path pattern), over its recorded block.
macro_rules! behavior_value {
    ($b:expr, $recorded:expr) => {{
        let (b, recorded): (_, Option<&Value>) = ($b, $recorded);
        let method_names =
            |m: &[Method]| -> Vec<String> { m.iter().map(|x| x.as_str().to_owned()).collect() };
        let allowed = b
            .allowed_methods()
            .map(|a| method_names(a.items()))
            .unwrap_or_default();
        let cached = b
            .allowed_methods()
            .and_then(|a| a.cached_methods())
            .map(|c| method_names(c.items()))
            .unwrap_or_default();
        // Forwarded values are the legacy alternative to a cache policy:
        // with a policy, whatever is answered for them does not apply.
        let forwarded = b
            .forwarded_values()
            .filter(|_| b.cache_policy_id().is_none_or(str::is_empty))
            .map(|f| {
                obj([
                    ("query_string", Value::Bool(f.query_string())),
                    (
                        "cookies",
                        Value::List(
                            f.cookies()
                                .map(|c| obj([("forward", s(c.forward().as_str()))]))
                                .into_iter()
                                .collect(),
                        ),
                    ),
                ])
            });
        obj([
            ("target_origin_id", s(b.target_origin_id())),
            (
                "viewer_protocol_policy",
                s(b.viewer_protocol_policy().as_str()),
            ),
            (
                "allowed_methods",
                set_like(recorded.and_then(|r| r.get("allowed_methods")), allowed),
            ),
            (
                "cached_methods",
                set_like(recorded.and_then(|r| r.get("cached_methods")), cached),
            ),
            ("cache_policy_id", non_empty(b.cache_policy_id())),
            ("compress", Value::Bool(b.compress().unwrap_or(false))),
            ("min_ttl", opt_n64(Some(b.min_ttl().unwrap_or(0)))),
            ("default_ttl", opt_n64(b.default_ttl())),
            ("max_ttl", opt_n64(b.max_ttl())),
            (
                "forwarded_values",
                Value::List(forwarded.into_iter().collect()),
            ),
        ])
    }};
}

#[allow(deprecated)]
fn behavior_of(base: &Value, b: &DefaultCacheBehavior) -> Value {
    behavior_value!(b, block(base, "default_cache_behavior"))
}

#[allow(deprecated)]
fn ordered_of(base: &Value, c: &DistributionConfig) -> Vec<Value> {
    let prior = prior_blocks(base, "ordered_cache_behavior");
    c.cache_behaviors()
        .map(|b| b.items())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let recorded = prior
                .iter()
                .find(|p| opt_str(p, "path_pattern") == Some(b.path_pattern()))
                .or_else(|| prior.get(i));
            let v = behavior_value!(b, recorded);
            crate::attrs::with(&v, "path_pattern", s(b.path_pattern()))
        })
        .collect()
}

fn error_responses_of(c: &DistributionConfig) -> Vec<Value> {
    c.custom_error_responses()
        .map(|e| e.items())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            obj([
                ("error_code", n(e.error_code())),
                (
                    "response_code",
                    // Terraform's is a number; CloudFront's is text.
                    match e.response_code().filter(|r| !r.is_empty()) {
                        Some(r) => r
                            .trim()
                            .parse::<f64>()
                            .map(Value::Number)
                            .unwrap_or_else(|_| s(r)),
                        None => Value::Null,
                    },
                ),
                ("response_page_path", non_empty(e.response_page_path())),
                ("error_caching_min_ttl", opt_n64(e.error_caching_min_ttl())),
            ])
        })
        .collect()
}

/// Blocks as CloudFront has them, narrowed to the recorded ones' keys
/// (whole when nothing is recorded: an import).
fn narrowed(base: &Value, key: &str, actual: Vec<Value>) -> Value {
    let prior = prior_blocks(base, key);
    if prior.is_empty() {
        return Value::List(actual);
    }
    numbers_like(&Value::List(prior.to_vec()), narrow_blocks(prior, actual))
}

/// The configuration's part of the value: arguments and blocks, from
/// CloudFront's `DistributionConfig`, over `base` (the recorded value).
pub fn flatten(base: &Value, c: &DistributionConfig) -> Vec<(&'static str, Value)> {
    let aliases: Vec<String> = c.aliases().map(|a| a.items().to_vec()).unwrap_or_default();
    let geo = c.restrictions().and_then(|r| r.geo_restriction()).map(|g| {
        let recorded = block(base, "restrictions")
            .and_then(|r| block(r, "geo_restriction"))
            .and_then(|g| g.get("locations"));
        obj([
            ("restriction_type", s(g.restriction_type().as_str())),
            (
                "locations",
                if g.items().is_empty() && recorded.is_none_or(Value::is_null) {
                    Value::Null
                } else {
                    set_like(recorded, g.items().to_vec())
                },
            ),
        ])
    });
    let restrictions = obj([("geo_restriction", Value::List(geo.into_iter().collect()))]);
    let cert = c.viewer_certificate().map(|v| {
        obj([
            (
                "cloudfront_default_certificate",
                v.cloud_front_default_certificate()
                    .map(Value::Bool)
                    .unwrap_or(Value::Null),
            ),
            ("acm_certificate_arn", non_empty(v.acm_certificate_arn())),
            (
                "ssl_support_method",
                non_empty(v.ssl_support_method().map(|m| m.as_str())),
            ),
            (
                "minimum_protocol_version",
                non_empty(v.minimum_protocol_version().map(|m| m.as_str())),
            ),
        ])
    });
    let behavior = c.default_cache_behavior().map(|b| behavior_of(base, b));
    vec![
        ("enabled", Value::Bool(c.enabled())),
        ("comment", non_empty(Some(c.comment()))),
        (
            "aliases",
            if aliases.is_empty() && base.get("aliases").is_none_or(Value::is_null) {
                Value::Null
            } else {
                set_like(base.get("aliases"), aliases)
            },
        ),
        ("default_root_object", non_empty(c.default_root_object())),
        ("price_class", os(c.price_class().map(|p| p.as_str()))),
        (
            "is_ipv6_enabled",
            Value::Bool(c.is_ipv6_enabled().unwrap_or(false)),
        ),
        ("http_version", os(c.http_version().map(|h| h.as_str()))),
        ("origin", narrowed(base, "origin", origins_of(base, c))),
        (
            "default_cache_behavior",
            narrowed(
                base,
                "default_cache_behavior",
                behavior.into_iter().collect(),
            ),
        ),
        (
            "ordered_cache_behavior",
            narrowed(base, "ordered_cache_behavior", ordered_of(base, c)),
        ),
        (
            "custom_error_response",
            narrowed(base, "custom_error_response", error_responses_of(c)),
        ),
        (
            "restrictions",
            narrowed(base, "restrictions", vec![restrictions]),
        ),
        (
            "viewer_certificate",
            narrowed(base, "viewer_certificate", cert.into_iter().collect()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::strings;
    use crate::nested;

    fn site() -> Value {
        let v = obj([
            ("enabled", Value::Bool(true)),
            ("comment", s("site")),
            ("default_root_object", s("index.html")),
            (
                "origin",
                Value::List(vec![obj([
                    ("domain_name", s("b.s3.amazonaws.com")),
                    ("origin_id", s("s3")),
                    ("origin_access_control_id", s("E123")),
                ])]),
            ),
            (
                "default_cache_behavior",
                Value::List(vec![obj([
                    ("target_origin_id", s("s3")),
                    ("viewer_protocol_policy", s("redirect-to-https")),
                    ("allowed_methods", strings(["GET", "HEAD"])),
                    ("cached_methods", strings(["GET", "HEAD"])),
                    ("cache_policy_id", s("658327ea-f89d-4fab-a63d-7e88639e58f6")),
                ])]),
            ),
            (
                "custom_error_response",
                Value::List(vec![obj([
                    ("error_code", n(404)),
                    ("response_code", n(200)),
                    ("response_page_path", s("/index.html")),
                ])]),
            ),
            (
                "restrictions",
                Value::List(vec![obj([(
                    "geo_restriction",
                    Value::List(vec![obj([("restriction_type", s("none"))])]),
                )])]),
            ),
            (
                "viewer_certificate",
                Value::List(vec![obj([(
                    "cloudfront_default_certificate",
                    Value::Bool(true),
                )])]),
            ),
        ]);
        nested::fill(&schema(), v)
    }

    #[test]
    #[allow(deprecated)]
    fn a_static_site_round_trips() {
        let v = site();
        let c = expand(&v, "ref-1").unwrap();
        assert_eq!(c.caller_reference(), "ref-1");
        let o = &c.origins().unwrap().items()[0];
        assert_eq!(o.origin_access_control_id(), Some("E123"));
        assert_eq!(
            o.s3_origin_config().map(|c| c.origin_access_identity()),
            Some(""),
            "an origin with neither config is an S3 one, as in Terraform"
        );
        let b = c.default_cache_behavior().unwrap();
        assert_eq!(b.min_ttl(), None, "TTLs are the cache policy's");
        let back = flatten(&v, &c);
        let get = |k: &str| back.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("origin"), v.get("origin").cloned().unwrap());
        assert_eq!(
            get("custom_error_response"),
            v.get("custom_error_response").cloned().unwrap()
        );
        assert_eq!(get("restrictions"), v.get("restrictions").cloned().unwrap());
        assert_eq!(get("comment"), s("site"));
        assert_eq!(get("aliases"), Value::Null);
    }

    #[test]
    fn a_behavior_without_policy_or_forwarded_values_is_named() {
        let mut v = site();
        if let Value::Map(m) = &mut v {
            m.insert(
                "default_cache_behavior".into(),
                Value::List(vec![obj([
                    ("target_origin_id", s("s3")),
                    ("viewer_protocol_policy", s("allow-all")),
                ])]),
            );
        }
        let e = expand(&v, "r").unwrap_err().to_string();
        assert!(e.contains("cache_policy_id or a forwarded_values"), "{e}");
    }
}
