//! Shared support for integration tests: the emulator and small builders.

pub mod emulator;
pub mod inventory;
pub mod platform;
pub mod proxy;
pub mod state;

use regionctl::addr::InstanceAddr;
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Ctx, api_region, idempotency_token};
use regionctl::spec::value::Value;

/// Attributes from JSON, as the spec would hand them to the provider.
pub fn attrs(json: serde_json::Value) -> Attrs {
    match Value::from_json(&json) {
        Value::Map(m) => m,
        other => panic!("attributes must be a JSON object, got {other:?}"),
    }
}

/// One resource a test acts on: its address, kind, API region and idempotency token.
pub struct Res {
    pub addr: InstanceAddr,
    pub kind: Kind,
    pub region: String,
    pub token: String,
}

impl Res {
    /// `addr` is a full instance address such as `eu-west-1/vpc.main`; the region is the
    /// environment's (or the global region for IAM and Route 53).
    pub fn new(addr: &str) -> Res {
        let addr: InstanceAddr = addr.parse().expect("a valid address");
        let kind = addr.block.kind;
        let env_region = (addr.env != regionctl::addr::GLOBAL_ENV).then_some(addr.env.as_str());
        let region = api_region(kind, env_region).to_owned();
        let token = idempotency_token("tests", &addr, "generation-1");
        Res {
            addr,
            kind,
            region,
            token,
        }
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            addr: &self.addr,
            kind: self.kind,
            region: &self.region,
            token: &self.token,
        }
    }
}

/// Reads a string attribute of an observed resource's `attrs` or `computed`.
pub fn attr<'a>(map: &'a Attrs, name: &str) -> &'a str {
    map.get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("attribute {name} missing or not a string in {map:?}"))
}
