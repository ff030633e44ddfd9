//! Rule expressions: each [`Expr`] as the netlink expressions `nft` 1.0 generates for
//! the same text (payload loads, compares, lookups, verdicts...), into the rule being
//! encoded.

use super::encode::{
    addr_bytes, addr_type, nfproto, proto_number, EncodeError, Encoder, NFTA_LIST_ELEM,
};
use super::message::{Nest, TooLarge};
use crate::model::{Cidr, Family};
use crate::ruleset::rule::{Expr, Field};

const META_MARK: u32 = 3;
const META_L4PROTO: u32 = 16;
const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;
const REG_2: u32 = 2;
/// NFT_REG32_00: 32-bit registers, the layout of concatenated keys.
const REG32_00: u32 = 8;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;

/// Offset of the address in the network header.
fn addr_offset(family: Family, field: Field) -> u32 {
    match (family, field) {
        (Family::V4, Field::Saddr) => 12,
        (Family::V4, Field::Daddr) => 16,
        (Family::V6, Field::Saddr) => 8,
        (Family::V6, Field::Daddr) => 24,
    }
}

impl Encoder {
    pub(super) fn expr(&mut self, expr: &Expr, anon_set: Option<u32>) -> Result<(), EncodeError> {
        let family = self.family;
        let alen = addr_type(family).1;
        match expr {
            Expr::CtStateNew => {
                self.ct_state(REG_1);
                // IP_CT_NEW's bit: 1 << (IP_CT_NEW + 1).
                self.bitwise(REG_1, &8u32.to_ne_bytes(), &[0; 4])?;
                self.cmp(REG_1, true, &[0; 4])?;
            }
            Expr::Addr {
                field,
                negated,
                value,
            } => {
                let cidr = value.cidr();
                if cidr.prefix == 0 {
                    // Every address matches /0: `==` is no condition, and `!=` one that
                    // never holds (the first byte masked to 0, compared != 0).
                    if *negated {
                        self.payload(REG_1, 1, addr_offset(family, *field), 1)?;
                        self.bitwise(REG_1, &[0], &[0])?;
                        self.cmp(REG_1, true, &[0])?;
                    }
                    return Ok(());
                }
                let len = usize::from(cidr.prefix).div_ceil(8);
                self.payload(REG_1, 1, addr_offset(family, *field), len as u32)?;
                let (net, mask) = masked(cidr, len);
                if cidr.prefix % 8 != 0 {
                    self.bitwise(REG_1, &mask, &vec![0; len])?;
                }
                self.cmp(REG_1, *negated, &net)?;
            }
            Expr::AddrInSet { field, set } => {
                self.payload(REG_1, 1, addr_offset(family, *field), alen)?;
                self.lookup(set, None, REG_1, None, false)?;
            }
            Expr::AddrNotInAnonymousSet { field, .. } => {
                let Some(id) = anon_set else {
                    return Err(EncodeError::Unsupported("anonymous set".into()));
                };
                self.payload(REG_1, 1, addr_offset(family, *field), alen)?;
                self.lookup("__set%d", Some(id), REG_1, None, true)?;
            }
            Expr::Dport { protocol, port } => {
                self.meta_load(REG_1, META_L4PROTO)?;
                self.cmp(REG_1, false, &[proto_number(*protocol)])?;
                self.payload(REG_1, 2, 2, 2)?;
                self.cmp(REG_1, false, &port.to_be_bytes())?;
            }
            Expr::L4Proto(p) => {
                self.meta_load(REG_1, META_L4PROTO)?;
                self.cmp(REG_1, false, &[proto_number(*p)])?;
            }
            Expr::FibLocal(field) => {
                const NFT_FIB_RESULT_ADDRTYPE: u32 = 3;
                const RTN_LOCAL: u32 = 2;
                let flags = match field {
                    Field::Saddr => 1,
                    Field::Daddr => 2,
                };
                let (e, d) = self.begin_expr("fib");
                self.buf.u32_be(1, REG_1); // NFTA_FIB_DREG
                self.buf.u32_be(2, NFT_FIB_RESULT_ADDRTYPE);
                self.buf.u32_be(3, flags);
                self.end_expr(e, d)?;
                self.cmp(REG_1, false, &RTN_LOCAL.to_ne_bytes())?;
            }
            Expr::NumgenIsZero(n) => {
                let (e, d) = self.begin_expr("numgen");
                self.buf.u32_be(1, REG_1); // NFTA_NG_DREG
                self.buf.u32_be(2, *n); // NFTA_NG_MODULUS
                self.buf.u32_be(3, 1); // NFTA_NG_TYPE: NFT_NG_RANDOM
                self.end_expr(e, d)?;
                self.cmp(REG_1, false, &[0; 4])?;
            }
            Expr::MarkClear(m) => {
                self.meta_load(REG_1, META_MARK)?;
                self.bitwise(REG_1, &m.to_ne_bytes(), &[0; 4])?;
                self.cmp(REG_1, false, &[0; 4])?;
            }
            Expr::Vmap { with_daddr, map } => {
                if *with_daddr {
                    self.payload(REG_1, 1, addr_offset(family, Field::Daddr), alen)?;
                    self.meta_load(REG32_00 + alen / 4, META_L4PROTO)?;
                    self.payload(REG32_00 + alen / 4 + 1, 2, 2, 2)?;
                } else {
                    self.meta_load(REG_1, META_L4PROTO)?;
                    self.payload(REG32_00 + 1, 2, 2, 2)?;
                }
                self.lookup(map, None, REG_1, Some(REG_VERDICT), false)?;
            }
            Expr::MarkSetOr(m) => {
                self.meta_load(REG_1, META_MARK)?;
                self.bitwise(REG_1, &(!m).to_ne_bytes(), &m.to_ne_bytes())?;
                self.meta_set(REG_1, META_MARK)?;
            }
            Expr::MarkSetXor(m) => {
                self.meta_load(REG_1, META_MARK)?;
                self.bitwise(REG_1, &u32::MAX.to_ne_bytes(), &m.to_ne_bytes())?;
                self.meta_set(REG_1, META_MARK)?;
            }
            Expr::MasqueradeFullyRandom => {
                let (e, d) = self.begin_expr("masq");
                self.buf.u32_be(1, 0x10); // NFTA_MASQ_FLAGS: NF_NAT_RANGE_PROTO_RANDOM_FULLY
                self.end_expr(e, d)?;
            }
            Expr::Dnat { addr, port } => {
                self.immediate(REG_1, &addr_bytes(addr))?;
                self.immediate(REG_2, &port.to_be_bytes())?;
                let (e, d) = self.begin_expr("nat");
                self.buf.u32_be(1, 1); // NFTA_NAT_TYPE: NFT_NAT_DNAT
                self.buf.u32_be(2, u32::from(nfproto(family))); // NFTA_NAT_FAMILY
                self.buf.u32_be(3, REG_1); // NFTA_NAT_REG_ADDR_MIN
                self.buf.u32_be(5, REG_2); // NFTA_NAT_REG_PROTO_MIN
                self.buf.u32_be(7, 0x2); // NFTA_NAT_FLAGS: NF_NAT_RANGE_PROTO_SPECIFIED
                self.end_expr(e, d)?;
            }
            Expr::UpdateSaddr(set) => {
                self.payload(REG_1, 1, addr_offset(family, Field::Saddr), alen)?;
                let (e, d) = self.begin_expr("dynset");
                self.buf.u32_be(4, REG_1); // NFTA_DYNSET_SREG_KEY
                self.buf.u32_be(3, 1); // NFTA_DYNSET_OP: NFT_DYNSET_OP_UPDATE
                self.buf.str(1, set); // NFTA_DYNSET_SET_NAME
                self.end_expr(e, d)?;
            }
            Expr::Reject => {
                // ICMP(v6) port unreachable.
                let code = match family {
                    Family::V4 => 3,
                    Family::V6 => 4,
                };
                let (e, d) = self.begin_expr("reject");
                self.buf.u32_be(1, 0); // NFTA_REJECT_TYPE: NFT_REJECT_ICMP_UNREACH
                self.buf.attr(2, &[code]); // NFTA_REJECT_ICMP_CODE
                self.end_expr(e, d)?;
            }
            Expr::Verdict(v) => {
                let (e, d) = self.begin_expr("immediate");
                self.buf.u32_be(1, REG_VERDICT); // NFTA_IMMEDIATE_DREG
                self.verdict(2, v)?; // NFTA_IMMEDIATE_DATA
                self.end_expr(e, d)?;
            }
        }
        Ok(())
    }

    fn begin_expr(&mut self, name: &str) -> (Nest, Nest) {
        let e = self.buf.nest(NFTA_LIST_ELEM);
        self.buf.str(NFTA_EXPR_NAME, name);
        let d = self.buf.nest(NFTA_EXPR_DATA);
        (e, d)
    }

    fn end_expr(&mut self, e: Nest, d: Nest) -> Result<(), TooLarge> {
        self.buf.end_nest(d)?;
        self.buf.end_nest(e)
    }

    fn payload(&mut self, dreg: u32, base: u32, offset: u32, len: u32) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("payload");
        self.buf.u32_be(1, dreg); // NFTA_PAYLOAD_DREG
        self.buf.u32_be(2, base); // NFTA_PAYLOAD_BASE: 1 network, 2 transport
        self.buf.u32_be(3, offset);
        self.buf.u32_be(4, len);
        self.end_expr(e, d)
    }

    fn meta_load(&mut self, dreg: u32, key: u32) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("meta");
        self.buf.u32_be(2, key); // NFTA_META_KEY
        self.buf.u32_be(1, dreg); // NFTA_META_DREG
        self.end_expr(e, d)
    }

    fn meta_set(&mut self, sreg: u32, key: u32) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("meta");
        self.buf.u32_be(2, key); // NFTA_META_KEY
        self.buf.u32_be(3, sreg); // NFTA_META_SREG
        self.end_expr(e, d)
    }

    fn ct_state(&mut self, dreg: u32) {
        let (e, d) = self.begin_expr("ct");
        self.buf.u32_be(1, dreg); // NFTA_CT_DREG
        self.buf.u32_be(2, 0); // NFTA_CT_KEY: NFT_CT_STATE
                               // Only nested lengths can overflow; these are a few bytes.
        let _ = self.end_expr(e, d);
    }

    fn bitwise(&mut self, reg: u32, mask: &[u8], xor: &[u8]) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("bitwise");
        self.buf.u32_be(1, reg); // NFTA_BITWISE_SREG
        self.buf.u32_be(2, reg); // NFTA_BITWISE_DREG
        self.buf.u32_be(3, mask.len() as u32); // NFTA_BITWISE_LEN
        self.data(4, mask)?; // NFTA_BITWISE_MASK
        self.data(5, xor)?; // NFTA_BITWISE_XOR
        self.end_expr(e, d)
    }

    fn cmp(&mut self, reg: u32, negated: bool, value: &[u8]) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("cmp");
        self.buf.u32_be(1, reg); // NFTA_CMP_SREG
        self.buf.u32_be(2, u32::from(negated)); // NFTA_CMP_OP: EQ / NEQ
        self.data(3, value)?; // NFTA_CMP_DATA
        self.end_expr(e, d)
    }

    fn immediate(&mut self, dreg: u32, value: &[u8]) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("immediate");
        self.buf.u32_be(1, dreg);
        self.data(2, value)?;
        self.end_expr(e, d)
    }

    fn lookup(
        &mut self,
        set: &str,
        set_id: Option<u32>,
        sreg: u32,
        dreg: Option<u32>,
        inverted: bool,
    ) -> Result<(), TooLarge> {
        let (e, d) = self.begin_expr("lookup");
        self.buf.str(1, set); // NFTA_LOOKUP_SET
        self.buf.u32_be(2, sreg); // NFTA_LOOKUP_SREG
        if let Some(dreg) = dreg {
            self.buf.u32_be(3, dreg); // NFTA_LOOKUP_DREG
        }
        if let Some(id) = set_id {
            self.buf.u32_be(4, id); // NFTA_LOOKUP_SET_ID
        }
        if inverted {
            self.buf.u32_be(5, 1); // NFTA_LOOKUP_FLAGS: NFT_LOOKUP_F_INV
        }
        self.end_expr(e, d)
    }
}

/// The first `len` bytes of the prefix's network address, and the mask of its last byte.
fn masked(cidr: Cidr, len: usize) -> (Vec<u8>, Vec<u8>) {
    let addr = addr_bytes(&cidr.addr);
    let mut net = Vec::with_capacity(len);
    let mut mask = Vec::with_capacity(len);
    for (i, b) in addr.iter().take(len).enumerate() {
        let bits = usize::from(cidr.prefix).saturating_sub(i * 8).min(8);
        let m = if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
        net.push(b & m);
        mask.push(m);
    }
    (net, mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_mask_their_last_byte() {
        let c = Cidr::parse("10.128.0.0/9").unwrap();
        assert_eq!(masked(c, 2), (vec![10, 128], vec![0xff, 0x80]));
        let c = Cidr::parse("fd00:244::/64").unwrap();
        assert_eq!(masked(c, 8).0, vec![0xfd, 0, 2, 0x44, 0, 0, 0, 0]);
    }
}
