//! `data "aws_region"`: a region by `name` or by its EC2 `endpoint`, the
//! provider's own region when neither is given (its `region`, else the
//! standard chain's, as the SDK resolved it). Gives `id` (the name),
//! `name`, `endpoint` (EC2's host name) and `description` ("Europe
//! (Ireland)"). No API call is made: like Terraform, it answers from the
//! partitions' region list, which a region newer than this dumcel is missing
//! from (its description is then empty).

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{DataSource, ProviderError, ProviderResult};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{opt_str, s, with_all};
use crate::config::Shared;
use crate::ec2::region;

/// The regions and their descriptions, as AWS's endpoint data names them.
const REGIONS: &[(&str, &str)] = &[
    ("af-south-1", "Africa (Cape Town)"),
    ("ap-east-1", "Asia Pacific (Hong Kong)"),
    ("ap-east-2", "Asia Pacific (Taipei)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
    ("ap-northeast-2", "Asia Pacific (Seoul)"),
    ("ap-northeast-3", "Asia Pacific (Osaka)"),
    ("ap-south-1", "Asia Pacific (Mumbai)"),
    ("ap-south-2", "Asia Pacific (Hyderabad)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-southeast-2", "Asia Pacific (Sydney)"),
    ("ap-southeast-3", "Asia Pacific (Jakarta)"),
    ("ap-southeast-4", "Asia Pacific (Melbourne)"),
    ("ap-southeast-5", "Asia Pacific (Malaysia)"),
    ("ap-southeast-7", "Asia Pacific (Thailand)"),
    ("ca-central-1", "Canada (Central)"),
    ("ca-west-1", "Canada West (Calgary)"),
    ("cn-north-1", "China (Beijing)"),
    ("cn-northwest-1", "China (Ningxia)"),
    ("eu-central-1", "Europe (Frankfurt)"),
    ("eu-central-2", "Europe (Zurich)"),
    ("eu-north-1", "Europe (Stockholm)"),
    ("eu-south-1", "Europe (Milan)"),
    ("eu-south-2", "Europe (Spain)"),
    ("eu-west-1", "Europe (Ireland)"),
    ("eu-west-2", "Europe (London)"),
    ("eu-west-3", "Europe (Paris)"),
    ("il-central-1", "Israel (Tel Aviv)"),
    ("me-central-1", "Middle East (UAE)"),
    ("me-south-1", "Middle East (Bahrain)"),
    ("mx-central-1", "Mexico (Central)"),
    ("sa-east-1", "South America (Sao Paulo)"),
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-gov-east-1", "AWS GovCloud (US-East)"),
    ("us-gov-west-1", "AWS GovCloud (US-West)"),
    ("us-west-1", "US West (N. California)"),
    ("us-west-2", "US West (Oregon)"),
];

/// EC2's endpoint host name in a region.
fn endpoint(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("ec2.{region}.amazonaws.com.cn")
    } else {
        format!("ec2.{region}.amazonaws.com")
    }
}

/// The region an EC2 endpoint (a host name, or a URL) is in.
fn region_of_endpoint(ep: &str) -> Option<String> {
    let host = ep
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()?;
    let rest = host.strip_prefix("ec2.")?;
    let region = rest
        .strip_suffix(".amazonaws.com.cn")
        .or_else(|| rest.strip_suffix(".amazonaws.com"))?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
}

/// Whether a name looks like a region (`xx-word-N`, `us-gov-west-1`).
fn looks_like_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u32>().is_ok()
}

pub struct RegionData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl RegionData {
    pub fn new(shared: Arc<Shared>) -> RegionData {
        RegionData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("name", Attribute::optional_computed())
                .attr("endpoint", Attribute::optional_computed())
                .attr("description", Attribute::computed()),
        }
    }
}

#[async_trait]
impl DataSource for RegionData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let by_endpoint = match opt_str(config, "endpoint") {
            Some(ep) => Some(region_of_endpoint(ep).ok_or_else(|| {
                ProviderError::new(format!(
                    "no region has the EC2 endpoint {ep:?} (expected ec2.REGION.amazonaws.com)"
                ))
            })?),
            None => None,
        };
        let name = match (opt_str(config, "name"), by_endpoint) {
            (Some(n), Some(e)) if n != e => {
                return Err(ProviderError::new(format!(
                    "the endpoint names region {e:?}, not {n:?}"
                )));
            }
            (Some(n), _) => n.to_owned(),
            (None, Some(e)) => e,
            (None, None) => {
                let r = region(&self.shared.ec2().await);
                if r.is_empty() {
                    return Err(ProviderError::new(
                        "no region is configured: set `region` in the provider \"aws\" block, or AWS_REGION",
                    ));
                }
                r
            }
        };
        if !looks_like_region(&name) {
            return Err(ProviderError::new(format!(
                "{name:?} is not a region name (such as eu-west-1)"
            )));
        }
        let description = REGIONS
            .iter()
            .find(|(r, _)| *r == name)
            .map(|(_, d)| *d)
            .unwrap_or("");
        Ok(with_all(
            config,
            [
                ("id", s(&name)),
                ("endpoint", s(endpoint(&name))),
                ("description", s(description)),
                ("name", s(name)),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_names() {
        assert_eq!(endpoint("eu-west-1"), "ec2.eu-west-1.amazonaws.com");
        assert_eq!(endpoint("cn-north-1"), "ec2.cn-north-1.amazonaws.com.cn");
        assert_eq!(
            region_of_endpoint("ec2.us-west-2.amazonaws.com").as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            region_of_endpoint("https://ec2.cn-north-1.amazonaws.com.cn/").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of_endpoint("s3.amazonaws.com"), None);
        assert!(looks_like_region("us-gov-west-1"));
        assert!(looks_like_region("eu-west-3"));
        assert!(!looks_like_region("Ireland"));
        assert!(!looks_like_region("eu-west"));
    }
}
