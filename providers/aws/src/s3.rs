//! What the bucket configuration types (`aws_s3_bucket_versioning`,
//! `aws_s3_bucket_policy`, ...) share, as the Terraform AWS provider v4+
//! splits them from `aws_s3_bucket`: the bucket (and expected owner) as the
//! import id, reading a bucket's versioning state (moto's answer included),
//! the answers that mean "no such configuration", and shaping nested blocks
//! so that what a plan holds and what a read reports have the same keys.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use dumcel_planner::{Map, Value};

use crate::attrs::{obj, opt_str, s};
use crate::error::{AwsError, AwsResult};

/// `bucket` or `bucket,expected_bucket_owner`, Terraform's import id of
/// every bucket configuration type that takes an expected owner.
pub fn parse_id(id: &str) -> AwsResult<(String, Option<String>)> {
    let (bucket, owner) = match id.split_once(',') {
        Some((b, o)) => (b, Some(o)),
        None => (id, None),
    };
    if bucket.is_empty() || owner.is_some_and(str::is_empty) {
        return Err(AwsError::invalid(format!(
            "import id must be BUCKET or BUCKET,EXPECTED_BUCKET_OWNER, got {id:?}"
        )));
    }
    Ok((bucket.to_owned(), owner.map(str::to_owned)))
}

/// The resource id: the bucket, with the expected owner when one is set.
pub fn id_of(bucket: &str, owner: Option<&str>) -> String {
    match owner {
        Some(o) => format!("{bucket},{o}"),
        None => bucket.to_owned(),
    }
}

/// The bucket and expected owner a value names.
pub fn target(v: &Value) -> AwsResult<(&str, Option<&str>)> {
    let bucket = opt_str(v, "bucket")
        .ok_or_else(|| AwsError::invalid("\"bucket\" must be a string".to_owned()))?;
    Ok((bucket, opt_str(v, "expected_bucket_owner")))
}

/// What an import starts from: the bucket (and owner) the id names.
pub fn import_base(id: &str, with_owner: bool) -> AwsResult<Value> {
    let (bucket, owner) = if with_owner {
        parse_id(id)?
    } else {
        (id.to_owned(), None)
    };
    let mut pairs = vec![
        ("id", s(id_of(&bucket, owner.as_deref()))),
        ("bucket", s(bucket)),
    ];
    if with_owner {
        pairs.push(("expected_bucket_owner", owner.map(s).unwrap_or(Value::Null)));
    }
    Ok(obj(pairs))
}

/// Whether an answer says the configuration (or its bucket) is not there.
pub fn is_gone(e: &AwsError) -> bool {
    e.is_not_found()
        || e.code() == Some("ServerSideEncryptionConfigurationNotFoundError")
        || e.code() == Some("NoSuchPublicAccessBlockConfiguration")
}

/// An SDK builder's complaint, as a configuration error.
pub fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> AwsResult<T> {
    r.map_err(|e| AwsError::invalid(e.to_string()))
}

/// A bucket's versioning state: (`Enabled`/`Suspended`, or `None` when it was
/// never set; `MfaDelete` when S3 reports it).
pub async fn versioning(
    s3: &Client,
    bucket: &str,
    owner: Option<&str>,
) -> AwsResult<(Option<String>, Option<String>)> {
    match s3
        .get_bucket_versioning()
        .bucket(bucket)
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .send()
        .await
    {
        Ok(v) => Ok((
            v.status().map(|x| x.as_str().to_owned()),
            v.mfa_delete().map(|x| x.as_str().to_owned()),
        )),
        // moto answers with a `GetBucketVersioningResponse` root element the
        // SDK refuses to parse (as `aws_s3_bucket` reads it): the elements
        // inside are all there is to read.
        Err(SdkError::ServiceError(e)) if e.raw().status().is_success() => {
            let body = e
                .raw()
                .body()
                .bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Ok((xml_text(&body, "Status"), xml_text(&body, "MfaDelete")))
        }
        Err(e) => Err(AwsError::sdk("GetBucketVersioning", e)),
    }
}

/// The text of the first `<tag>...</tag>` in a small XML answer.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim().to_owned()).filter(|t| !t.is_empty())
}

/// Each object of a nested block with every key in `keys`: what the
/// configuration set, else the recorded object's value at the same place
/// (an optional+computed setting AWS reports), else the default. Reads
/// report every key, so plan and read compare like with like.
pub fn shape_blocks(
    proposed: &Value,
    prior: Option<&Value>,
    key: &str,
    keys: &[(&str, Value, bool)],
) -> Value {
    let Some(list) = proposed.get(key).and_then(Value::as_list) else {
        return proposed
            .get(key)
            .cloned()
            .unwrap_or(Value::List(Vec::new()));
    };
    let prior_list = prior.and_then(|p| p.get(key)).and_then(Value::as_list);
    Value::List(
        list.iter()
            .enumerate()
            .map(|(i, item)| {
                let Some(m) = item.as_map() else {
                    return item.clone();
                };
                let had = prior_list.and_then(|l| l.get(i)).and_then(Value::as_map);
                let mut out: Map = m.clone();
                for (k, default, computed) in keys {
                    if out.get(*k).is_none_or(Value::is_null) {
                        let carried = if *computed {
                            had.and_then(|h| h.get(*k))
                                .filter(|v| !v.is_null())
                                .cloned()
                        } else {
                            None
                        };
                        out.insert((*k).to_owned(), carried.unwrap_or_else(|| default.clone()));
                    }
                }
                Value::Map(out)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids() {
        assert_eq!(parse_id("b").unwrap(), ("b".into(), None));
        assert_eq!(
            parse_id("b,123456789012").unwrap(),
            ("b".into(), Some("123456789012".into()))
        );
        assert!(parse_id("b,").is_err());
        assert!(parse_id(",o").is_err());
        assert_eq!(id_of("b", Some("1")), "b,1");
    }

    #[test]
    fn moto_versioning_answer() {
        let body = r#"<?xml version="1.0"?><GetBucketVersioningResponse><Status>Suspended</Status></GetBucketVersioningResponse>"#;
        assert_eq!(xml_text(body, "Status").as_deref(), Some("Suspended"));
        assert_eq!(xml_text(body, "MfaDelete"), None);
    }

    #[test]
    fn shaping_fills_defaults_and_carries_computed() {
        let proposed = obj([("b", Value::List(vec![obj([("status", s("Enabled"))])]))]);
        let prior = obj([(
            "b",
            Value::List(vec![obj([
                ("status", s("Enabled")),
                ("mfa_delete", s("Enabled")),
            ])]),
        )]);
        let keys = [("mfa_delete", s("Disabled"), true)];
        let fresh = shape_blocks(&proposed, None, "b", &keys);
        assert_eq!(
            fresh,
            Value::List(vec![obj([
                ("status", s("Enabled")),
                ("mfa_delete", s("Disabled"))
            ])])
        );
        let carried = shape_blocks(&proposed, Some(&prior), "b", &keys);
        assert_eq!(carried, prior.get("b").cloned().unwrap());
    }
}
