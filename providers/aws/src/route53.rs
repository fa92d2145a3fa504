//! What `aws_route53_zone` and `aws_route53_record` share: names as
//! Terraform compares them (lower case, no trailing dot, Route 53's octal
//! escapes undone), zone ids without their `/hostedzone/` prefix, waiting
//! for a change to be `INSYNC`, record set look-ups, and zone tags.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeInfo, ChangeStatus, ResourceRecordSet, RrType, Tag,
    TagResourceType,
};

use crate::error::{AwsError, AwsResult, sdk};
use crate::tags;
use crate::wait;

/// A zone id as Terraform records it: `Z123`, not `/hostedzone/Z123`.
pub(crate) fn clean_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// A DNS name as Terraform compares it: lower case, without the trailing
/// dot, with Route 53's `\052` (octal) escapes undone (`*.example.com`).
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if digits.len() == 3
                && digits.chars().all(|d| d.is_digit(8))
                && let Ok(code) = u8::from_str_radix(&digits, 8)
            {
                out.push(char::from(code));
                for _ in 0..3 {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    let lower = out.to_lowercase();
    lower.strip_suffix('.').unwrap_or(&lower).to_owned()
}

/// A record's full name: `name` as is when it already ends in the zone's
/// name, else `name.zone` (Terraform's expandRecordName); normalized.
pub(crate) fn record_fqdn(name: &str, zone: &str) -> String {
    let name = normalize(name);
    let zone = normalize(zone);
    if name == zone || name.ends_with(&format!(".{zone}")) {
        name
    } else if name.is_empty() {
        zone
    } else {
        format!("{name}.{zone}")
    }
}

/// The record types Route 53 knows (to tell a type from a set identifier
/// in an import id).
pub(crate) const RECORD_TYPES: &[&str] = &[
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SSHFP", "SVCB", "TLSA", "TXT",
];

/// A record's id as Terraform writes it: `ZONEID_NAME_TYPE[_SETID]`.
pub(crate) fn record_id(zone_id: &str, fqdn: &str, kind: &str, set_id: Option<&str>) -> String {
    let mut id = format!("{zone_id}_{fqdn}_{kind}");
    if let Some(set) = set_id.filter(|s| !s.is_empty()) {
        id.push('_');
        id.push_str(set);
    }
    id
}

/// The parts of a record id: (zone id, name, type, set identifier). Names
/// may hold underscores (`_abc.example.com`, as ACM's validation records
/// do), so the type is the last part that is a record type.
pub(crate) fn parse_record_id(id: &str) -> Option<(String, String, String, Option<String>)> {
    let (zone, rest) = id.split_once('_')?;
    let (mut name, mut last) = rest.rsplit_once('_')?;
    let mut set = None;
    if !RECORD_TYPES.contains(&last) {
        set = Some(last.to_owned());
        (name, last) = name.rsplit_once('_')?;
        if !RECORD_TYPES.contains(&last) {
            return None;
        }
    }
    if zone.is_empty() || name.is_empty() {
        return None;
    }
    Some((zone.to_owned(), normalize(name), last.to_owned(), set))
}

/// Waits until a change Route 53 accepted is `INSYNC` (served by every
/// name server), as Terraform does.
pub(crate) async fn wait_in_sync(client: &Client, info: Option<&ChangeInfo>) -> AwsResult<()> {
    let Some(info) = info else {
        return Ok(());
    };
    if *info.status() == ChangeStatus::Insync {
        return Ok(());
    }
    let id = info.id().trim_start_matches("/change/").to_owned();
    wait::until(
        &format!("Route 53 change {id} to be INSYNC"),
        wait::limit(1800),
        Duration::from_secs(2),
        || {
            let id = id.clone();
            async move {
                let out = client
                    .get_change()
                    .id(&id)
                    .send()
                    .await
                    .map_err(sdk("GetChange"))?;
                let done = out
                    .change_info()
                    .is_none_or(|c| *c.status() == ChangeStatus::Insync);
                Ok(done.then_some(()))
            }
        },
    )
    .await
}

/// Sends one change batch and waits for it.
pub(crate) async fn change(client: &Client, zone_id: &str, changes: Vec<Change>) -> AwsResult<()> {
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .map_err(|e| AwsError::invalid(format!("a Route 53 change batch: {e}")))?;
    let out = client
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(sdk("ChangeResourceRecordSets"))?;
    wait_in_sync(client, out.change_info()).await
}

pub(crate) fn one_change(action: ChangeAction, set: ResourceRecordSet) -> AwsResult<Change> {
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .map_err(|e| AwsError::invalid(format!("a Route 53 change: {e}")))
}

/// The record set `fqdn`/`kind`/`set_id` of a zone, as Route 53 holds it;
/// `None` when there is none (or no such zone).
pub(crate) async fn find_record(
    client: &Client,
    zone_id: &str,
    fqdn: &str,
    kind: &str,
    set_id: Option<&str>,
) -> AwsResult<Option<ResourceRecordSet>> {
    let want = normalize(fqdn);
    let mut start_name = Some(format!("{want}."));
    let mut start_type = Some(RrType::from(kind));
    let mut start_id: Option<String> = None;
    loop {
        let out = match client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(start_name.take())
            .set_start_record_type(start_type.take())
            .set_start_record_identifier(start_id.take())
            .send()
            .await
            .map_err(sdk("ListResourceRecordSets"))
        {
            Ok(o) => o,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        for r in out.resource_record_sets() {
            let name = normalize(r.name());
            if name == want
                && r.r#type().as_str() == kind
                && r.set_identifier().filter(|s| !s.is_empty()) == set_id.filter(|s| !s.is_empty())
            {
                return Ok(Some(r.clone()));
            }
            // Listed in order from the start name: past it, it is not there.
            if name != want {
                return Ok(None);
            }
        }
        if !out.is_truncated() {
            return Ok(None);
        }
        start_name = out.next_record_name().map(str::to_owned);
        start_type = out.next_record_type().cloned();
        start_id = out.next_record_identifier().map(str::to_owned);
        if start_name.is_none() {
            return Ok(None);
        }
    }
}

/// Every record set of a zone.
pub(crate) async fn all_records(
    client: &Client,
    zone_id: &str,
) -> AwsResult<Vec<ResourceRecordSet>> {
    let mut all = Vec::new();
    let (mut name, mut kind, mut ident): (Option<String>, Option<RrType>, Option<String>) =
        (None, None, None);
    loop {
        let out = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(name.take())
            .set_start_record_type(kind.take())
            .set_start_record_identifier(ident.take())
            .send()
            .await
            .map_err(sdk("ListResourceRecordSets"))?;
        all.extend(out.resource_record_sets().iter().cloned());
        if !out.is_truncated() || out.next_record_name().is_none() {
            return Ok(all);
        }
        name = out.next_record_name().map(str::to_owned);
        kind = out.next_record_type().cloned();
        ident = out.next_record_identifier().map(str::to_owned);
    }
}

/// A hosted zone's tags; `None` when the zone is gone.
pub(crate) async fn zone_tags(
    client: &Client,
    zone_id: &str,
) -> AwsResult<Option<BTreeMap<String, String>>> {
    match client
        .list_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone_id)
        .send()
        .await
        .map_err(sdk("ListTagsForResource"))
    {
        Ok(out) => Ok(Some(
            out.resource_tag_set()
                .map(|s| s.tags())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
                .filter(|(k, _)| !k.starts_with("aws:"))
                .collect(),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Applies the difference between two tag sets to a hosted zone.
pub(crate) async fn retag_zone(
    client: &Client,
    zone_id: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> AwsResult<()> {
    let (set, removed) = tags::delta(old, new);
    if set.is_empty() && removed.is_empty() {
        return Ok(());
    }
    client
        .change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone_id)
        .set_add_tags((!set.is_empty()).then(|| {
            set.into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect()
        }))
        .set_remove_tag_keys((!removed.is_empty()).then_some(removed))
        .send()
        .await
        .map_err(sdk("ChangeTagsForResource"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_terraform_compares_them() {
        assert_eq!(normalize("WWW.Example.COM."), "www.example.com");
        assert_eq!(normalize("\\052.example.com."), "*.example.com");
        assert_eq!(record_fqdn("www", "example.com."), "www.example.com");
        assert_eq!(
            record_fqdn("WWW.example.com.", "example.com"),
            "www.example.com"
        );
        assert_eq!(record_fqdn("", "example.com"), "example.com");
        assert_eq!(clean_zone_id("/hostedzone/Z123"), "Z123");
    }

    #[test]
    fn record_ids_split_where_terraform_splits_them() {
        assert_eq!(
            parse_record_id("Z1_www.example.com_A"),
            Some(("Z1".into(), "www.example.com".into(), "A".into(), None))
        );
        assert_eq!(
            parse_record_id("Z1__abc.example.com._CNAME_blue"),
            Some((
                "Z1".into(),
                "_abc.example.com".into(),
                "CNAME".into(),
                Some("blue".into())
            ))
        );
        assert_eq!(parse_record_id("Z1_www.example.com"), None);
        assert_eq!(parse_record_id("nonsense"), None);
        assert_eq!(
            record_id("Z1", "www.example.com", "A", Some("blue")),
            "Z1_www.example.com_A_blue"
        );
        assert_eq!(
            record_id("Z1", "x.example.com", "TXT", None),
            "Z1_x.example.com_TXT"
        );
    }
}
