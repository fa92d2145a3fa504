//! `container_definitions` of a task definition: a JSON string in the shape of
//! ECS's API (`[{"name": ..., "image": ..., "portMappings": [...]}]`), turned
//! into SDK types. A key this provider does not know is an error rather than
//! silently dropped, so a task never runs without what its author asked for.

use aws_sdk_ecs::types::{
    ContainerDefinition, HealthCheck, KeyValuePair, LogConfiguration, LogDriver, PortMapping,
    Secret, TransportProtocol,
};
use serde_json::{Map, Value as Json};

use crate::error::{AwsError, AwsResult};

const KEYS: &[&str] = &[
    "name",
    "image",
    "cpu",
    "memory",
    "memoryReservation",
    "essential",
    "portMappings",
    "environment",
    "command",
    "entryPoint",
    "workingDir",
    "logConfiguration",
    "secrets",
    "healthCheck",
    "user",
    "readonlyRootFilesystem",
];

pub fn parse(text: &str) -> AwsResult<Vec<ContainerDefinition>> {
    let json: Json = serde_json::from_str(text)
        .map_err(|e| AwsError::invalid(format!("container_definitions is not JSON: {e}")))?;
    let list = json
        .as_array()
        .ok_or_else(|| AwsError::invalid("container_definitions must be a JSON array"))?;
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.as_object().ok_or_else(|| {
                AwsError::invalid(format!("container_definitions[{i}] must be an object"))
            })?;
            container(c).map_err(|e| AwsError::invalid(format!("container_definitions[{i}]: {e}")))
        })
        .collect()
}

fn container(c: &Map<String, Json>) -> Result<ContainerDefinition, String> {
    if let Some(k) = c.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "key {k:?} is not supported; supported keys: {}",
            KEYS.join(", ")
        ));
    }
    let name = str_of(c, "name")?.ok_or("\"name\" is required")?;
    let image = str_of(c, "image")?.ok_or("\"image\" is required")?;
    let mut b = ContainerDefinition::builder()
        .name(name)
        .image(image)
        .set_cpu(int_of(c, "cpu")?)
        .set_memory(int_of(c, "memory")?)
        .set_memory_reservation(int_of(c, "memoryReservation")?)
        .set_essential(bool_of(c, "essential")?)
        .set_working_directory(str_of(c, "workingDir")?)
        .set_user(str_of(c, "user")?)
        .set_readonly_root_filesystem(bool_of(c, "readonlyRootFilesystem")?)
        .set_command(strings_of(c, "command")?)
        .set_entry_point(strings_of(c, "entryPoint")?);
    for (i, p) in objects_of(c, "portMappings")?.iter().enumerate() {
        let port = PortMapping::builder()
            .set_container_port(int_of(p, "containerPort")?)
            .set_host_port(int_of(p, "hostPort")?)
            .set_protocol(str_of(p, "protocol")?.map(|s| TransportProtocol::from(s.as_str())))
            .set_name(str_of(p, "name")?)
            .build();
        if port.container_port().is_none() {
            return Err(format!("portMappings[{i}]: \"containerPort\" is required"));
        }
        b = b.port_mappings(port);
    }
    for e in objects_of(c, "environment")? {
        b = b.environment(
            KeyValuePair::builder()
                .set_name(str_of(e, "name")?)
                .set_value(str_of(e, "value")?)
                .build(),
        );
    }
    for (i, s) in objects_of(c, "secrets")?.iter().enumerate() {
        let (Some(name), Some(from)) = (str_of(s, "name")?, str_of(s, "valueFrom")?) else {
            return Err(format!("secrets[{i}] needs \"name\" and \"valueFrom\""));
        };
        b = b.secrets(
            Secret::builder()
                .name(name)
                .value_from(from)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if let Some(l) = object_of(c, "logConfiguration")? {
        let driver = str_of(l, "logDriver")?.ok_or("logConfiguration needs \"logDriver\"")?;
        let mut lb = LogConfiguration::builder().log_driver(LogDriver::from(driver.as_str()));
        if let Some(opts) = object_of(l, "options")? {
            for (k, v) in opts {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("logConfiguration.options.{k} must be a string"))?;
                lb = lb.options(k.clone(), v.to_owned());
            }
        }
        b = b.log_configuration(lb.build().map_err(|e| e.to_string())?);
    }
    if let Some(h) = object_of(c, "healthCheck")? {
        b = b.health_check(
            HealthCheck::builder()
                .set_command(strings_of(h, "command")?)
                .set_interval(int_of(h, "interval")?)
                .set_timeout(int_of(h, "timeout")?)
                .set_retries(int_of(h, "retries")?)
                .set_start_period(int_of(h, "startPeriod")?)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(b.build())
}

/// Whether the containers ECS holds (`actual`) are the ones `planned` asks
/// for: how a lost registration is told from an older revision of the same
/// family. Containers pair up by name. Every supported key the
/// configuration sets must match; a key it leaves out must be unset or
/// ECS's default there (`cpu` 0, `essential` true, empty lists). Inside a
/// set key's value (a port mapping, a health check) ECS may fill in more
/// (`hostPort`, `protocol`, intervals): only what was configured counts.
pub fn same(planned: &[ContainerDefinition], actual: &[ContainerDefinition]) -> bool {
    let by_name = |defs: &[ContainerDefinition]| {
        let mut v: Vec<Json> = defs.iter().map(canonical).collect();
        v.sort_by(|a, b| {
            a.get("name")
                .map(Json::to_string)
                .cmp(&b.get("name").map(Json::to_string))
        });
        v
    };
    let (planned, actual) = (by_name(planned), by_name(actual));
    planned.len() == actual.len()
        && planned.iter().zip(&actual).all(|(p, a)| {
            let (Some(p), Some(a)) = (p.as_object(), a.as_object()) else {
                return false;
            };
            p.iter()
                .all(|(k, pv)| a.get(k).is_some_and(|av| covers(pv, av)))
                && a.keys().all(|k| p.contains_key(k))
        })
}

/// `planned` is `actual` with, inside objects, only some of the keys.
fn covers(planned: &Json, actual: &Json) -> bool {
    match (planned, actual) {
        (Json::Object(p), Json::Object(a)) => p
            .iter()
            .all(|(k, pv)| a.get(k).is_some_and(|av| covers(pv, av))),
        (Json::Array(p), Json::Array(a)) => {
            p.len() == a.len() && p.iter().zip(a).all(|(pv, av)| covers(pv, av))
        }
        (p, a) => p == a,
    }
}

/// A container definition in the keys of [`KEYS`], leaving out what is
/// unset or ECS's default, so that "left out" and "defaulted" compare equal.
/// Environment variables and secrets are sets: sorted by name.
fn canonical(c: &ContainerDefinition) -> Json {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Json>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    let strings = |l: &[String]| (!l.is_empty()).then(|| Json::from(l.to_vec()));
    let int = |n: Option<i32>| n.map(Json::from);
    put("name", c.name().map(Json::from));
    put("image", c.image().map(Json::from));
    put("cpu", (c.cpu() != 0).then(|| Json::from(c.cpu())));
    put("memory", int(c.memory()));
    put("memoryReservation", int(c.memory_reservation()));
    put(
        "essential",
        (c.essential() == Some(false)).then_some(Json::Bool(false)),
    );
    put("command", strings(c.command()));
    put("entryPoint", strings(c.entry_point()));
    put("workingDir", c.working_directory().map(Json::from));
    put("user", c.user().map(Json::from));
    put(
        "readonlyRootFilesystem",
        (c.readonly_root_filesystem() == Some(true)).then_some(Json::Bool(true)),
    );
    let ports: Vec<Json> = c
        .port_mappings()
        .iter()
        .map(|p| {
            let mut o = Map::new();
            o.insert("containerPort".into(), Json::from(p.container_port()));
            if let Some(h) = p.host_port() {
                o.insert("hostPort".into(), Json::from(h));
            }
            if let Some(proto) = p.protocol() {
                o.insert("protocol".into(), Json::from(proto.as_str()));
            }
            if let Some(n) = p.name() {
                o.insert("name".into(), Json::from(n));
            }
            Json::Object(o)
        })
        .collect();
    put(
        "portMappings",
        (!ports.is_empty()).then_some(Json::Array(ports)),
    );
    let mut env: Vec<(String, Json)> = c
        .environment()
        .iter()
        .map(|e| {
            let name = e.name().unwrap_or_default().to_owned();
            let pair = serde_json::json!({"name": e.name(), "value": e.value()});
            (name, pair)
        })
        .collect();
    env.sort_by(|a, b| a.0.cmp(&b.0));
    put(
        "environment",
        (!env.is_empty()).then(|| Json::Array(env.into_iter().map(|(_, v)| v).collect())),
    );
    let mut secrets: Vec<(String, Json)> = c
        .secrets()
        .iter()
        .map(|x| {
            let pair = serde_json::json!({"name": x.name(), "valueFrom": x.value_from()});
            (x.name().to_owned(), pair)
        })
        .collect();
    secrets.sort_by(|a, b| a.0.cmp(&b.0));
    put(
        "secrets",
        (!secrets.is_empty()).then(|| Json::Array(secrets.into_iter().map(|(_, v)| v).collect())),
    );
    put(
        "logConfiguration",
        c.log_configuration().map(|l| {
            serde_json::json!({
                "logDriver": l.log_driver().as_str(),
                "options": l.options().cloned().unwrap_or_default(),
            })
        }),
    );
    put(
        "healthCheck",
        c.health_check().map(|h| {
            let mut o = Map::new();
            o.insert("command".into(), Json::from(h.command().to_vec()));
            for (k, v) in [
                ("interval", h.interval()),
                ("timeout", h.timeout()),
                ("retries", h.retries()),
                ("startPeriod", h.start_period()),
            ] {
                if let Some(v) = v {
                    o.insert(k.into(), Json::from(v));
                }
            }
            Json::Object(o)
        }),
    );
    Json::Object(m)
}

fn str_of(m: &Map<String, Json>, k: &str) -> Result<Option<String>, String> {
    match m.get(k) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("\"{k}\" must be a string, got {other}")),
    }
}

fn int_of(m: &Map<String, Json>, k: &str) -> Result<Option<i32>, String> {
    match m.get(k) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            // Numbers written as strings ("512") are common in hand-written JSON.
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(Some)
            .ok_or_else(|| format!("\"{k}\" must be a whole number, got {v}")),
    }
}

fn bool_of(m: &Map<String, Json>, k: &str) -> Result<Option<bool>, String> {
    match m.get(k) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("\"{k}\" must be true or false, got {other}")),
    }
}

fn strings_of(m: &Map<String, Json>, k: &str) -> Result<Option<Vec<String>>, String> {
    match m.get(k) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("\"{k}\" must be a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!("\"{k}\" must be a list of strings, got {other}")),
    }
}

fn object_of<'a>(
    m: &'a Map<String, Json>,
    k: &str,
) -> Result<Option<&'a Map<String, Json>>, String> {
    match m.get(k) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(o)) => Ok(Some(o)),
        Some(other) => Err(format!("\"{k}\" must be an object, got {other}")),
    }
}

fn objects_of<'a>(m: &'a Map<String, Json>, k: &str) -> Result<Vec<&'a Map<String, Json>>, String> {
    match m.get(k) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_object()
                    .ok_or_else(|| format!("\"{k}\" must be a list of objects"))
            })
            .collect(),
        Some(other) => Err(format!("\"{k}\" must be a list of objects, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_common_shape() {
        let defs = parse(
            r#"[{"name":"app","image":"repo:1","essential":true,"memory":"256",
                "portMappings":[{"containerPort":8080,"protocol":"tcp"}],
                "environment":[{"name":"A","value":"1"}]}]"#,
        )
        .unwrap();
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].image(), Some("repo:1"));
        assert_eq!(defs[0].memory(), Some(256));
        assert_eq!(defs[0].port_mappings()[0].container_port(), Some(8080));
    }

    #[test]
    fn registered_containers_match_with_ecs_defaults_filled_in() {
        let planned = parse(
            r#"[{"name":"app","image":"repo:1","memory":256,
                "portMappings":[{"containerPort":8080}],
                "environment":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]"#,
        )
        .unwrap();
        // What ECS answers: defaults filled in, variables reordered.
        let answered = parse(
            r#"[{"name":"app","image":"repo:1","memory":256,"cpu":0,"essential":true,
                "portMappings":[{"containerPort":8080,"hostPort":8080,"protocol":"tcp"}],
                "environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]"#,
        )
        .unwrap();
        assert!(same(&planned, &answered));
        let other_image = parse(r#"[{"name":"app","image":"repo:2","memory":256}]"#).unwrap();
        assert!(!same(&planned, &other_image));
        // A setting the configuration no longer has is a different revision.
        let with_command = parse(
            r#"[{"name":"app","image":"repo:1","memory":256,"command":["x"],
                "portMappings":[{"containerPort":8080}],
                "environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]"#,
        )
        .unwrap();
        assert!(!same(&planned, &with_command));
        assert!(!same(&planned, &[]));
    }

    #[test]
    fn unknown_keys_and_bad_json_are_named() {
        let e = parse(r#"[{"name":"a","image":"b","links":[]}]"#).unwrap_err();
        assert!(e.to_string().contains("\"links\" is not supported"), "{e}");
        assert!(parse("{").unwrap_err().to_string().contains("not JSON"));
        assert!(
            parse(r#"[{"image":"b"}]"#)
                .unwrap_err()
                .to_string()
                .contains("\"name\" is required")
        );
    }
}
