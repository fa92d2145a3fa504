//! Dumcel's engine: HCL configuration, evaluation, the provider protocol, and
//! the plan / apply / destroy walks.

pub mod functions;
