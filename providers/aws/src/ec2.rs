//! What the EC2 networking types share: tags (sent with the create call,
//! changed with `CreateTags` / `DeleteTags`, read back with the object), ARNs,
//! the region the client talks to, Terraform's route id hash, and retrying a
//! delete while AWS still holds dependents.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{ResourceType as Ec2ResourceType, Tag, TagSpecification};
use dumcel_planner::Value;

use crate::attrs::{s, string_map};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

/// The tag specification for a create call; `None` when there are no tags.
pub(crate) fn tag_spec(
    kind: Ec2ResourceType,
    all: BTreeMap<String, String>,
) -> Option<TagSpecification> {
    (!all.is_empty()).then(|| {
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(ec2_tags(all)))
            .build()
    })
}

pub(crate) fn ec2_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags AWS holds (`aws:` ones, which nobody can set, left out).
pub(crate) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// `tags_all` as read back: AWS's tags, so a tag changed outside dumcel is
/// drift that the next apply puts back.
pub(crate) fn tags_all(tags: &[Tag]) -> (&'static str, Value) {
    ("tags_all", string_map(tag_map(tags)))
}

/// `tags` for an imported object: AWS's tags less those the provider's
/// `default_tags` give with the same value (null when none is left), as
/// Terraform imports them.
pub(crate) fn imported_tags(
    default_tags: &BTreeMap<String, String>,
    tags: &[Tag],
) -> (&'static str, Value) {
    let own: BTreeMap<String, String> = tag_map(tags)
        .into_iter()
        .filter(|(k, v)| default_tags.get(k) != Some(v))
        .collect();
    (
        "tags",
        if own.is_empty() {
            Value::Null
        } else {
            string_map(own)
        },
    )
}

/// Applies the difference between recorded and planned `tags_all`.
pub(crate) async fn retag(ec2: &Client, id: &str, prior: &Value, planned: &Value) -> AwsResult<()> {
    let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
    if !set.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(ec2_tags(set)))
            .send()
            .await
            .map_err(sdk("CreateTags"))?;
    }
    if !removed.is_empty() {
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(
                removed
                    .into_iter()
                    .map(|k| Tag::builder().key(k).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(sdk("DeleteTags"))?;
    }
    Ok(())
}

/// The region the EC2 client talks to: the provider's `region`, else the
/// standard chain's (what the SDK configuration resolved).
pub(crate) fn region(ec2: &Client) -> String {
    ec2.config()
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_default()
}

/// The ARN partition of a region.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// `arn:PARTITION:ec2:REGION:OWNER:RESOURCE`.
pub(crate) fn arn(ec2: &Client, owner: &str, resource: &str) -> Value {
    let region = region(ec2);
    s(format!(
        "arn:{}:ec2:{region}:{owner}:{resource}",
        partition(&region)
    ))
}

/// An optional string AWS (or an emulator) may answer as empty: null then.
pub(crate) fn text(v: Option<&str>) -> Value {
    match v {
        Some(x) if !x.is_empty() => s(x),
        _ => Value::Null,
    }
}

/// Checks an IPv4 CIDR block is a network address (`10.0.0.0/16`, not
/// `10.0.0.1/16`), as Terraform validates it: AWS would store the network
/// address, and the difference would show as a change on every plan. Unknown
/// and unset values pass.
pub(crate) fn check_ipv4_cidr(v: &Value, key: &str) -> Option<(String, String)> {
    let text = v.get(key)?.as_str()?;
    let bad = || {
        Some((
            key.to_owned(),
            format!("must be an IPv4 network address in CIDR notation (10.0.0.0/16), got {text:?}"),
        ))
    };
    let Some((ip, len_text)) = text.split_once('/') else {
        return bad();
    };
    let (Ok(ip), Ok(len)) = (ip.parse::<std::net::Ipv4Addr>(), len_text.parse::<u32>()) else {
        return bad();
    };
    // No leading zeros or signs: the length as AWS writes it.
    if len > 32 || len.to_string() != len_text {
        return bad();
    }
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    if u32::from(ip) & !mask != 0 {
        return bad();
    }
    None
}

/// CRC-32 (IEEE), as Terraform's `StringHashcode` computes it for ids such as
/// a route's `r-rtb-...NNNN`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Calls `attempt` while AWS answers that something still depends on the
/// object (`DependencyViolation`, and the other `codes`), as it does for a
/// while after a dependent was deleted: up to `limit_secs` (see
/// [`wait::limit`]), 2 s doubling to 15 s between attempts.
pub(crate) async fn retry_while<T, F, Fut>(
    what: &str,
    limit_secs: u64,
    codes: &[&str],
    attempt: F,
) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AwsResult<T>>,
{
    wait::retry(
        what,
        wait::limit(limit_secs),
        (Duration::from_secs(2), Duration::from_secs(15)),
        |e: &AwsError| {
            e.code()
                .is_some_and(|c| c == "DependencyViolation" || codes.contains(&c))
        },
        attempt,
    )
    .await
}

/// Whether an error says the object is gone; EC2's codes (`InvalidVpcID.NotFound`,
/// `InvalidRoute.NotFound`, `NatGatewayNotFound`, ...) all end so.
pub(crate) fn gone(e: &AwsError) -> bool {
    e.is_not_found() || e.code().is_some_and(|c| c.ends_with(".NotFound"))
}

/// A describe call's outcome with "not found" as `None`.
pub(crate) fn found<T>(r: AwsResult<T>) -> AwsResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_checksum_terraform_hashes_with() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // Python: zlib.crc32(b"0.0.0.0/0")
        assert_eq!(crc32(b"0.0.0.0/0"), 1_080_289_494);
    }

    #[test]
    fn cidr_blocks_must_be_network_addresses() {
        let check = |c: &str| check_ipv4_cidr(&crate::attrs::obj([("c", s(c))]), "c");
        assert_eq!(check("10.0.0.0/16"), None);
        assert_eq!(check("0.0.0.0/0"), None);
        assert_eq!(check("10.0.1.7/32"), None);
        assert!(check("10.0.0.1/16").is_some());
        assert!(check("10.0.0.0/33").is_some());
        assert!(check("10.0.0.0/016").is_some());
        assert!(check("10.0.0.0").is_some());
        assert!(check("vpc").is_some());
        assert_eq!(check_ipv4_cidr(&crate::attrs::obj([]), "c"), None);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn imported_tags_leave_out_the_default_ones() {
        let defaults: BTreeMap<String, String> = [("team".to_owned(), "core".to_owned())].into();
        let aws = vec![
            Tag::builder().key("team").value("core").build(),
            Tag::builder().key("Name").value("main").build(),
            Tag::builder()
                .key("aws:cloudformation:stack")
                .value("x")
                .build(),
        ];
        let (_, t) = imported_tags(&defaults, &aws);
        assert_eq!(t, string_map([("Name".to_owned(), "main".to_owned())]));
        let (_, t) = imported_tags(&defaults, &aws[..1]);
        assert_eq!(t, Value::Null);
        let (_, all) = tags_all(&aws);
        assert_eq!(all.as_map().map(|m| m.len()), Some(2));
    }
}
