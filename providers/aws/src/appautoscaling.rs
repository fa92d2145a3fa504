//! Shared by `aws_appautoscaling_target` and `aws_appautoscaling_policy`:
//! Terraform's import ids, Application Auto Scaling's way of saying "no such
//! target or policy" (a `ValidationException`, not a not-found code), and
//! the tags of a scalable target.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_applicationautoscaling::Client;

use crate::error::{AwsError, AwsResult, sdk};
use crate::tags;

/// `service-namespace/resource-id/scalable-dimension`: the namespace is up to
/// the first slash, the dimension after the last one (dimensions such as
/// `ecs:service:DesiredCount` have none), the resource id (which has
/// slashes: `service/cluster/name`) in between.
pub fn parse_target_id(id: &str) -> Option<(&str, &str, &str)> {
    let (ns, rest) = id.split_once('/')?;
    let (rid, dim) = rest.rsplit_once('/')?;
    (!ns.is_empty() && !rid.is_empty() && !dim.is_empty()).then_some((ns, rid, dim))
}

/// `service-namespace/resource-id/scalable-dimension/policy-name`.
pub fn parse_policy_id(id: &str) -> Option<(&str, &str, &str, &str)> {
    let (target, name) = id.rsplit_once('/')?;
    let (ns, rid, dim) = parse_target_id(target)?;
    (!name.is_empty()).then_some((ns, rid, dim, name))
}

/// Whether AWS answered that the target or policy does not exist: it says
/// so with a `ValidationException` ("No scalable target found for ...",
/// "No scaling policy found for ..."), as Terraform also reads it.
pub fn is_gone(e: &AwsError) -> bool {
    match e {
        AwsError::Service { code, message, .. } => {
            e.is_not_found()
                || (code == "ValidationException"
                    && (message.contains("No scalable target found")
                        || message.contains("No scaling policy found")))
        }
        _ => false,
    }
}

/// The tags of a scalable target.
pub async fn read_tags(client: &Client, arn: &str) -> AwsResult<BTreeMap<String, String>> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(sdk("ListTagsForResource"))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// Brings a target's tags from `old` to `new`.
pub async fn retag(
    client: &Client,
    arn: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> AwsResult<()> {
    let (set, removed) = tags::delta(old, new);
    if !removed.is_empty() {
        client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(sdk("UntagResource"))?;
    }
    if !set.is_empty() {
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set.into_iter().collect::<HashMap<_, _>>()))
            .send()
            .await
            .map_err(sdk("TagResource"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_split_like_terraform() {
        assert_eq!(
            parse_target_id("ecs/service/main/web/ecs:service:DesiredCount"),
            Some(("ecs", "service/main/web", "ecs:service:DesiredCount"))
        );
        assert_eq!(
            parse_target_id("dynamodb/table/t/dynamodb:table:ReadCapacityUnits"),
            Some(("dynamodb", "table/t", "dynamodb:table:ReadCapacityUnits"))
        );
        assert_eq!(parse_target_id("ecs/x"), None);
        assert_eq!(parse_target_id("ecs//dim"), None);
        assert_eq!(
            parse_policy_id("ecs/service/main/web/ecs:service:DesiredCount/cpu"),
            Some(("ecs", "service/main/web", "ecs:service:DesiredCount", "cpu"))
        );
        assert_eq!(parse_policy_id("ecs/service/main/web/"), None);
        assert_eq!(parse_policy_id("cpu"), None);
    }

    #[test]
    fn validation_exceptions_saying_nothing_found_are_gone() {
        let e = |code: &str, message: &str| AwsError::Service {
            operation: "DeregisterScalableTarget",
            code: code.into(),
            message: message.into(),
        };
        assert!(is_gone(&e(
            "ValidationException",
            "No scalable target found for service namespace: ecs"
        )));
        assert!(is_gone(&e("ObjectNotFoundException", "gone")));
        assert!(!is_gone(&e("ValidationException", "min capacity too big")));
    }
}
