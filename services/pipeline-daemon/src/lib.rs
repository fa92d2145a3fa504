//! Dumcel's deploy pipeline: GitHub push deliveries are verified by the
//! webhook receiver and queued on Kafka; workers build, push and roll out.
//! See the README's "Pipeline daemon" section for what is built so far.

pub mod config;
pub mod kafka;
pub mod push;
pub mod rollout;
pub mod signature;
pub mod webhook;
