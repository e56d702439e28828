//! The integration tests, in one binary: each file below used to be a test binary of its own,
//! and each linked the whole AWS SDK. One binary links it once, and its tests share one pool of
//! test threads. Run a part with a filter: `cargo test --test it cli::invalid`,
//! `cargo test --test it provider_rds::`.
//!
//! Tests that need AWS start their own emulator (`support::emulator`) and write only into
//! scratch directories named after their module and test (`harness::fresh_dir`), so they run in
//! parallel without sharing anything. Nothing here may change the process's environment or
//! current directory (the crate forbids `unsafe`, which `std::env::set_var` needs): the
//! `regionctl` under test gets its settings through `Command::env`.
//!
//! One test stays a binary of its own, `tests/fuzz.rs`: it bounds each case's memory by the
//! process's peak resident set, which tests running beside it in one process would inflate.

mod harness;
mod support;

mod adopt_aws;
mod adopt_aws_platform;
mod adopt_terraform;
mod adopt_terraform_eks;
mod adopt_terraform_modules;
mod apply_faults;
mod apply_irsa;
mod apply_live;
mod apply_resilience;
mod check;
mod ci_workflow;
mod cli;
mod gitops_handoff;
mod plan_changed;
mod plan_live;
mod plan_noop;
mod plan_reads;
mod plan_render;
mod provider_cloudwatch;
mod provider_ec2;
mod provider_ec2_blockers;
mod provider_ecr;
mod provider_eks;
mod provider_eks_access;
mod provider_eks_platform;
mod provider_elasticache;
mod provider_iam;
mod provider_iam_policy;
mod provider_kms;
mod provider_logs;
mod provider_platform;
mod provider_rds;
mod provider_route53;
mod provider_sns;
mod request_rates;
mod schema;
mod state_backends;
mod tag_index;
