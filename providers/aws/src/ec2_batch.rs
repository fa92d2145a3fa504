//! Refreshing many EC2 objects with one call. EC2's Describe* calls take a
//! filter on the objects' ids: unlike a list of ids, which fails the whole
//! call when one of them is gone, a filter answers with the ones that exist,
//! so one call reads a batch and tells each missing object apart.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_ec2::types::Filter;
use dumcel_engine::provider::{ProviderError, ProviderResult};
use dumcel_planner::Value;

use crate::error::AwsResult;

/// How many objects one refresh call describes: EC2 takes up to 200 values
/// in a filter; 100 keeps a page of answers small.
pub(crate) const READ_BATCH: usize = 100;

/// A filter matching any of `ids` by the filter name EC2 gives them
/// (`subnet-id`, `group-id`, ...).
pub(crate) fn ids_filter(name: &str, ids: Vec<String>) -> Filter {
    Filter::builder().name(name).set_values(Some(ids)).build()
}

/// Reads a batch of recorded objects: `describe` gets the ids of those that
/// have one and answers with the objects that exist, by id; `value` turns a
/// prior and its object into the current value. One result per prior, in
/// order: `None` for an object that is gone, an error for a prior without an
/// id (or for all of them when the call failed).
pub(crate) async fn read_by_ids<T, F>(
    priors: &[Value],
    describe: impl FnOnce(Vec<String>) -> F,
    value: impl Fn(&Value, &T) -> Value,
) -> Vec<ProviderResult<Option<Value>>>
where
    F: Future<Output = AwsResult<HashMap<String, T>>>,
{
    let ids: Vec<Option<&str>> = priors
        .iter()
        .map(|p| p.get("id").and_then(Value::as_str))
        .collect();
    let wanted: Vec<String> = ids.iter().flatten().map(|id| (*id).to_owned()).collect();
    let found = if wanted.is_empty() {
        Ok(HashMap::new())
    } else {
        describe(wanted).await.map_err(ProviderError::from)
    };
    priors
        .iter()
        .zip(ids)
        .map(|(prior, id)| {
            let id = id.ok_or_else(|| ProviderError::new("\"id\" must be a string"))?;
            match &found {
                Ok(objects) => Ok(objects.get(id).map(|o| value(prior, o))),
                Err(e) => Err(e.clone()),
            }
        })
        .collect()
}

/// Describes the objects with the given ids in one filtered EC2 call,
/// following every page, and answers them by id:
/// `describe_by_ids!(ec2.describe_subnets(), "subnet-id", ids, subnets, subnet_id, "DescribeSubnets")`
/// (the request, the filter's name, the ids, the answer's list and its
/// items' id accessors, the operation's name for errors).
macro_rules! describe_by_ids {
    ($request:expr, $filter:literal, $ids:expr, $items:ident, $id:ident, $op:literal) => {{
        let mut pages = $request
            .filters($crate::ec2_batch::ids_filter($filter, $ids))
            .into_paginator()
            .send();
        let mut found = std::collections::HashMap::new();
        while let Some(page) = pages.next().await {
            for item in page.map_err($crate::error::sdk($op))?.$items() {
                if let Some(id) = item.$id() {
                    found.insert(id.to_owned(), item.clone());
                }
            }
        }
        Ok::<_, $crate::error::AwsError>(found)
    }};
}
pub(crate) use describe_by_ids;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AwsError;

    fn prior(id: Option<&str>) -> Value {
        match id {
            Some(id) => Value::from_json(&serde_json::json!({ "id": id })),
            None => Value::from_json(&serde_json::json!({})),
        }
    }

    #[tokio::test]
    async fn each_prior_gets_its_object_none_when_gone_and_an_error_without_an_id() {
        let priors = [prior(Some("a")), prior(None), prior(Some("gone"))];
        let reads = read_by_ids(
            &priors,
            |ids| async move {
                assert_eq!(ids, ["a", "gone"]);
                Ok(HashMap::from([("a".to_owned(), 7)]))
            },
            |_, n: &i32| Value::Number(f64::from(*n)),
        )
        .await;
        assert_eq!(reads.len(), 3);
        assert_eq!(reads[0].as_ref().unwrap(), &Some(Value::Number(7.0)));
        assert!(reads[1].is_err());
        assert_eq!(reads[2].as_ref().unwrap(), &None);
    }

    #[tokio::test]
    async fn a_failed_call_fails_every_prior_with_its_message() {
        let priors = [prior(Some("a")), prior(Some("b"))];
        let reads = read_by_ids(
            &priors,
            |_| async { Err::<HashMap<String, i32>, _>(AwsError::invalid("throttled")) },
            |_, _| Value::Null,
        )
        .await;
        for r in reads {
            assert!(r.unwrap_err().message.contains("throttled"));
        }
    }
}
