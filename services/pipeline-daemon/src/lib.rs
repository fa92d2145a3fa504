//! Dumcel's deploy pipeline: GitHub push deliveries are verified by the
//! webhook receiver and queued on Kafka; workers build, push and roll out.
//! See the README's "Pipeline daemon" section.

pub mod access;
pub mod api;
pub mod approval;
pub mod build_log;
pub mod commands;
pub mod config;
pub(crate) mod config_api;
pub mod config_signin;
pub mod dashboard;
pub mod deploy;
pub mod deployments;
pub mod environment;
pub mod events;
pub mod git;
pub mod kafka;
pub mod lane;
pub mod lanes;
pub mod lease;
pub mod notify;
pub mod offsets;
pub mod pipeline;
pub mod push;
pub mod records;
pub mod records_sqlite;
pub mod registry;
pub mod retry;
pub mod signature;
pub mod stack_source;
pub mod webhook;
pub mod webhook_server;
pub mod worker;
