//! From a `docker_container` configuration to the Engine API's create request:
//! ports, networks, volumes, mounts, restart policy and healthcheck. Checked
//! first by [`validate`], so that a mistake is a plan-time error pointing at
//! the attribute rather than a failed apply.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountType,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use dumcel_planner::Value;

use crate::attrs::{
    blocks, bool_or, check_bool, check_string, check_string_list, check_string_map, duration_nanos,
    opt_num, opt_str, req_str, string_list, string_map,
};
use crate::error::DockerError;

pub const RESTART_POLICIES: [&str; 4] = ["no", "on-failure", "always", "unless-stopped"];
const PROTOCOLS: [&str; 3] = ["tcp", "udp", "sctp"];
const MOUNT_TYPES: [&str; 3] = ["bind", "volume", "tmpfs"];
const HEALTH_DURATIONS: [&str; 3] = ["interval", "timeout", "start_period"];

/// Configuration errors as (attribute, message) pairs.
pub fn validate(config: &Value) -> Vec<(String, String)> {
    let mut e = Vec::new();
    for a in [
        "name",
        "image",
        "working_dir",
        "user",
        "hostname",
        "network_mode",
        "restart",
    ] {
        check_string(config, a, &mut e);
    }
    for a in ["command", "entrypoint", "env"] {
        check_string_list(config, a, &mut e);
    }
    for a in ["must_run", "wait"] {
        check_bool(config, a, &mut e);
    }
    check_string_map(config, "labels", &mut e);
    if let Some(r) = opt_str(config, "restart")
        && !RESTART_POLICIES.contains(&r)
    {
        e.push((
            "restart".into(),
            format!("must be one of {}, got {r:?}", RESTART_POLICIES.join(", ")),
        ));
    }
    check_count(config, "max_retry_count", &mut e);
    // Docker keeps a retry count only for on-failure; elsewhere it would read
    // back as 0 and show as a change on every plan.
    if config.get("max_retry_count").is_some_and(|v| !v.is_null())
        && !config.get("restart").is_some_and(Value::is_unknown)
        && opt_str(config, "restart") != Some("on-failure")
    {
        e.push((
            "max_retry_count".into(),
            "only applies with restart = \"on-failure\"".into(),
        ));
    }
    check_count(config, "wait_timeout", &mut e);
    if let Ok(env) = string_list(config, "env") {
        for item in env.iter().filter(|i| !i.contains('=')) {
            e.push(("env".into(), format!("{item:?} is not NAME=VALUE")));
        }
    }
    for p in blocks(config, "ports") {
        match port_number(p, "internal") {
            Ok(Some(_)) | Err(None) => {}
            Ok(None) => e.push(("ports".into(), "internal: a port is required".into())),
            Err(Some(m)) => e.push(("ports".into(), format!("internal: {m}"))),
        }
        if let Err(Some(m)) = port_number(p, "external") {
            e.push(("ports".into(), format!("external: {m}")));
        }
        check_string(p, "ip", &mut e);
        if let Some(proto) = opt_str(p, "protocol")
            && !PROTOCOLS.contains(&proto)
        {
            e.push((
                "ports".into(),
                format!("protocol must be one of tcp, udp, sctp, got {proto:?}"),
            ));
        }
    }
    for n in blocks(config, "networks_advanced") {
        check_string(n, "name", &mut e);
        check_string_list(n, "aliases", &mut e);
    }
    for v in blocks(config, "volumes") {
        let named = v.get("volume_name").is_some_and(|x| !x.is_null());
        let host = v.get("host_path").is_some_and(|x| !x.is_null());
        if named == host {
            e.push((
                "volumes".into(),
                "set exactly one of volume_name and host_path".into(),
            ));
        }
        for a in ["container_path", "volume_name", "host_path"] {
            check_string(v, a, &mut e);
        }
        check_bool(v, "read_only", &mut e);
    }
    for m in blocks(config, "mounts") {
        for a in ["target", "source", "type"] {
            check_string(m, a, &mut e);
        }
        check_bool(m, "read_only", &mut e);
        if let Some(t) = opt_str(m, "type")
            && !MOUNT_TYPES.contains(&t)
        {
            e.push((
                "mounts".into(),
                format!("type must be one of bind, volume, tmpfs, got {t:?}"),
            ));
        }
    }
    for h in blocks(config, "healthcheck") {
        check_string_list(h, "test", &mut e);
        for a in HEALTH_DURATIONS {
            if let Some(text) = opt_str(h, a)
                && let Err(m) = duration_nanos(text)
            {
                e.push(("healthcheck".into(), format!("{a}: {m}")));
            }
        }
        check_count(h, "retries", &mut e);
    }
    e
}

/// A whole, non-negative number when set.
fn check_count(config: &Value, name: &str, errors: &mut Vec<(String, String)>) {
    match config.get(name) {
        None | Some(Value::Null) | Some(Value::Unknown) => {}
        Some(Value::Number(n)) if *n >= 0.0 && n.fract() == 0.0 => {}
        Some(other) => errors.push((
            name.to_owned(),
            format!("must be a whole number of at least 0, got {other:?}"),
        )),
    }
}

/// A port number: `Ok(None)` when unset, `Err(None)` when not known yet.
fn port_number(block: &Value, name: &str) -> Result<Option<u16>, Option<String>> {
    match block.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Unknown) => Err(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (1.0..=65535.0).contains(n))
            .map(|n| Some(n as u16))
            .ok_or_else(|| Some(format!("must be a port number from 1 to 65535, got {v:?}"))),
    }
}

fn invalid(m: String) -> DockerError {
    DockerError::Invalid(m)
}

/// The restart policy the configuration asks for.
pub fn restart_policy(config: &Value) -> RestartPolicy {
    let name = match opt_str(config, "restart").unwrap_or("no") {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    };
    let retries = match name {
        RestartPolicyNameEnum::ON_FAILURE => opt_num(config, "max_retry_count").map(|n| n as i64),
        _ => None,
    };
    RestartPolicy {
        name: Some(name),
        maximum_retry_count: retries,
    }
}

fn health_config(h: &Value) -> Result<HealthConfig, DockerError> {
    let duration = |a: &str| -> Result<Option<i64>, DockerError> {
        opt_str(h, a)
            .map(|t| duration_nanos(t).map_err(|m| invalid(format!("healthcheck {a}: {m}"))))
            .transpose()
    };
    Ok(HealthConfig {
        test: Some(string_list(h, "test")?),
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start_period")?,
        retries: opt_num(h, "retries").map(|n| n as i64),
        ..Default::default()
    })
}

/// Networks to join beyond the one the container is created on (the API
/// before 1.44 takes a single endpoint at create time).
pub type ExtraNetworks = Vec<(String, EndpointSettings)>;

pub fn create_body(config: &Value) -> Result<(ContainerCreateBody, ExtraNetworks), DockerError> {
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in blocks(config, "ports") {
        let internal = port_number(p, "internal")
            .ok()
            .flatten()
            .ok_or_else(|| invalid("ports: internal must be a port number".into()))?;
        let external = port_number(p, "external").ok().flatten();
        let key = format!("{internal}/{}", opt_str(p, "protocol").unwrap_or("tcp"));
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: opt_str(p, "ip").map(str::to_owned),
                host_port: Some(external.map(|n| n.to_string()).unwrap_or_default()),
            });
    }

    let mut binds = Vec::new();
    for v in blocks(config, "volumes") {
        let target = req_str(v, "container_path")?;
        let source = opt_str(v, "volume_name")
            .or_else(|| opt_str(v, "host_path"))
            .ok_or_else(|| invalid("volumes: set volume_name or host_path".into()))?;
        let mode = if bool_or(v, "read_only", false) {
            ":ro"
        } else {
            ""
        };
        binds.push(format!("{source}:{target}{mode}"));
    }

    let mut mounts = Vec::new();
    for m in blocks(config, "mounts") {
        let typ = match req_str(m, "type")? {
            "bind" => MountType::BIND,
            "tmpfs" => MountType::TMPFS,
            _ => MountType::VOLUME,
        };
        mounts.push(Mount {
            target: Some(req_str(m, "target")?.to_owned()),
            source: opt_str(m, "source").map(str::to_owned),
            typ: Some(typ),
            read_only: Some(bool_or(m, "read_only", false)),
            ..Default::default()
        });
    }

    let mut networks: ExtraNetworks = Vec::new();
    for n in blocks(config, "networks_advanced") {
        let aliases = string_list(n, "aliases")?;
        networks.push((
            req_str(n, "name")?.to_owned(),
            EndpointSettings {
                aliases: (!aliases.is_empty()).then_some(aliases),
                ..Default::default()
            },
        ));
    }
    let first = (!networks.is_empty()).then(|| networks.remove(0));
    let network_mode = opt_str(config, "network_mode")
        .map(str::to_owned)
        .or_else(|| first.as_ref().map(|(name, _)| name.clone()));

    let host_config = HostConfig {
        port_bindings: Some(bindings),
        binds: (!binds.is_empty()).then_some(binds),
        mounts: (!mounts.is_empty()).then_some(mounts),
        restart_policy: Some(restart_policy(config)),
        network_mode,
        ..Default::default()
    };
    let opt_list = |name: &str| -> Result<Option<Vec<String>>, DockerError> {
        let l = string_list(config, name)?;
        Ok((!l.is_empty()).then_some(l))
    };
    let body = ContainerCreateBody {
        image: Some(req_str(config, "image")?.to_owned()),
        cmd: opt_list("command")?,
        entrypoint: opt_list("entrypoint")?,
        env: opt_list("env")?,
        working_dir: opt_str(config, "working_dir").map(str::to_owned),
        user: opt_str(config, "user").map(str::to_owned),
        hostname: opt_str(config, "hostname").map(str::to_owned),
        labels: Some(string_map(config, "labels")?),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        healthcheck: blocks(config, "healthcheck")
            .first()
            .map(health_config)
            .transpose()?,
        host_config: Some(host_config),
        networking_config: first.map(|(name, settings)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(name, settings)])),
        }),
        ..Default::default()
    };
    Ok((body, networks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dumcel_planner::Map;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Map>(),
        )
    }

    #[test]
    fn bad_values_are_named() {
        let config = obj(&[
            ("name", "c".into()),
            ("image", "i".into()),
            ("restart", "sometimes".into()),
            ("max_retry_count", Value::Number(2.0)),
            ("env", Value::List(vec!["NOEQUALS".into()])),
            (
                "ports",
                Value::List(vec![obj(&[
                    ("internal", Value::Number(70000.0)),
                    ("protocol", "icmp".into()),
                ])]),
            ),
            (
                "healthcheck",
                Value::List(vec![obj(&[("interval", "often".into())])]),
            ),
        ]);
        let errors = validate(&config);
        let text = format!("{errors:?}");
        for needle in [
            "sometimes",
            "NOEQUALS",
            "70000",
            "icmp",
            "often",
            "on-failure",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }

    #[test]
    fn ports_networks_and_volumes_become_the_create_request() {
        let config = obj(&[
            ("image", "web:1".into()),
            (
                "ports",
                Value::List(vec![obj(&[
                    ("internal", Value::Number(8080.0)),
                    ("external", Value::Number(18080.0)),
                    ("ip", "127.0.0.1".into()),
                ])]),
            ),
            (
                "networks_advanced",
                Value::List(vec![
                    obj(&[("name", "front".into())]),
                    obj(&[
                        ("name", "back".into()),
                        ("aliases", Value::List(vec!["api".into()])),
                    ]),
                ]),
            ),
            (
                "volumes",
                Value::List(vec![obj(&[
                    ("volume_name", "data".into()),
                    ("container_path", "/data".into()),
                    ("read_only", Value::Bool(true)),
                ])]),
            ),
            (
                "mounts",
                Value::List(vec![obj(&[
                    ("type", "tmpfs".into()),
                    ("target", "/scratch".into()),
                ])]),
            ),
            ("restart", "on-failure".into()),
            ("max_retry_count", Value::Number(3.0)),
        ]);
        let (body, extra) = create_body(&config).unwrap();
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("front"));
        assert_eq!(host.binds, Some(vec!["data:/data:ro".to_string()]));
        let mounts = host.mounts.unwrap();
        assert_eq!(mounts[0].typ, Some(MountType::TMPFS));
        assert_eq!(mounts[0].target.as_deref(), Some("/scratch"));
        let restart = host.restart_policy.unwrap();
        assert_eq!(restart.name, Some(RestartPolicyNameEnum::ON_FAILURE));
        assert_eq!(restart.maximum_retry_count, Some(3));
        let binding = &host.port_bindings.unwrap()["8080/tcp"];
        assert_eq!(
            binding.as_ref().unwrap()[0].host_port.as_deref(),
            Some("18080")
        );
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].0, "back");
        assert_eq!(extra[0].1.aliases, Some(vec!["api".to_string()]));
    }
}
