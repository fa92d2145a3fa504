//! Importing an existing container: its inspected settings written back as
//! configuration would hold them. What the image already sets (command,
//! entrypoint, env, labels, healthcheck) is left out, as are Docker's
//! defaults, so a configuration written for the container plans no change.

use std::collections::HashMap;

use bollard::models::{ContainerInspectResponse, HealthConfig, ImageConfig};
use dumcel_planner::{Map, Value};

use crate::attrs::string_map_value;
use crate::error::DockerError;

/// Networks every container may be on without configuration naming them.
const DEFAULT_NETWORKS: [&str; 3] = ["bridge", "host", "none"];

fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(Value::string).collect())
}

/// `value` unless it is what the image gives anyway.
fn unless_from_image(value: Option<Vec<String>>, image: Option<&Vec<String>>) -> Value {
    match value {
        Some(v) if !v.is_empty() && Some(&v) != image => strings(&v),
        _ => Value::Null,
    }
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    // Nested blocks hold only the arguments that are set, as configuration does.
    Value::Map(
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map>(),
    )
}

fn duration(nanos: Option<i64>) -> Value {
    match nanos {
        Some(n) if n > 0 => Value::string(
            humantime::format_duration(std::time::Duration::from_nanos(n as u64)).to_string(),
        ),
        _ => Value::Null,
    }
}

fn healthcheck(h: Option<HealthConfig>, image: Option<&HealthConfig>) -> Value {
    match h {
        Some(h) if h.test.as_ref().is_some_and(|t| !t.is_empty()) && Some(&h) != image => {
            Value::List(vec![object(vec![
                ("test", strings(h.test.as_deref().unwrap_or_default())),
                ("interval", duration(h.interval)),
                ("timeout", duration(h.timeout)),
                ("start_period", duration(h.start_period)),
                (
                    "retries",
                    h.retries
                        .filter(|r| *r > 0)
                        .map_or(Value::Null, |r| Value::Number(r as f64)),
                ),
            ])])
        }
        _ => Value::List(Vec::new()),
    }
}

/// The container as a `docker_container` value; `image` is its image's config.
pub fn to_value(
    c: ContainerInspectResponse,
    image: Option<ImageConfig>,
) -> Result<Value, DockerError> {
    let id =
        c.id.clone()
            .ok_or_else(|| DockerError::Invalid("the container has no ID".into()))?;
    let short_id: String = id.chars().take(12).collect();
    let config = c.config.unwrap_or_default();
    let host = c.host_config.unwrap_or_default();
    let image = image.unwrap_or_default();
    let state = c.state.unwrap_or_default();

    let image_env = image.env.clone().unwrap_or_default();
    let env: Vec<String> = config
        .env
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !image_env.contains(e))
        .collect();
    let image_labels = image.labels.clone().unwrap_or_default();
    let labels: HashMap<String, String> = config
        .labels
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| image_labels.get(k) != Some(v))
        .collect();

    let mut ports = Vec::new();
    let mut bindings: Vec<_> = host.port_bindings.unwrap_or_default().into_iter().collect();
    bindings.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, list) in bindings {
        let (port, protocol) = key.split_once('/').unwrap_or((&key, "tcp"));
        let Ok(internal) = port.parse::<u16>() else {
            continue;
        };
        for b in list.unwrap_or_default() {
            let external = b.host_port.as_deref().and_then(|p| p.parse::<u16>().ok());
            ports.push(object(vec![
                ("internal", Value::Number(f64::from(internal))),
                (
                    "external",
                    external.map_or(Value::Null, |p| Value::Number(f64::from(p))),
                ),
                (
                    "ip",
                    b.host_ip
                        .filter(|ip| !ip.is_empty())
                        .map_or(Value::Null, Value::string),
                ),
                (
                    "protocol",
                    if protocol == "tcp" {
                        Value::Null
                    } else {
                        Value::string(protocol)
                    },
                ),
            ]));
        }
    }

    let mut networks: Vec<(String, Vec<String>)> = c
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default()
        .into_iter()
        .filter(|(name, _)| !DEFAULT_NETWORKS.contains(&name.as_str()))
        .map(|(name, endpoint)| {
            let aliases = endpoint
                .aliases
                .unwrap_or_default()
                .into_iter()
                // Docker adds the short ID (and, lately, the name) itself.
                .filter(|a| {
                    *a != short_id
                        && Some(a.as_str()) != c.name.as_deref().map(|n| n.trim_start_matches('/'))
                })
                .collect();
            (name, aliases)
        })
        .collect();
    networks.sort();
    let network_mode = match host.network_mode.as_deref() {
        Some(m)
            if !networks.iter().any(|(n, _)| n == m) && !["default", "bridge", ""].contains(&m) =>
        {
            Value::string(m)
        }
        _ => Value::Null,
    };
    let networks_advanced = networks
        .into_iter()
        .map(|(name, aliases)| {
            object(vec![
                ("name", Value::string(name)),
                (
                    "aliases",
                    if aliases.is_empty() {
                        Value::Null
                    } else {
                        strings(&aliases)
                    },
                ),
            ])
        })
        .collect();

    let volumes = host
        .binds
        .unwrap_or_default()
        .into_iter()
        .filter_map(|bind| {
            let mut parts = bind.splitn(3, ':');
            let source = parts.next()?.to_owned();
            let target = parts.next()?.to_owned();
            let read_only = parts
                .next()
                .is_some_and(|m| m.split(',').any(|o| o == "ro"));
            let (key, source) = if source.starts_with('/') {
                ("host_path", source)
            } else {
                ("volume_name", source)
            };
            Some(object(vec![
                ("container_path", Value::string(target)),
                (key, Value::string(source)),
                (
                    "read_only",
                    if read_only {
                        Value::Bool(true)
                    } else {
                        Value::Null
                    },
                ),
            ]))
        })
        .collect();
    let mounts = host
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let typ = m
                .typ
                .map(|t| t.to_string())
                .unwrap_or_else(|| "volume".to_owned());
            object(vec![
                ("target", m.target.map_or(Value::Null, Value::string)),
                ("type", Value::string(typ)),
                (
                    "source",
                    m.source
                        .filter(|s| !s.is_empty())
                        .map_or(Value::Null, Value::string),
                ),
                (
                    "read_only",
                    if m.read_only == Some(true) {
                        Value::Bool(true)
                    } else {
                        Value::Null
                    },
                ),
            ])
        })
        .collect();

    let (restart, retries) = crate::container::observed_restart(host.restart_policy.as_ref());
    let optional = |v: Option<String>, default: Option<&String>| match v {
        Some(s) if !s.is_empty() && Some(&s) != default => Value::string(s),
        _ => Value::Null,
    };
    let hostname = config.hostname.filter(|h| *h != short_id);

    let mut out = Map::new();
    out.insert("id".into(), Value::string(&id));
    out.insert(
        "name".into(),
        Value::string(c.name.unwrap_or_default().trim_start_matches('/')),
    );
    out.insert(
        "image".into(),
        config.image.or(c.image).map_or(Value::Null, Value::string),
    );
    out.insert(
        "command".into(),
        unless_from_image(config.cmd, image.cmd.as_ref()),
    );
    out.insert(
        "entrypoint".into(),
        unless_from_image(config.entrypoint, image.entrypoint.as_ref()),
    );
    out.insert(
        "env".into(),
        if env.is_empty() {
            Value::Null
        } else {
            strings(&env)
        },
    );
    out.insert(
        "working_dir".into(),
        optional(config.working_dir, image.working_dir.as_ref()),
    );
    out.insert("user".into(), optional(config.user, image.user.as_ref()));
    out.insert("hostname".into(), optional(hostname, None));
    out.insert(
        "labels".into(),
        if labels.is_empty() {
            Value::Null
        } else {
            string_map_value(&labels)
        },
    );
    out.insert("network_mode".into(), network_mode);
    out.insert("restart".into(), restart.map_or(Value::Null, Value::string));
    out.insert(
        "max_retry_count".into(),
        if retries > 0 {
            Value::Number(retries as f64)
        } else {
            Value::Null
        },
    );
    out.insert("must_run".into(), Value::Null);
    out.insert(
        "running".into(),
        Value::Bool(state.running == Some(true) && state.paused != Some(true)),
    );
    out.insert("wait".into(), Value::Null);
    out.insert("wait_timeout".into(), Value::Null);
    out.insert("ports".into(), Value::List(ports));
    out.insert("networks_advanced".into(), Value::List(networks_advanced));
    out.insert("volumes".into(), Value::List(volumes));
    out.insert("mounts".into(), Value::List(mounts));
    out.insert(
        "healthcheck".into(),
        healthcheck(config.healthcheck, image.healthcheck.as_ref()),
    );
    Ok(Value::Map(out))
}
