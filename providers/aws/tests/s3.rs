//! aws_s3_bucket and aws_s3_object against moto, checked with the SDK.

mod common;

use common::*;
use dumcel_planner::Value;

#[tokio::test]
async fn bucket_with_versioning_and_website_then_object_drift() {
    let env = Env::new().await;
    let bucket_rt = env.resource("aws_s3_bucket");
    let object_rt = env.resource("aws_s3_object");
    let bucket = unique("bucket");

    let cfg = planned(
        bucket_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("force_destroy", Value::Bool(true)),
            (
                "versioning",
                Value::List(vec![obj(&[("enabled", Value::Bool(true))])]),
            ),
            (
                "website",
                Value::List(vec![obj(&[(
                    "index_document",
                    Value::string("index.html"),
                )])]),
            ),
        ]),
    );
    let made = bucket_rt.create(&cfg).await.expect("create bucket");
    // moto's answer has a root element the SDK refuses; read the status raw.
    let enabled = match env
        .s3()
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
    {
        Ok(v) => v.status().map(|s| s.as_str()) == Some("Enabled"),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => e
            .raw()
            .body()
            .bytes()
            .is_some_and(|b| String::from_utf8_lossy(b).contains("<Status>Enabled</Status>")),
        Err(e) => panic!("versioning: {e:?}"),
    };
    assert!(enabled);
    let w = env
        .s3()
        .get_bucket_website()
        .bucket(&bucket)
        .send()
        .await
        .expect("website");
    assert_eq!(w.index_document().unwrap().suffix(), "index.html");
    // A read right after create matches what was recorded: no drift.
    assert_eq!(bucket_rt.read(&made).await.unwrap().unwrap(), made);

    let ocfg = planned(
        object_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("key", Value::string("index.html")),
            ("content", Value::string("<h1>hello</h1>")),
            ("content_type", Value::string("text/html")),
        ]),
    );
    let planned_etag = s(&ocfg, "etag");
    let o = object_rt.create(&ocfg).await.expect("create object");
    assert_eq!(s(&o, "etag"), planned_etag);
    // Overwritten outside dumcel: the etag read back differs (drift).
    env.s3()
        .put_object()
        .bucket(&bucket)
        .key("index.html")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"changed"))
        .send()
        .await
        .unwrap();
    let drifted = object_rt.read(&o).await.unwrap().unwrap();
    assert_ne!(s(&drifted, "etag"), planned_etag);
    let repaired = object_rt.update(&drifted, &ocfg).await.expect("re-upload");
    assert_eq!(s(&repaired, "etag"), planned_etag);

    // Deleted outside dumcel: read says gone.
    bucket_rt
        .delete(&made)
        .await
        .expect("delete (force_destroy empties it)");
    assert!(bucket_rt.read(&made).await.unwrap().is_none());
}

#[tokio::test]
async fn non_empty_bucket_without_force_destroy_reports_aws_error() {
    let env = Env::new().await;
    let rt = env.resource("aws_s3_bucket");
    let bucket = unique("full");
    let made = rt
        .create(&planned(
            rt.as_ref(),
            obj(&[("bucket", Value::string(&bucket))]),
        ))
        .await
        .expect("create");
    env.s3()
        .put_object()
        .bucket(&bucket)
        .key("k")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let e = rt.delete(&made).await.unwrap_err();
    assert!(e.message.contains("BucketNotEmpty"), "{}", e.message);
    env.s3()
        .delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    rt.delete(&made).await.expect("delete");
}

#[tokio::test]
async fn find_bucket_and_object_by_name() {
    let env = Env::new().await;
    let bucket_rt = env.resource("aws_s3_bucket");
    let object_rt = env.resource("aws_s3_object");
    let bucket = unique("find");
    let cfg = planned(
        bucket_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("force_destroy", Value::Bool(true)),
        ]),
    );
    found_nothing(bucket_rt.as_ref(), &cfg).await;
    let made = bucket_rt.create(&cfg).await.expect("create bucket");
    let got = found(bucket_rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "id"), s(&made, "id"));
    assert_eq!(s(&got, "arn"), s(&made, "arn"));

    let ocfg = planned(
        object_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("key", Value::string("a/b.txt")),
            ("content", Value::string("hello")),
        ]),
    );
    found_nothing(object_rt.as_ref(), &ocfg).await;
    let o = object_rt.create(&ocfg).await.expect("create object");
    let got = found(object_rt.as_ref(), &ocfg).await;
    assert_eq!(s(&got, "id"), s(&o, "id"));
    assert_eq!(s(&got, "etag"), s(&o, "etag"));
    let other = set(&ocfg, "key", Value::string("a/missing.txt"));
    found_nothing(object_rt.as_ref(), &other).await;

    bucket_rt.delete(&made).await.expect("delete bucket");
    found_nothing(bucket_rt.as_ref(), &cfg).await;
}
