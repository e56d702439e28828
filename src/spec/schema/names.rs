//! AWS's own rules for names and formatted strings: lengths, character sets, first characters,
//! case, time windows and addresses, as the API references of the create calls state them
//! (CreateRole, CreateDBInstance, CreateDBSubnetGroup, CreateCacheSubnetGroup,
//! CreateReplicationGroup, CreateCluster, CreateNodegroup, CreateSecurityGroup, CreateHostedZone,
//! CreateHealthCheck, ChangeResourceRecordSets).
//!
//! A field whose string AWS constrains has the type `Ty::Format(Format::X)`; this file says what
//! each format allows. Checking here costs a user a message; missing a rule costs them a
//! half-made platform, because AWS rejects the value only in the middle of an apply.
//!
//! Names AWS stores in lowercase (RDS identifiers, subnet groups, replication groups) must be
//! written in lowercase: AWS would accept `MyDb`, then report `mydb`, and every later plan would
//! show a difference that can never go away.

use std::net::IpAddr;

/// A constrained string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CreateRole RoleName: 1-64 of letters, digits and `+=,.@_-`.
    IamRoleName,
    /// CreateRole Path: `/`, or `/.../` of printable ASCII, up to 512.
    IamPath,
    /// IAM descriptions: up to 1000 characters.
    IamDescription,
    /// CreateDBInstance DBInstanceIdentifier: 1-63, lowercase letters, digits, hyphens; starts
    /// with a letter; no `--`; no trailing hyphen.
    RdsIdentifier,
    /// FinalDBSnapshotIdentifier: as an identifier, up to 255.
    RdsSnapshotIdentifier,
    /// DBName: 1-63 letters, digits and underscores, starting with a letter.
    RdsDbName,
    /// MasterUsername: 1-63 letters, digits and underscores, starting with a letter (MySQL's
    /// 16-character limit is a rule across fields, in `spec::rules`).
    RdsMasterUsername,
    /// CreateDBSubnetGroup DBSubnetGroupName: up to 255 letters, digits, `.`, `_`, spaces,
    /// hyphens; starts with a letter; not `default`; stored lowercase.
    DbSubnetGroupName,
    /// CreateCacheSubnetGroup CacheSubnetGroupName: up to 255 letters, digits, hyphens; stored
    /// lowercase.
    CacheSubnetGroupName,
    /// CreateReplicationGroup ReplicationGroupId: 1-40, letters, digits, hyphens; starts with a
    /// letter; no `--`; no trailing hyphen; stored lowercase.
    ReplicationGroupId,
    /// Subnet group and replication group descriptions: up to 255 characters.
    Description255,
    /// CreateCluster name: 1-100, starts with a letter or digit, then letters, digits, `-`, `_`.
    EksClusterName,
    /// CreateNodegroup nodegroupName: 1-63, same character set as a cluster name.
    EksNodeGroupName,
    /// CreateSecurityGroup GroupName: 1-255 of a-z A-Z 0-9 spaces and `._-:/()#,@[]+=&;{}!$*`;
    /// may not start with `sg-`.
    SecurityGroupName,
    /// Security group and rule descriptions: 0-255 of the same characters.
    SecurityGroupDescription,
    /// A DNS name for a hosted zone or record: up to 255 characters, labels of 1-63 of
    /// letters, digits, `-` and `_`; a record may start with `*.`.
    DnsName,
    /// Fully qualified domain name of a health check endpoint: up to 255, DNS characters.
    HealthCheckFqdn,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// Up to 255 characters (health check resource path and search string).
    Text255,
    /// Hosted zone comment: up to 256 characters.
    Text256,
    /// Record set identifier: 1-128 characters.
    SetIdentifier,
    /// Daily window `hh24:mi-hh24:mi` in UTC, at least 30 minutes (RDS backups, cache snapshots).
    DailyWindow,
    /// Weekly window `ddd:hh24:mi-ddd:hh24:mi` in UTC, at least 30 minutes.
    WeeklyWindow,
}

impl Format {
    /// What the value should be, for messages: "an RDS DB identifier".
    pub fn what(self) -> &'static str {
        match self {
            Format::IamRoleName => "an IAM role name",
            Format::IamPath => "an IAM path",
            Format::IamDescription => "an IAM description",
            Format::RdsIdentifier => "an RDS DB instance identifier",
            Format::RdsSnapshotIdentifier => "an RDS snapshot identifier",
            Format::RdsDbName => "an RDS database name",
            Format::RdsMasterUsername => "an RDS master user name",
            Format::DbSubnetGroupName => "a DB subnet group name",
            Format::CacheSubnetGroupName => "a cache subnet group name",
            Format::ReplicationGroupId => "an ElastiCache replication group id",
            Format::Description255 => "a description",
            Format::EksClusterName => "an EKS cluster name",
            Format::EksNodeGroupName => "an EKS node group name",
            Format::SecurityGroupName => "a security group name",
            Format::SecurityGroupDescription => "a security group description",
            Format::DnsName => "a DNS name",
            Format::HealthCheckFqdn => "a health check host name",
            Format::IpAddress => "an IP address",
            Format::Text255 => "a value of at most 255 characters",
            Format::Text256 => "a comment of at most 256 characters",
            Format::SetIdentifier => "a set identifier",
            Format::DailyWindow => "a daily time window",
            Format::WeeklyWindow => "a weekly time window",
        }
    }

    /// The whole rule in one sentence, for the help line.
    pub fn rule(self) -> &'static str {
        match self {
            Format::IamRoleName => {
                "1-64 characters: letters, digits and + = , . @ _ - (IAM CreateRole)"
            }
            Format::IamPath => {
                "`/` or a path that starts and ends with `/`, printable ASCII, at most 512 characters"
            }
            Format::IamDescription => "at most 1000 characters",
            Format::RdsIdentifier => {
                "1-63 lowercase letters, digits and hyphens; starts with a letter; no `--` and no hyphen at the end (RDS stores it lowercase)"
            }
            Format::RdsSnapshotIdentifier => {
                "1-255 letters, digits and hyphens; starts with a letter; no `--` and no hyphen at the end"
            }
            Format::RdsDbName => "1-63 letters, digits and underscores, starting with a letter",
            Format::RdsMasterUsername => {
                "1-63 letters, digits and underscores, starting with a letter (MySQL allows 16)"
            }
            Format::DbSubnetGroupName => {
                "1-255 lowercase letters, digits, periods, underscores, spaces and hyphens; starts with a letter; not `default` (RDS stores it lowercase)"
            }
            Format::CacheSubnetGroupName => {
                "1-255 lowercase letters, digits and hyphens (ElastiCache stores it lowercase)"
            }
            Format::ReplicationGroupId => {
                "1-40 lowercase letters, digits and hyphens; starts with a letter; no `--` and no hyphen at the end (ElastiCache stores it lowercase)"
            }
            Format::Description255 => "at most 255 characters",
            Format::EksClusterName => {
                "1-100 characters: letters, digits, `-` and `_`, starting with a letter or digit"
            }
            Format::EksNodeGroupName => {
                "1-63 characters: letters, digits, `-` and `_`, starting with a letter or digit"
            }
            Format::SecurityGroupName => {
                "1-255 characters of a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$*; may not start with `sg-`"
            }
            Format::SecurityGroupDescription => {
                "at most 255 characters of a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$*"
            }
            Format::DnsName => {
                "at most 255 characters; dot-separated labels of 1-63 letters, digits, `-` and `_`; a record may start with `*.`"
            }
            Format::HealthCheckFqdn => {
                "a host name of at most 255 characters: dot-separated labels of 1-63 letters, digits and `-`"
            }
            Format::IpAddress => "an IPv4 address such as 192.0.2.10, or an IPv6 address",
            Format::Text255 => "at most 255 characters",
            Format::Text256 => "at most 256 characters",
            Format::SetIdentifier => "1-128 characters",
            Format::DailyWindow => {
                "hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00, at least 30 minutes long"
            }
            Format::WeeklyWindow => {
                "ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00, at least 30 minutes long"
            }
        }
    }

    /// Why `s` does not satisfy the format, if it does not.
    pub fn check(self, s: &str) -> Result<(), String> {
        match self {
            Format::IamRoleName => {
                length(s, 1, 64)?;
                charset(s, |c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            }
            Format::IamPath => {
                length(s, 1, 512)?;
                if !(s.starts_with('/') && s.ends_with('/')) {
                    return Err("it must start and end with `/`".to_string());
                }
                charset(s, |c| ('!'..='~').contains(&c))
            }
            Format::IamDescription => length(s, 0, 1000),
            Format::RdsIdentifier => identifier(s, 63, true),
            Format::RdsSnapshotIdentifier => identifier(s, 255, false),
            Format::RdsDbName => {
                length(s, 1, 63)?;
                starts_with_letter(s)?;
                charset(s, |c| c.is_ascii_alphanumeric() || c == '_')
            }
            Format::RdsMasterUsername => {
                length(s, 1, 63)?;
                starts_with_letter(s)?;
                charset(s, |c| c.is_ascii_alphanumeric() || c == '_')
            }
            Format::DbSubnetGroupName => {
                length(s, 1, 255)?;
                starts_with_letter(s)?;
                lowercase(s)?;
                if s == "default" {
                    return Err("`default` is reserved for the default group".to_string());
                }
                charset(s, |c| c.is_ascii_alphanumeric() || "._- ".contains(c))
            }
            Format::CacheSubnetGroupName => {
                length(s, 1, 255)?;
                lowercase(s)?;
                charset(s, |c| c.is_ascii_alphanumeric() || c == '-')
            }
            Format::ReplicationGroupId => identifier(s, 40, true),
            Format::Description255 => length(s, 0, 255),
            Format::EksClusterName => eks_name(s, 100),
            Format::EksNodeGroupName => eks_name(s, 63),
            Format::SecurityGroupName => {
                length(s, 1, 255)?;
                if s.to_ascii_lowercase().starts_with("sg-") {
                    return Err(
                        "it starts with `sg-`, which AWS reserves for group ids".to_string()
                    );
                }
                charset(s, sg_char)
            }
            Format::SecurityGroupDescription => {
                length(s, 0, 255)?;
                charset(s, sg_char)
            }
            Format::DnsName => dns_name(s, true),
            Format::HealthCheckFqdn => dns_name(s, false),
            Format::IpAddress => s
                .parse::<IpAddr>()
                .map(|_| ())
                .map_err(|_| "it is not an IPv4 or IPv6 address".to_string()),
            Format::Text255 => length(s, 0, 255),
            Format::Text256 => length(s, 0, 256),
            Format::SetIdentifier => length(s, 1, 128),
            Format::DailyWindow => daily_window(s),
            Format::WeeklyWindow => weekly_window(s),
        }
    }
}

fn length(s: &str, min: usize, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if n < min {
        return Err(if n == 0 {
            "it is empty".to_string()
        } else {
            format!("it has {n} characters, fewer than {min}")
        });
    }
    if n > max {
        return Err(format!("it has {n} characters; at most {max} are allowed"));
    }
    Ok(())
}

fn charset(s: &str, ok: impl Fn(char) -> bool) -> Result<(), String> {
    match s.chars().find(|c| !ok(*c)) {
        Some(' ') => Err("it contains a space, which is not allowed here".to_string()),
        Some(c) => Err(format!("it contains {c:?}, which is not allowed here")),
        None => Ok(()),
    }
}

fn starts_with_letter(s: &str) -> Result<(), String> {
    match s.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => Ok(()),
        Some(c) => Err(format!("it starts with {c:?}, not a letter")),
        None => Err("it is empty".to_string()),
    }
}

fn lowercase(s: &str) -> Result<(), String> {
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "it has uppercase letters; AWS stores it as {:?}, so write it that way",
            s.to_ascii_lowercase()
        ));
    }
    Ok(())
}

/// RDS and ElastiCache identifiers.
fn identifier(s: &str, max: usize, lower: bool) -> Result<(), String> {
    length(s, 1, max)?;
    starts_with_letter(s)?;
    if lower {
        lowercase(s)?;
    }
    charset(s, |c| c.is_ascii_alphanumeric() || c == '-')?;
    if s.contains("--") {
        return Err("it contains two consecutive hyphens".to_string());
    }
    if s.ends_with('-') {
        return Err("it ends with a hyphen".to_string());
    }
    Ok(())
}

fn eks_name(s: &str, max: usize) -> Result<(), String> {
    length(s, 1, max)?;
    match s.chars().next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        Some(c) => return Err(format!("it starts with {c:?}, not a letter or digit")),
        None => return Err("it is empty".to_string()),
    }
    charset(s, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn sg_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c)
}

fn dns_name(s: &str, record: bool) -> Result<(), String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    length(name, 1, 253)?;
    let name = if record {
        name.strip_prefix("*.").unwrap_or(name)
    } else {
        name
    };
    for label in name.split('.') {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row, or a leading dot)".to_string());
        }
        if label.len() > 63 {
            return Err(format!(
                "its label {label:?} has {} characters; labels have at most 63",
                label.len()
            ));
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || (record && c == '_');
        if let Some(c) = label.chars().find(|c| !ok(*c)) {
            return Err(format!(
                "it contains {c:?}, which is not allowed in a DNS name"
            ));
        }
    }
    Ok(())
}

/// Minutes since midnight of `hh:mi`.
fn clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn window_length(start: u32, end: u32, period: u32) -> Result<(), String> {
    let minutes = (end + period - start) % period;
    if minutes < 30 {
        return Err(format!(
            "it is {minutes} minutes long; AWS needs at least 30"
        ));
    }
    Ok(())
}

fn daily_window(s: &str) -> Result<(), String> {
    let bad = || "it is not of the form hh24:mi-hh24:mi".to_string();
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let (a, b) = (clock(a).ok_or_else(bad)?, clock(b).ok_or_else(bad)?);
    window_length(a, b, DAY)
}

fn weekly_window(s: &str) -> Result<(), String> {
    let bad = || "it is not of the form ddd:hh24:mi-ddd:hh24:mi".to_string();
    let point = |p: &str| -> Option<u32> {
        let (d, t) = p.split_once(':')?;
        let day = DAYS.iter().position(|x| x.eq_ignore_ascii_case(d))? as u32;
        Some(day * DAY + clock(t)?)
    };
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let (a, b) = (point(a).ok_or_else(bad)?, point(b).ok_or_else(bad)?);
    window_length(a, b, WEEK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_values_pass() {
        let good: &[(Format, &str)] = &[
            (Format::IamRoleName, "eks-node+role@x=1,2.y_z"),
            (Format::IamPath, "/platform/"),
            (Format::IamPath, "/"),
            (Format::RdsIdentifier, "orders-db-1"),
            (Format::ReplicationGroupId, "sessions"),
            (Format::DbSubnetGroupName, "db subnets_1.a-b"),
            (Format::CacheSubnetGroupName, "cache-1"),
            (Format::EksClusterName, "1platform_euw1-a"),
            (Format::EksNodeGroupName, "general"),
            (Format::SecurityGroupName, "eks nodes (euw1) #1"),
            (Format::DnsName, "*.api.example.com."),
            (Format::DnsName, "_dmarc.example.com"),
            (Format::HealthCheckFqdn, "api.example.com"),
            (Format::IpAddress, "192.0.2.10"),
            (Format::IpAddress, "2001:db8::1"),
            (Format::DailyWindow, "23:45-00:15"),
            (Format::WeeklyWindow, "sun:23:30-mon:00:30"),
            (Format::RdsMasterUsername, "app_admin"),
        ];
        for (f, s) in good {
            assert_eq!(f.check(s), Ok(()), "{f:?} {s:?}");
        }
    }

    #[test]
    fn bad_values_fail_with_a_reason() {
        let bad: &[(Format, &str, &str)] = &[
            (Format::IamRoleName, &"r".repeat(65), "65 characters"),
            (Format::IamRoleName, "my role", "space"),
            (Format::IamPath, "platform/", "start and end"),
            (Format::RdsIdentifier, "Orders", "uppercase"),
            (Format::RdsIdentifier, "1db", "starts with"),
            (Format::RdsIdentifier, "a--b", "consecutive"),
            (Format::RdsIdentifier, "ab-", "ends with"),
            (Format::RdsIdentifier, "a_b", "'_'"),
            (Format::RdsIdentifier, &"a".repeat(64), "at most 63"),
            (Format::ReplicationGroupId, &"a".repeat(41), "at most 40"),
            (Format::DbSubnetGroupName, "default", "reserved"),
            (Format::CacheSubnetGroupName, "cache_1", "'_'"),
            (Format::EksClusterName, "-x", "starts with"),
            (Format::EksNodeGroupName, &"n".repeat(64), "at most 63"),
            (Format::SecurityGroupName, "sg-web", "sg-"),
            (Format::SecurityGroupName, "web|db", "'|'"),
            (Format::DnsName, "a..example.com", "empty label"),
            (
                Format::DnsName,
                &format!("{}.com", "l".repeat(64)),
                "at most 63",
            ),
            (Format::HealthCheckFqdn, "api_x.example.com", "'_'"),
            (Format::IpAddress, "10.0.0.300", "not an IPv4"),
            (Format::DailyWindow, "03:00-03:10", "10 minutes"),
            (Format::DailyWindow, "3-4", "form"),
            (Format::WeeklyWindow, "sunday:05:00-sun:06:00", "form"),
            (Format::RdsMasterUsername, &"u".repeat(64), "at most 63"),
        ];
        for (f, s, why) in bad {
            let e = f.check(s).expect_err(s);
            assert!(e.contains(why), "{f:?} {s:?}: {e}");
        }
    }
}
