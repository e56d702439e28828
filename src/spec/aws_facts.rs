//! Facts about AWS that change over time: regions and their availability zones, the Kubernetes
//! versions EKS offers, the RDS and ElastiCache engines.
//!
//! Pure data plus tiny lookups, used by validation to catch typos ("eu-west-1d", "1.13") before
//! anything is sent to AWS. Every list says which date and source it reflects so that it can be
//! refreshed; when a list is out of date the cost is a spurious diagnostic, so lists err on the
//! permissive side. Nothing here performs I/O or asks AWS.

/// Availability zone names of every commercial AWS region (partition `aws`; not GovCloud or
/// China), as of early 2026, from the AWS "Regions and Availability Zones" guide (document history
/// up to ap-southeast-6, launched 2 September 2025).
///
/// AZ names are mapped per account. Where accounts see different letters the list holds every
/// letter an account may see: us-west-1 offers two zones named from a, b, c; ap-northeast-1b exists
/// only for older accounts; ca-central-1 has no "c".
pub const REGION_AZS: &[(&str, &[&str])] = &[
    (
        "us-east-1",
        &[
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1d",
            "us-east-1e",
            "us-east-1f",
        ],
    ),
    ("us-east-2", &["us-east-2a", "us-east-2b", "us-east-2c"]),
    ("us-west-1", &["us-west-1a", "us-west-1b", "us-west-1c"]),
    (
        "us-west-2",
        &["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"],
    ),
    ("af-south-1", &["af-south-1a", "af-south-1b", "af-south-1c"]),
    ("ap-east-1", &["ap-east-1a", "ap-east-1b", "ap-east-1c"]),
    ("ap-east-2", &["ap-east-2a", "ap-east-2b", "ap-east-2c"]),
    ("ap-south-1", &["ap-south-1a", "ap-south-1b", "ap-south-1c"]),
    ("ap-south-2", &["ap-south-2a", "ap-south-2b", "ap-south-2c"]),
    (
        "ap-southeast-1",
        &["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"],
    ),
    (
        "ap-southeast-2",
        &["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"],
    ),
    (
        "ap-southeast-3",
        &["ap-southeast-3a", "ap-southeast-3b", "ap-southeast-3c"],
    ),
    (
        "ap-southeast-4",
        &["ap-southeast-4a", "ap-southeast-4b", "ap-southeast-4c"],
    ),
    (
        "ap-southeast-5",
        &["ap-southeast-5a", "ap-southeast-5b", "ap-southeast-5c"],
    ),
    (
        "ap-southeast-6",
        &["ap-southeast-6a", "ap-southeast-6b", "ap-southeast-6c"],
    ),
    (
        "ap-southeast-7",
        &["ap-southeast-7a", "ap-southeast-7b", "ap-southeast-7c"],
    ),
    (
        "ap-northeast-1",
        &[
            "ap-northeast-1a",
            "ap-northeast-1b",
            "ap-northeast-1c",
            "ap-northeast-1d",
        ],
    ),
    (
        "ap-northeast-2",
        &[
            "ap-northeast-2a",
            "ap-northeast-2b",
            "ap-northeast-2c",
            "ap-northeast-2d",
        ],
    ),
    (
        "ap-northeast-3",
        &["ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"],
    ),
    (
        "ca-central-1",
        &["ca-central-1a", "ca-central-1b", "ca-central-1d"],
    ),
    ("ca-west-1", &["ca-west-1a", "ca-west-1b", "ca-west-1c"]),
    (
        "eu-central-1",
        &["eu-central-1a", "eu-central-1b", "eu-central-1c"],
    ),
    (
        "eu-central-2",
        &["eu-central-2a", "eu-central-2b", "eu-central-2c"],
    ),
    ("eu-north-1", &["eu-north-1a", "eu-north-1b", "eu-north-1c"]),
    ("eu-south-1", &["eu-south-1a", "eu-south-1b", "eu-south-1c"]),
    ("eu-south-2", &["eu-south-2a", "eu-south-2b", "eu-south-2c"]),
    ("eu-west-1", &["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("eu-west-2", &["eu-west-2a", "eu-west-2b", "eu-west-2c"]),
    ("eu-west-3", &["eu-west-3a", "eu-west-3b", "eu-west-3c"]),
    (
        "il-central-1",
        &["il-central-1a", "il-central-1b", "il-central-1c"],
    ),
    (
        "me-central-1",
        &["me-central-1a", "me-central-1b", "me-central-1c"],
    ),
    ("me-south-1", &["me-south-1a", "me-south-1b", "me-south-1c"]),
    (
        "mx-central-1",
        &["mx-central-1a", "mx-central-1b", "mx-central-1c"],
    ),
    ("sa-east-1", &["sa-east-1a", "sa-east-1b", "sa-east-1c"]),
];

/// Every commercial region regionctl knows, in the order of the table above (see its dates).
pub fn known_regions() -> impl Iterator<Item = &'static str> {
    REGION_AZS.iter().map(|(region, _)| *region)
}

/// The availability zone names of `region` (see [`REGION_AZS`] for the date and source), or
/// `None` for a region regionctl does not know.
pub fn region_azs(region: &str) -> Option<&'static [&'static str]> {
    REGION_AZS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, azs)| *azs)
}

/// Whether `region` is a commercial AWS region known as of early 2026 (see [`REGION_AZS`]).
pub fn is_known_region(region: &str) -> bool {
    region_azs(region).is_some()
}

/// The region an availability zone name belongs to (`eu-west-1a` → `eu-west-1`), if it is one of
/// the known zones.
pub fn az_region(az: &str) -> Option<&'static str> {
    REGION_AZS
        .iter()
        .find(|(_, azs)| azs.contains(&az))
        .map(|(region, _)| *region)
}

/// Kubernetes minor versions Amazon EKS offers in standard or extended support, oldest first,
/// from the EKS user guide's version calendar (early 2026: 1.35 released on EKS 28 January 2026,
/// 1.36 expected around mid 2026). Each version has 14 months of standard and 12 of extended
/// support, so by late 2026 1.28 and 1.29 have left extended support; they stay listed because
/// existing clusters may still report them while being upgraded.
pub const EKS_VERSIONS: &[&str] = &[
    "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36",
];

/// Whether `version` (a Kubernetes minor version such as "1.31") is in [`EKS_VERSIONS`].
pub fn eks_version_known(version: &str) -> bool {
    EKS_VERSIONS.contains(&version)
}

/// The RDS engines regionctl supports (the `engine` values of the RDS API).
pub const RDS_ENGINES: &[&str] = &["postgres", "mysql"];

/// Major versions RDS offers per engine, in standard or paid extended support, from the RDS
/// release notes and release calendars (early 2026). PostgreSQL majors are one number, MySQL
/// majors two.
pub const RDS_MAJOR_VERSIONS: &[(&str, &[&str])] = &[
    ("postgres", &["12", "13", "14", "15", "16", "17", "18"]),
    ("mysql", &["5.7", "8.0", "8.4"]),
];

/// The ElastiCache engines regionctl supports (the `Engine` values of the ElastiCache API).
pub const ELASTICACHE_ENGINES: &[&str] = &["redis", "valkey"];

/// The regions Route 53 health checkers run in, from the Route 53 API reference (early 2026);
/// a health check's `regions` must name at least three of them.
pub const ROUTE53_HEALTH_CHECK_REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];

/// Whether `version` of RDS `engine` has a known major version (see [`RDS_MAJOR_VERSIONS`]).
///
/// The version is matched by its major: "16.3", "16" and "16.4.R2" are all PostgreSQL 16;
/// "8.0.35" and "8.0" are MySQL 8.0, while "8" alone is ambiguous and not known.
pub fn rds_engine_version_known(engine: &str, version: &str) -> bool {
    let Some((_, majors)) = RDS_MAJOR_VERSIONS.iter().find(|(e, _)| *e == engine) else {
        return false;
    };
    let mut parts = version.split('.');
    let first = parts.next().unwrap_or_default();
    let major = match engine {
        "mysql" => match parts.next() {
            Some(second) => format!("{first}.{second}"),
            None => return false,
        },
        _ => first.to_string(),
    };
    majors.contains(&major.as_str())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn azs_of_the_platform_regions() {
        assert_eq!(
            region_azs("us-east-1"),
            Some(
                &[
                    "us-east-1a",
                    "us-east-1b",
                    "us-east-1c",
                    "us-east-1d",
                    "us-east-1e",
                    "us-east-1f"
                ][..]
            )
        );
        assert_eq!(
            region_azs("eu-west-1"),
            Some(&["eu-west-1a", "eu-west-1b", "eu-west-1c"][..])
        );
        assert_eq!(
            region_azs("ap-southeast-1"),
            Some(&["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"][..])
        );
        assert_eq!(
            region_azs("us-west-2"),
            Some(&["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"][..])
        );
        assert_eq!(region_azs("eu-west-9"), None);
        assert_eq!(region_azs(""), None);
    }

    #[test]
    fn regions_are_known() {
        for r in [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
            "ap-southeast-1",
            "mx-central-1",
            "ap-southeast-6",
        ] {
            assert!(is_known_region(r), "{r}");
        }
        for r in [
            "us-east-3",
            "cn-north-1",
            "us-gov-west-1",
            "global",
            "US-EAST-1",
            "us-east-1a",
        ] {
            assert!(!is_known_region(r), "{r}");
        }
    }

    #[test]
    fn every_az_is_named_after_its_region_and_unique() {
        let mut regions = BTreeSet::new();
        let mut azs = BTreeSet::new();
        for (region, zones) in REGION_AZS {
            assert!(regions.insert(*region), "duplicate region {region}");
            assert!(zones.len() >= 2, "{region} has fewer than two AZs");
            for az in *zones {
                let letter = az
                    .strip_prefix(region)
                    .unwrap_or_else(|| panic!("{az} is not in {region}"));
                assert!(
                    letter.len() == 1 && letter.chars().all(|c| c.is_ascii_lowercase()),
                    "{az}"
                );
                assert!(azs.insert(*az), "duplicate AZ {az}");
                assert_eq!(az_region(az), Some(*region));
            }
        }
        assert_eq!(known_regions().count(), REGION_AZS.len());
        assert_eq!(az_region("eu-west-1d"), None);
    }

    #[test]
    fn eks_versions() {
        for v in ["1.28", "1.31", "1.34"] {
            assert!(eks_version_known(v), "{v}");
        }
        for v in ["1.27", "1.3", "1.31.2", "v1.31", "", "2.0"] {
            assert!(!eks_version_known(v), "{v}");
        }
        // Oldest first, strictly increasing minor versions.
        let minors: Vec<u32> = EKS_VERSIONS
            .iter()
            .map(|v| {
                v.strip_prefix("1.")
                    .and_then(|m| m.parse().ok())
                    .expect("1.<minor>")
            })
            .collect();
        assert!(minors.windows(2).all(|w| w[1] == w[0] + 1), "{minors:?}");
    }

    #[test]
    fn rds_versions_match_by_major() {
        for (engine, version) in [
            ("postgres", "16.3"),
            ("postgres", "16.4"),
            ("postgres", "16"),
            ("postgres", "12.22"),
            ("postgres", "17.2"),
            ("mysql", "8.0.35"),
            ("mysql", "8.0"),
            ("mysql", "8.4.3"),
            ("mysql", "5.7.44"),
        ] {
            assert!(
                rds_engine_version_known(engine, version),
                "{engine} {version}"
            );
        }
        for (engine, version) in [
            ("postgres", "11.22"),
            ("postgres", "9.6"),
            ("postgres", ""),
            ("mysql", "8"),
            ("mysql", "5.6.51"),
            ("mysql", "16.3"),
            ("mariadb", "10.11"),
            ("aurora-postgresql", "16.3"),
        ] {
            assert!(
                !rds_engine_version_known(engine, version),
                "{engine} {version}"
            );
        }
    }

    #[test]
    fn engines_have_versions() {
        for e in RDS_ENGINES {
            assert!(RDS_MAJOR_VERSIONS.iter().any(|(name, _)| name == e), "{e}");
        }
        assert_eq!(RDS_ENGINES.len(), RDS_MAJOR_VERSIONS.len());
        assert_eq!(ELASTICACHE_ENGINES, ["redis", "valkey"]);
        for r in ROUTE53_HEALTH_CHECK_REGIONS {
            assert!(is_known_region(r), "{r}");
        }
    }
}
