//! aws_ecr_repository against moto, checked with the SDK.

mod common;

use common::*;
use dumcel_planner::Value;

#[tokio::test]
async fn create_update_read_import_delete() {
    let env = Env::new().await;
    let rt = env.resource("aws_ecr_repository");
    let name = unique("repo");
    let config = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(&name)),
            ("scan_on_push", Value::Bool(true)),
            ("tags", obj(&[("team", Value::string("web"))])),
        ]),
    );
    let made = rt.create(&config).await.expect("create");
    assert!(s(&made, "repository_url").ends_with(&name), "{made}");
    assert_eq!(s(&made, "image_tag_mutability"), "MUTABLE");

    let repo = env
        .ecr()
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await
        .expect("describe");
    let repo = &repo.repositories()[0];
    assert!(repo.image_scanning_configuration().unwrap().scan_on_push());

    // In place: mutability.
    let mut changed = made.clone();
    if let Value::Map(m) = &mut changed {
        m.insert("image_tag_mutability".into(), Value::string("IMMUTABLE"));
    }
    let updated = rt.update(&made, &changed).await.expect("update");
    assert_eq!(s(&updated, "image_tag_mutability"), "IMMUTABLE");

    let read = rt.read(&updated).await.expect("read").expect("exists");
    assert_eq!(read, updated);

    let imported = rt.import(&name).await.expect("import");
    assert_eq!(s(&imported, "arn"), s(&made, "arn"));

    rt.delete(&updated).await.expect("delete");
    assert!(rt.read(&updated).await.expect("read").is_none());
    // Deleting what is gone is not an error.
    rt.delete(&updated).await.expect("delete again");
}

#[tokio::test]
async fn aws_errors_carry_code_and_message() {
    let env = Env::new().await;
    let rt = env.resource("aws_ecr_repository");
    let name = unique("missing");
    let e = rt.import(&name).await.unwrap_err();
    assert!(
        e.message.contains("RepositoryNotFoundException"),
        "{}",
        e.message
    );

    let config = planned(rt.as_ref(), obj(&[("name", Value::string(unique("dup")))]));
    let made = rt.create(&config).await.expect("create");
    let e = rt.create(&config).await.unwrap_err();
    assert!(
        e.message.contains("RepositoryAlreadyExistsException"),
        "{}",
        e.message
    );
    rt.delete(&made).await.expect("delete");
}

#[tokio::test]
async fn find_repository_by_name() {
    let env = Env::new().await;
    let rt = env.resource("aws_ecr_repository");
    let cfg = planned(rt.as_ref(), obj(&[("name", Value::string(unique("find")))]));
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    let got = found(rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "arn"), s(&made, "arn"));
    assert_eq!(s(&got, "repository_url"), s(&made, "repository_url"));
    rt.delete(&made).await.expect("delete");
    found_nothing(rt.as_ref(), &cfg).await;
}
