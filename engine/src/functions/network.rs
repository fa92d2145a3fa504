//! IP network functions: cidrhost, cidrnetmask, cidrsubnet, cidrsubnets.
//!
//! Addresses are handled as 32- or 128-bit integers. Host and network
//! numbers are Dumcel numbers (`f64`), exact up to 2^53.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Args, Arity, Def, FuncContext, invalid};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("cidrhost", Arity::Exactly(2), cidrhost),
    Def::new("cidrnetmask", Arity::Exactly(1), cidrnetmask),
    Def::new("cidrsubnet", Arity::Exactly(3), cidrsubnet),
    Def::new("cidrsubnets", Arity::AtLeast(1), cidrsubnets),
];

/// A parsed CIDR prefix: the network address (host bits cleared), the prefix
/// length, and the address width (32 or 128).
#[derive(Debug, Clone, Copy)]
struct Net {
    addr: u128,
    len: u32,
    width: u32,
}

impl Net {
    fn parse(text: &str) -> Result<Net, String> {
        let bad = |why: &str| invalid("prefix", format!("invalid CIDR expression {text:?}: {why}"));
        let (ip, len) = text
            .split_once('/')
            .ok_or_else(|| bad("expected an address, a slash and a prefix length"))?;
        let ip: IpAddr = ip.parse().map_err(|_| bad("invalid IP address"))?;
        let (addr, width) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        let len: u32 = match len.parse() {
            Ok(n) if n <= width && !len.starts_with('+') => n,
            _ => return Err(bad("invalid prefix length")),
        };
        let net = Net { addr, len, width };
        Ok(Net {
            addr: addr & net.mask(len),
            ..net
        })
    }

    /// All ones over the address width.
    fn full(&self) -> u128 {
        if self.width == 128 {
            u128::MAX
        } else {
            (1u128 << self.width) - 1
        }
    }

    /// The network mask for a prefix of `len` bits.
    fn mask(&self, len: u32) -> u128 {
        let host_bits = self.width - len.min(self.width);
        if host_bits >= 128 {
            0
        } else {
            (u128::MAX << host_bits) & self.full()
        }
    }

    /// The last address of the network.
    fn last(&self) -> u128 {
        self.addr | (!self.mask(self.len) & self.full())
    }

    fn ip(&self, addr: u128) -> String {
        if self.width == 32 {
            Ipv4Addr::from(addr as u32).to_string()
        } else {
            Ipv6Addr::from(addr).to_string()
        }
    }

    fn cidr(&self, addr: u128, len: u32) -> String {
        format!("{}/{len}", self.ip(addr))
    }
}

/// A non-negative whole number below 2^`bits`, as an integer.
fn number_below(n: f64, bits: u32, too_big: impl FnOnce() -> String) -> Result<u128, String> {
    if n >= 2f64.powi(bits as i32) || n >= 3.4e38 {
        return Err(too_big());
    }
    Ok(n as u128)
}

fn whole(a: &Args, i: usize, param: &str) -> Result<f64, String> {
    let n = a.number(i)?;
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(invalid(param, "must be a whole number"));
    }
    Ok(n)
}

fn cidrhost(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let net = Net::parse(&a.string(0)?)?;
    let n = whole(a, 1, "hostnum")?;
    let host_bits = net.width - net.len;
    let too_big = || {
        invalid(
            "hostnum",
            format!(
                "prefix of {} does not accommodate a host numbered {n}",
                net.len
            ),
        )
    };
    // Negative numbers count back from the end of the range: -1 is the last.
    let n = if n < 0.0 {
        n + 2f64.powi(host_bits as i32)
    } else {
        n
    };
    if n < 0.0 {
        return Err(too_big());
    }
    let host = number_below(n, host_bits, too_big)?;
    Ok(Value::String(net.ip(net.addr | host)))
}

fn cidrnetmask(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    let net = Net::parse(&given)?;
    if net.width != 32 {
        return Err(invalid(
            "prefix",
            format!("IPv6 addresses cannot have a netmask: {given}"),
        ));
    }
    Ok(Value::String(net.ip(net.mask(net.len))))
}

fn cidrsubnet(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let net = Net::parse(&a.string(0)?)?;
    let newbits = whole(a, 1, "newbits")?;
    let netnum = whole(a, 2, "netnum")?;
    if newbits < 0.0 {
        return Err(invalid("newbits", "must not be negative"));
    }
    if newbits + f64::from(net.len) > f64::from(net.width) {
        return Err(invalid(
            "newbits",
            format!(
                "insufficient address space to extend prefix of {} by {newbits}",
                net.len
            ),
        ));
    }
    if netnum < 0.0 {
        return Err(invalid("netnum", "must not be negative"));
    }
    let newbits = newbits as u32;
    let num = number_below(netnum, newbits, || {
        invalid(
            "netnum",
            format!(
                "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
            ),
        )
    })?;
    let len = net.len + newbits;
    let shift = net.width - len;
    let addr = net.addr | num.checked_shl(shift).unwrap_or(0);
    Ok(Value::String(net.cidr(addr, len)))
}

fn cidrsubnets(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let net = Net::parse(&a.string(0)?)?;
    // Each subnet goes right after the previous one, aligned to its own size
    // (Terraform's `cidr.NextSubnet` walk, without its wrap-around at the
    // all-zeros address).
    let mut cursor: Option<u128> = Some(net.addr);
    let mut previous = net.cidr(
        net.addr.wrapping_sub(1) & net.full() & net.mask(net.len),
        net.len,
    );
    let mut out = Vec::with_capacity(a.len().saturating_sub(1));
    for i in 1..a.len() {
        let bits = whole(a, i, "newbits")?;
        if bits < 1.0 {
            return Err(invalid("newbits", "must extend prefix by at least one bit"));
        }
        if bits > 32.0 {
            return Err(invalid(
                "newbits",
                "may not extend prefix by more than 32 bits",
            ));
        }
        let len = net.len + bits as u32;
        if len > net.width {
            return Err(invalid(
                "newbits",
                format!(
                    "would extend prefix to {len} bits, which is too long for an IPv{} address",
                    if net.width == 32 { 4 } else { 6 }
                ),
            ));
        }
        // len > net.len >= 0, so the block size fits in a u128.
        let size = 1u128 << (net.width - len);
        let start = cursor
            .and_then(|c| c.checked_add(size - 1))
            .map(|c| c & !(size - 1));
        let Some(start) = start.filter(|&s| s <= net.last() && s >= net.addr) else {
            return Err(invalid(
                "newbits",
                format!(
                    "not enough remaining address space for a subnet with a prefix of {len} bits after {previous}"
                ),
            ));
        };
        previous = net.cidr(start, len);
        cursor = start.checked_add(size);
        out.push(Value::String(previous.clone()));
    }
    Ok(Value::List(out))
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;

    #[test]
    fn cidrhost_documented_examples() {
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(16.0)]),
            s("10.12.112.16")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(268.0)]),
            s("10.12.113.12")
        );
        assert_eq!(
            ok(
                "cidrhost",
                vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34.0)]
            ),
            s("fd00:fd12:3456:7890::22")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(-1.0)]),
            s("10.12.127.255")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.0.0.0/32"), n(0.0)]),
            s("10.0.0.0")
        );
        assert!(
            err("cidrhost", vec![s("10.0.0.0/24"), n(256.0)])
                .contains("prefix of 24 does not accommodate a host numbered 256")
        );
        assert!(
            err("cidrhost", vec![s("10.0.0.0/24"), n(-257.0)]).contains("does not accommodate")
        );
        assert!(err("cidrhost", vec![s("10.0.0/24"), n(1.0)]).contains("invalid CIDR expression"));
        assert!(err("cidrhost", vec![s("10.0.0.0/33"), n(1.0)]).contains("invalid prefix length"));
    }

    #[test]
    fn cidrnetmask_documented_examples() {
        assert_eq!(
            ok("cidrnetmask", vec![s("172.16.0.0/12")]),
            s("255.240.0.0")
        );
        assert_eq!(ok("cidrnetmask", vec![s("10.0.0.0/0")]), s("0.0.0.0"));
        assert_eq!(
            ok("cidrnetmask", vec![s("10.0.0.1/32")]),
            s("255.255.255.255")
        );
        assert!(err("cidrnetmask", vec![s("fd00::/8")]).contains("IPv6"));
    }

    #[test]
    fn cidrsubnet_documented_examples() {
        assert_eq!(
            ok("cidrsubnet", vec![s("172.16.0.0/12"), n(4.0), n(2.0)]),
            s("172.18.0.0/16")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.1.2.0/24"), n(4.0), n(15.0)]),
            s("10.1.2.240/28")
        );
        assert_eq!(
            ok(
                "cidrsubnet",
                vec![s("fd00:fd12:3456:7890::/56"), n(16.0), n(162.0)]
            ),
            s("fd00:fd12:3456:7800:a200::/72")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.1.2.3/24"), n(0.0), n(0.0)]),
            s("10.1.2.0/24")
        );
        assert_eq!(ok("cidrsubnet", vec![s("::/0"), n(0.0), n(0.0)]), s("::/0"));
        assert!(
            err("cidrsubnet", vec![s("10.0.0.0/30"), n(3.0), n(0.0)])
                .contains("insufficient address space to extend prefix of 30 by 3")
        );
        assert!(
            err("cidrsubnet", vec![s("10.0.0.0/24"), n(2.0), n(4.0)])
                .contains("prefix extension of 2 does not accommodate a subnet numbered 4")
        );
    }

    #[test]
    fn cidrsubnets_documented_examples() {
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]
            ),
            strs(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ])
        );
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![
                    s("fd00:fd12:3456:7890::/56"),
                    n(16.0),
                    n(16.0),
                    n(16.0),
                    n(32.0)
                ]
            ),
            strs(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88",
            ])
        );
        assert_eq!(ok("cidrsubnets", vec![s("10.0.0.0/8")]), strs(&[]));
        assert!(
            err(
                "cidrsubnets",
                vec![s("10.0.0.0/24"), n(1.0), n(1.0), n(1.0)]
            )
            .contains("not enough remaining address space")
        );
        assert!(err("cidrsubnets", vec![s("10.0.0.0/24"), n(0.0)]).contains("at least one bit"));
        assert!(
            err("cidrsubnets", vec![s("10.0.0.0/24"), n(9.0)]).contains("too long for an IPv4")
        );
        assert_eq!(
            ok("cidrsubnets", vec![s("0.0.0.0/0"), n(1.0), n(1.0)]),
            strs(&["0.0.0.0/1", "128.0.0.0/1"])
        );
    }
}
