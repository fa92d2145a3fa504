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
