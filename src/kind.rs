//! The closed set of resource kinds.
//!
//! Adding a kind means adding a variant here and its one declaration in `spec::schema::kinds`
//! (schema, comparisons and every per-kind fact); the provider's dispatch `match` then tells the
//! compiler that the kind needs its provider module. There is deliberately no plugin protocol.
//! The per-kind facts (`Kind::placement`, `Kind::service` ...) read the declaration.

use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Vpc,
    Subnet,
    InternetGateway,
    NatGateway,
    RouteTable,
    SecurityGroup,
    IamRole,
    EksCluster,
    EksNodeGroup,
    DbSubnetGroup,
    RdsInstance,
    CacheSubnetGroup,
    ElasticacheReplicationGroup,
    Route53Zone,
    Route53HealthCheck,
    Route53Record,
}

/// Where a kind of resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Belongs to one region; declared in a regional environment.
    Regional,
    /// Global AWS service (IAM, Route 53); declared in the `global` environment.
    Global,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Vpc,
        Kind::Subnet,
        Kind::InternetGateway,
        Kind::NatGateway,
        Kind::RouteTable,
        Kind::SecurityGroup,
        Kind::IamRole,
        Kind::EksCluster,
        Kind::EksNodeGroup,
        Kind::DbSubnetGroup,
        Kind::RdsInstance,
        Kind::CacheSubnetGroup,
        Kind::ElasticacheReplicationGroup,
        Kind::Route53Zone,
        Kind::Route53HealthCheck,
        Kind::Route53Record,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "internet_gateway",
            Kind::NatGateway => "nat_gateway",
            Kind::RouteTable => "route_table",
            Kind::SecurityGroup => "security_group",
            Kind::IamRole => "iam_role",
            Kind::EksCluster => "eks_cluster",
            Kind::EksNodeGroup => "eks_node_group",
            Kind::DbSubnetGroup => "db_subnet_group",
            Kind::RdsInstance => "rds_instance",
            Kind::CacheSubnetGroup => "cache_subnet_group",
            Kind::ElasticacheReplicationGroup => "elasticache_replication_group",
            Kind::Route53Zone => "route53_zone",
            Kind::Route53HealthCheck => "route53_health_check",
            Kind::Route53Record => "route53_record",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
        assert_eq!(Kind::from_name("s3_bucket"), None);
    }
}
