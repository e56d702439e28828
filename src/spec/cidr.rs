//! IPv4 CIDR blocks: parsing, containment and Terraform-compatible subnet arithmetic.
//!
//! Owns the address maths behind `cidrsubnet`/`cidrhost` and the overlap checks that validation
//! runs on VPCs and subnets. It is pure arithmetic on `u32`s and never touches the network. IPv6 is
//! deliberately absent until a resource kind needs it.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network: a base address with no host bits set, and a prefix length of 0 to 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    pub addr: u32,
    pub prefix: u8,
}

impl Ipv4Cidr {
    /// Parses `a.b.c.d/n`. A block with host bits set is rejected rather than silently masked,
    /// because `10.0.0.1/16` is almost always a typo for a different network than the user meant.
    pub fn parse(s: &str) -> Result<Ipv4Cidr, String> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR block; expected the form 10.0.0.0/16"))?;
        let ip = Ipv4Addr::from_str(addr).map_err(|_| {
            format!("{addr:?} is not an IPv4 address (expected four numbers 0-255)")
        })?;
        // `u8::from_str` accepts a leading `+`, which no one writes in a CIDR on purpose.
        let prefix: u8 = if !prefix.is_empty()
            && prefix.len() <= 2
            && prefix.bytes().all(|b| b.is_ascii_digit())
        {
            prefix
                .parse()
                .map_err(|_| format!("invalid prefix length {prefix:?}"))?
        } else {
            return Err(format!(
                "invalid prefix length {prefix:?}; expected a number from 0 to 32"
            ));
        };
        if prefix > 32 {
            return Err(format!("prefix length /{prefix} is longer than 32 bits"));
        }
        let addr = u32::from(ip);
        let network = Ipv4Cidr {
            addr: addr & mask(prefix),
            prefix,
        };
        if network.addr != addr {
            return Err(format!("host bits set; did you mean {network}?"));
        }
        Ok(network)
    }

    /// The netmask as a `u32` (`/20` is `0xFFFF_F000`).
    pub fn mask(&self) -> u32 {
        mask(self.prefix)
    }

    /// True if every address of `other` is inside `self` (a block contains itself).
    pub fn contains(&self, other: &Ipv4Cidr) -> bool {
        other.prefix >= self.prefix && other.addr & self.mask() == self.addr
    }

    /// True if the two blocks share any address. CIDR blocks either nest or are disjoint, so
    /// overlap is containment in one direction or the other.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// The `netnum`-th block of `prefix + newbits` bits inside `self`, as Terraform's
    /// `cidrsubnet` computes it.
    pub fn subnet(&self, newbits: u8, netnum: u64) -> Result<Ipv4Cidr, String> {
        let new_prefix = u32::from(self.prefix) + u32::from(newbits);
        if new_prefix > 32 {
            return Err(format!(
                "cannot add {newbits} bits to the prefix of {self}: /{new_prefix} is longer than 32 bits"
            ));
        }
        let count = 1u64 << newbits;
        if netnum >= count {
            return Err(format!(
                "network number {netnum} does not fit in {newbits} new bits of {self} (valid numbers are 0 to {})",
                count - 1
            ));
        }
        // Shifting in u64 keeps a shift by 32 (a /0 split with 0 new bits) well defined.
        let offset = netnum << (32 - new_prefix);
        let offset = u32::try_from(offset)
            .map_err(|_| format!("subnet {netnum} of {self} is out of range"))?;
        let prefix =
            u8::try_from(new_prefix).map_err(|_| format!("prefix /{new_prefix} is too long"))?;
        Ok(Ipv4Cidr {
            addr: self.addr | offset,
            prefix,
        })
    }

    /// The `hostnum`-th address in the block; a negative number counts back from the end
    /// (`-1` is the last address), as in Terraform's `cidrhost`.
    pub fn host(&self, hostnum: i64) -> Result<Ipv4Addr, String> {
        let size = self.size();
        let index = if hostnum >= 0 {
            hostnum.unsigned_abs()
        } else {
            size.checked_sub(hostnum.unsigned_abs()).unwrap_or(u64::MAX)
        };
        if index >= size {
            return Err(format!(
                "host number {hostnum} is out of range for {self}, which has {size} addresses"
            ));
        }
        let index =
            u32::try_from(index).map_err(|_| format!("host number {hostnum} is out of range"))?;
        Ok(Ipv4Addr::from(self.addr | index))
    }

    /// Number of addresses in the block (2^32 for `/0`, hence `u64`).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ipv4Cidr::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Ipv4Cidr {
        Ipv4Cidr::parse(s).expect("valid test CIDR")
    }

    #[test]
    fn parses_and_displays() {
        for s in [
            "10.0.0.0/16",
            "0.0.0.0/0",
            "192.168.1.7/32",
            "172.16.0.0/12",
        ] {
            assert_eq!(c(s).to_string(), s);
        }
        assert_eq!(c("10.0.0.0/16").addr, 0x0A00_0000);
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "10.0.0.0",
            "10.0.0/16",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+1",
            "10.0.0.0/ 8",
            "256.0.0.0/8",
            "a.b.c.d/8",
            "",
            "/",
            "10.0.0.0/16/1",
            "10.0.0.0/-1",
        ] {
            assert!(Ipv4Cidr::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn host_bits_suggest_network() {
        let err = Ipv4Cidr::parse("10.0.0.1/16").expect_err("host bits");
        assert_eq!(err, "host bits set; did you mean 10.0.0.0/16?");
    }

    #[test]
    fn containment_and_overlap() {
        let vpc = c("10.0.0.0/16");
        assert!(vpc.contains(&c("10.0.32.0/20")));
        assert!(vpc.contains(&vpc));
        assert!(!vpc.contains(&c("10.1.0.0/20")));
        assert!(!c("10.0.32.0/20").contains(&vpc));
        assert!(vpc.overlaps(&c("10.0.32.0/20")));
        assert!(c("10.0.32.0/20").overlaps(&vpc));
        assert!(!c("10.0.0.0/24").overlaps(&c("10.0.1.0/24")));
        assert!(c("0.0.0.0/0").contains(&c("192.168.0.0/16")));
    }

    #[test]
    fn subnets_match_terraform() {
        let vpc = c("10.0.0.0/16");
        assert_eq!(vpc.subnet(4, 2).expect("fits").to_string(), "10.0.32.0/20");
        assert_eq!(
            vpc.subnet(8, 255).expect("fits").to_string(),
            "10.0.255.0/24"
        );
        assert_eq!(vpc.subnet(0, 0).expect("fits"), vpc);
        assert_eq!(
            c("0.0.0.0/0").subnet(0, 0).expect("fits").to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            c("0.0.0.0/0").subnet(1, 1).expect("fits").to_string(),
            "128.0.0.0/1"
        );
        assert_eq!(
            c("10.0.0.0/24").subnet(8, 5).expect("fits").to_string(),
            "10.0.0.5/32"
        );
    }

    #[test]
    fn subnet_errors() {
        let vpc = c("10.0.0.0/16");
        assert!(
            vpc.subnet(17, 0)
                .expect_err("too long")
                .contains("longer than 32")
        );
        assert!(vpc.subnet(4, 16).expect_err("too big").contains("0 to 15"));
        assert!(vpc.subnet(255, 0).is_err());
    }

    #[test]
    fn hosts() {
        let net = c("10.0.1.0/24");
        assert_eq!(net.host(5).expect("fits").to_string(), "10.0.1.5");
        assert_eq!(net.host(-1).expect("fits").to_string(), "10.0.1.255");
        assert_eq!(net.host(-256).expect("fits").to_string(), "10.0.1.0");
        assert!(net.host(256).is_err());
        assert!(net.host(-257).is_err());
        assert!(net.host(i64::MIN).is_err());
        assert_eq!(
            c("0.0.0.0/0").host(-1).expect("fits").to_string(),
            "255.255.255.255"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(c("10.0.0.0/16").size(), 65536);
        assert_eq!(c("0.0.0.0/0").size(), 1 << 32);
        assert_eq!(c("1.2.3.4/32").size(), 1);
    }
}
