//! The AWS provider: `aws_*` resource types and data sources for ECR, ECS,
//! ELBv2, S3, DynamoDB and the networking an ALB needs. One file per type.
//!
//! Every type shares one [`config::Shared`]: the `provider "aws"` settings and
//! the SDK configuration, loaded on first use with the standard credential and
//! region chains, `AWS_ENDPOINT_URL`, and the standard retry mode.

pub mod attrs;
pub mod config;
pub mod error;
pub mod tags;

mod dynamodb_table;
mod ecr_repository;
mod ecs_cluster;
mod ecs_container_definitions;
mod ecs_service;
mod ecs_task_definition;
mod elbv2;
mod lb;
mod lb_listener;
mod lb_listener_rule;
mod lb_target_group;
mod s3_bucket;
mod s3_object;
mod security_group;
mod subnets_data;
mod vpc_data;
mod wait;

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{DataSource, Provider, ProviderResult, Registry, ResourceType};
use dumcel_planner::{Schema, Value};

use crate::config::{Settings, Shared};

/// The name used in `provider "aws" { ... }` and recorded in state.
pub const PROVIDER: &str = "aws";

#[derive(Default)]
pub struct Aws {
    shared: Arc<Shared>,
}

impl Aws {
    pub fn new() -> Aws {
        Aws::default()
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
                "aws_security_group",
                Arc::new(security_group::SecurityGroup::new(s.clone())),
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
        ]
    }

    async fn configure(&self, config: &Value) -> ProviderResult<()> {
        self.shared.configure(Settings::from_value(config));
        Ok(())
    }
}

/// Adds the AWS provider to a registry.
pub fn register(registry: &mut Registry) {
    registry.add(Arc::new(Aws::new()));
}
