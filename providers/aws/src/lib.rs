//! The AWS provider: `aws_*` resource types and data sources for ECR, ECS,
//! ELBv2, S3, DynamoDB, the networking an ALB needs and STS (who the
//! credentials are). One file per type.
//!
//! Every type shares one [`config::Shared`]: the `provider "aws"` settings and
//! the SDK configuration, loaded on first use with the standard credential and
//! region chains, `AWS_ENDPOINT_URL`, and the standard retry mode. A host
//! that decides a run's credentials itself (the pipeline) pins a role with
//! [`register_with`]: every call of that run then assumes it.

pub mod assume_role;
pub mod attrs;
pub mod config;
pub mod error;
pub mod tags;
pub mod timeouts;

mod acm_certificate;
mod acm_certificate_validation;
mod appautoscaling;
mod appautoscaling_policy;
mod appautoscaling_target;
mod availability_zones_data;
mod caller_identity_data;
mod cloudfront;
mod cloudfront_distribution;
mod cloudfront_origin_access_control;
mod cloudwatch_log_group;
mod dynamodb_table;
mod ec2;
mod ec2_batch;
mod ecr_lifecycle_policy;
mod ecr_repository;
mod ecs_cluster;
mod ecs_cluster_data;
mod ecs_container_definitions;
pub mod ecs_rollout;
mod ecs_service;
mod ecs_task_definition;
mod eip;
mod elbv2;
mod iam;
mod iam_policy;
mod iam_policy_document_data;
mod iam_role;
mod iam_role_policy;
mod iam_role_policy_attachment;
mod internet_gateway;
mod lb;
mod lb_data;
mod lb_listener;
mod lb_listener_certificate;
mod lb_listener_data;
mod lb_listener_rule;
mod lb_target_group;
mod nat_gateway;
mod nested;
mod region_data;
mod route;
mod route53;
mod route53_record;
mod route53_zone;
mod route_table;
mod route_table_association;
mod s3;
mod s3_bucket;
mod s3_bucket_policy;
mod s3_bucket_public_access_block;
mod s3_bucket_server_side_encryption_configuration;
mod s3_bucket_versioning;
mod s3_bucket_website_configuration;
mod s3_object;
mod secretsmanager_secret;
mod secretsmanager_secret_version;
mod security_group;
mod ssm_parameter;
mod subnet;
mod subnets_data;
mod vpc;
mod vpc_data;
mod vpc_security_group_rule;
mod wait;

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{DataSource, Provider, ProviderResult, Registry, ResourceType};
use dumcel_planner::{Schema, Value};

use crate::config::{Settings, Shared};

pub use crate::assume_role::{AssumeRole, AwsRole};

/// The name used in `provider "aws" { ... }` and recorded in state.
pub const PROVIDER: &str = "aws";

#[derive(Default)]
pub struct Aws {
    shared: Arc<Shared>,
    /// The host's pinned role, kept by every further instance (alias).
    role: Option<AwsRole>,
}

impl Aws {
    pub fn new() -> Aws {
        Aws::default()
    }

    /// A provider whose every call assumes `role` from the host's own
    /// credentials, whatever the stack's `provider "aws"` block says.
    pub fn with_role(role: AwsRole) -> Aws {
        Aws {
            shared: Arc::new(Shared::pinned(role.clone())),
            role: Some(role),
        }
    }
}

#[async_trait]
impl Provider for Aws {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn config_schema(&self) -> Schema {
        config::schema()
    }

    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let s = &self.shared;
        vec![
            (
                "aws_ecr_repository",
                Arc::new(ecr_repository::EcrRepository::new(s.clone())),
            ),
            (
                "aws_ecr_lifecycle_policy",
                Arc::new(ecr_lifecycle_policy::EcrLifecyclePolicy::new(s.clone())),
            ),
            (
                "aws_cloudwatch_log_group",
                Arc::new(cloudwatch_log_group::CloudwatchLogGroup::new(s.clone())),
            ),
            (
                "aws_secretsmanager_secret",
                Arc::new(secretsmanager_secret::SecretsmanagerSecret::new(s.clone())),
            ),
            (
                "aws_secretsmanager_secret_version",
                Arc::new(secretsmanager_secret_version::SecretsmanagerSecretVersion::new(
                    s.clone(),
                )),
            ),
            (
                "aws_ssm_parameter",
                Arc::new(ssm_parameter::SsmParameter::new(s.clone())),
            ),
            (
                "aws_ecs_cluster",
                Arc::new(ecs_cluster::EcsCluster::new(s.clone())),
            ),
            (
                "aws_ecs_task_definition",
                Arc::new(ecs_task_definition::EcsTaskDefinition::new(s.clone())),
            ),
            (
                "aws_ecs_service",
                Arc::new(ecs_service::EcsService::new(s.clone())),
            ),
            (
                "aws_s3_bucket",
                Arc::new(s3_bucket::S3Bucket::new(s.clone())),
            ),
            (
                "aws_s3_object",
                Arc::new(s3_object::S3Object::new(s.clone())),
            ),
            (
                "aws_s3_bucket_versioning",
                Arc::new(s3_bucket_versioning::S3BucketVersioning::new(s.clone())),
            ),
            (
                "aws_s3_bucket_public_access_block",
                Arc::new(s3_bucket_public_access_block::S3BucketPublicAccessBlock::new(
                    s.clone(),
                )),
            ),
            (
                "aws_s3_bucket_policy",
                Arc::new(s3_bucket_policy::S3BucketPolicy::new(s.clone())),
            ),
            (
                "aws_s3_bucket_website_configuration",
                Arc::new(
                    s3_bucket_website_configuration::S3BucketWebsiteConfiguration::new(s.clone()),
                ),
            ),
            (
                "aws_s3_bucket_server_side_encryption_configuration",
                Arc::new(
                    s3_bucket_server_side_encryption_configuration::S3BucketServerSideEncryptionConfiguration::new(
                        s.clone(),
                    ),
                ),
            ),
            (
                "aws_dynamodb_table",
                Arc::new(dynamodb_table::DynamodbTable::new(s.clone())),
            ),
            ("aws_lb", Arc::new(lb::Lb::new(s.clone()))),
            (
                "aws_lb_target_group",
                Arc::new(lb_target_group::LbTargetGroup::new(s.clone())),
            ),
            (
                "aws_lb_listener",
                Arc::new(lb_listener::LbListener::new(s.clone())),
            ),
            (
                "aws_lb_listener_rule",
                Arc::new(lb_listener_rule::LbListenerRule::new(s.clone())),
            ),
            (
                "aws_lb_listener_certificate",
                Arc::new(lb_listener_certificate::LbListenerCertificate::new(
                    s.clone(),
                )),
            ),
            (
                "aws_route53_zone",
                Arc::new(route53_zone::Route53Zone::new(s.clone())),
            ),
            (
                "aws_route53_record",
                Arc::new(route53_record::Route53Record::new(s.clone())),
            ),
            (
                "aws_acm_certificate",
                Arc::new(acm_certificate::AcmCertificate::new(s.clone())),
            ),
            (
                "aws_acm_certificate_validation",
                Arc::new(acm_certificate_validation::AcmCertificateValidation::new(
                    s.clone(),
                )),
            ),
            (
                "aws_security_group",
                Arc::new(security_group::SecurityGroup::new(s.clone())),
            ),
            ("aws_vpc", Arc::new(vpc::Vpc::new(s.clone()))),
            ("aws_subnet", Arc::new(subnet::Subnet::new(s.clone()))),
            (
                "aws_internet_gateway",
                Arc::new(internet_gateway::InternetGateway::new(s.clone())),
            ),
            (
                "aws_route_table",
                Arc::new(route_table::RouteTable::new(s.clone())),
            ),
            ("aws_route", Arc::new(route::RouteResource::new(s.clone()))),
            (
                "aws_route_table_association",
                Arc::new(route_table_association::RouteTableAssociation::new(
                    s.clone(),
                )),
            ),
            ("aws_iam_role", Arc::new(iam_role::IamRole::new(s.clone()))),
            (
                "aws_iam_policy",
                Arc::new(iam_policy::IamPolicy::new(s.clone())),
            ),
            (
                "aws_iam_role_policy",
                Arc::new(iam_role_policy::IamRolePolicy::new(s.clone())),
            ),
            (
                "aws_iam_role_policy_attachment",
                Arc::new(iam_role_policy_attachment::IamRolePolicyAttachment::new(
                    s.clone(),
                )),
            ),
            ("aws_eip", Arc::new(eip::Eip::new(s.clone()))),
            (
                "aws_nat_gateway",
                Arc::new(nat_gateway::NatGateway::new(s.clone())),
            ),
            (
                "aws_vpc_security_group_ingress_rule",
                Arc::new(vpc_security_group_rule::VpcSecurityGroupRule::ingress(
                    s.clone(),
                )),
            ),
            (
                "aws_vpc_security_group_egress_rule",
                Arc::new(vpc_security_group_rule::VpcSecurityGroupRule::egress(
                    s.clone(),
                )),
            ),
            (
                "aws_appautoscaling_target",
                Arc::new(appautoscaling_target::AppautoscalingTarget::new(s.clone())),
            ),
            (
                "aws_appautoscaling_policy",
                Arc::new(appautoscaling_policy::AppautoscalingPolicy::new(s.clone())),
            ),
            (
                "aws_cloudfront_origin_access_control",
                Arc::new(
                    cloudfront_origin_access_control::CloudfrontOriginAccessControl::new(
                        s.clone(),
                    ),
                ),
            ),
            (
                "aws_cloudfront_distribution",
                Arc::new(cloudfront_distribution::CloudfrontDistribution::new(
                    s.clone(),
                )),
            ),
        ]
    }

    fn data_sources(&self) -> Vec<(&'static str, Arc<dyn DataSource>)> {
        vec![
            (
                "aws_vpc",
                Arc::new(vpc_data::VpcData::new(self.shared.clone())),
            ),
            (
                "aws_subnets",
                Arc::new(subnets_data::SubnetsData::new(self.shared.clone())),
            ),
            (
                "aws_caller_identity",
                Arc::new(caller_identity_data::CallerIdentityData::new(
                    self.shared.clone(),
                )),
            ),
            (
                "aws_availability_zones",
                Arc::new(availability_zones_data::AvailabilityZonesData::new(
                    self.shared.clone(),
                )),
            ),
            (
                "aws_region",
                Arc::new(region_data::RegionData::new(self.shared.clone())),
            ),
            (
                "aws_lb",
                Arc::new(lb_data::LbData::new(self.shared.clone())),
            ),
            (
                "aws_lb_listener",
                Arc::new(lb_listener_data::LbListenerData::new(self.shared.clone())),
            ),
            (
                "aws_ecs_cluster",
                Arc::new(ecs_cluster_data::EcsClusterData::new(self.shared.clone())),
            ),
            (
                "aws_iam_policy_document",
                Arc::new(iam_policy_document_data::IamPolicyDocumentData::new()),
            ),
        ]
    }

    /// Another configuration (`provider "aws" { alias = "use1" ... }`): its
    /// own settings and SDK clients, under the same pinned role if any.
    fn instance(&self) -> Option<Arc<dyn Provider>> {
        Some(Arc::new(match &self.role {
            Some(role) => Aws::with_role(role.clone()),
            None => Aws::new(),
        }))
    }

    async fn configure(&self, config: &Value) -> ProviderResult<()> {
        self.shared.configure(Settings::from_value(config)?);
        Ok(())
    }
}

/// Adds the AWS provider to a registry.
pub fn register(registry: &mut Registry) {
    register_with(registry, None);
}

/// Adds the AWS provider to a registry; with `role`, every call it makes
/// assumes that role from the host's credentials (see [`Aws::with_role`]).
pub fn register_with(registry: &mut Registry, role: Option<AwsRole>) {
    let aws = match role {
        Some(role) => Aws::with_role(role),
        None => Aws::new(),
    };
    registry.add(Arc::new(aws));
}
