//! [`Op`]s -> one nf_tables netlink batch. Chains, sets and jump targets are named
//! (never referenced by transaction id), so the kernel resolves them with its hash
//! tables however large the transaction. The expressions are the ones `nft` 1.0
//! generates for the same rule text (`nft --debug=netlink`), and the userdata the same
//! bytes `nft` stores, so `nft list` prints our tables exactly as it prints its own.

use std::net::IpAddr;

use super::message::{Buf, TooLarge, Udata};
use crate::model::{Cidr, Family, Protocol};
use crate::ruleset::rule::{AddrMatch, Expr, Rule, Verdict};
use crate::ruleset::set::{Element, Key, KeyType, SetSpec};
use crate::ruleset::{Chain, Op, TABLE, TABLE_COMMENT};

// linux/netfilter/nfnetlink.h, nf_tables.h
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
const NFT_MSG_NEWTABLE: u16 = 0;
pub(super) const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_DELCHAIN: u16 = 5;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_DELRULE: u16 = 8;
const NFT_MSG_NEWSET: u16 = 9;
const NFT_MSG_DELSET: u16 = 11;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;

pub(super) const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;

pub(super) const NFTA_LIST_ELEM: u16 = 1;
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_FLAGS: u16 = 2;
const NFTA_TABLE_USERDATA: u16 = 6;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_CHAIN_USERDATA: u16 = 12;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;
const NFTA_SET_TABLE: u16 = 1;
const NFTA_SET_NAME: u16 = 2;
const NFTA_SET_FLAGS: u16 = 3;
const NFTA_SET_KEY_TYPE: u16 = 4;
const NFTA_SET_KEY_LEN: u16 = 5;
const NFTA_SET_DATA_TYPE: u16 = 6;
const NFTA_SET_DATA_LEN: u16 = 7;
const NFTA_SET_ID: u16 = 10;
const NFTA_SET_TIMEOUT: u16 = 11;
const NFTA_SET_USERDATA: u16 = 13;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_SET_ELEM_FLAGS: u16 = 3;
const NFTA_SET_ELEM_USERDATA: u16 = 6;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;

const NFT_SET_ANONYMOUS: u32 = 0x1;
const NFT_SET_CONSTANT: u32 = 0x2;
const NFT_SET_INTERVAL: u32 = 0x4;
const NFT_SET_MAP: u32 = 0x8;
const NFT_SET_TIMEOUT: u32 = 0x10;
const NFT_SET_EVAL: u32 = 0x20;
const NFT_SET_ELEM_INTERVAL_END: u32 = 0x1;
const NFT_DATA_VERDICT: u32 = 0xffff_ff00;

const NF_DROP: i32 = 0;
const NFT_JUMP: i32 = -3;
const NFT_GOTO: i32 = -4;
const NFT_RETURN: i32 = -5;

/// Netlink messages are limited by their u16 attribute lengths: elements go in
/// messages of at most this many bytes of element list.
const MAX_ELEMENTS_BYTES: usize = 48 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    #[error("cannot encode {0}")]
    Unsupported(String),
}

/// An encoded transaction: the bytes, and what each message sequence number was for
/// (to name the command the kernel refused).
pub struct Batch {
    pub bytes: Vec<u8>,
    pub commands: Vec<(u32, String)>,
    /// Sequence number of the last message, sent with NLM_F_ACK: its acknowledgement
    /// says the batch was committed.
    pub last_seq: u32,
}

pub(super) struct Encoder {
    pub(super) buf: Buf,
    pub(super) family: Family,
    seq: u32,
    set_id: u32,
    commands: Vec<(u32, String)>,
    /// Offset of the last message written.
    last_msg: Option<usize>,
}

/// Roughly the batch size (measured: rules take 250-600 bytes, elements 60-100), so a
/// full sync's buffer is allocated once.
fn estimated_len(ops: &[Op<'_>]) -> usize {
    ops.iter()
        .map(|op| match op {
            Op::AddRule { rule, .. } => 120 + 60 * rule.exprs.len(),
            Op::AddElements { elements, .. } => 64 + 100 * elements.len(),
            Op::DeleteElements { keys, .. } => 64 + 48 * keys.len(),
            _ => 120,
        })
        .sum::<usize>()
        + 64
}

pub fn nfproto(family: Family) -> u8 {
    match family {
        Family::V4 => 2,  // NFPROTO_IPV4
        Family::V6 => 10, // NFPROTO_IPV6
    }
}

/// Encodes `ops` for the `kube-proxy` table of `family` as one batch.
pub fn encode(family: Family, ops: &[Op<'_>]) -> Result<Batch, EncodeError> {
    let mut e = Encoder {
        buf: Buf::with_capacity(estimated_len(ops)),
        family,
        seq: 0,
        set_id: 0,
        commands: Vec::new(),
        last_msg: None,
    };
    let m = e.buf.begin(
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        0,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    e.buf.end(m);
    for op in ops {
        e.op(op)?;
    }
    // Acknowledge the last message: the ack arrives only after the commit.
    let last_seq = e.seq;
    if let Some(off) = e.last_msg {
        let flags = u16::from_ne_bytes([e.buf.bytes[off + 6], e.buf.bytes[off + 7]]) | NLM_F_ACK;
        e.buf.bytes[off + 6..off + 8].copy_from_slice(&flags.to_ne_bytes());
    }
    e.seq += 1;
    let m = e.buf.begin(
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        e.seq,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    e.buf.end(m);
    Ok(Batch {
        bytes: e.buf.bytes,
        commands: e.commands,
        last_seq,
    })
}

pub(super) fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

pub(super) fn proto_number(p: Protocol) -> u8 {
    match p {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
        Protocol::Sctp => 132,
    }
}

/// Key bytes, with concatenated fields each padded to 4 bytes as in registers.
fn key_bytes(key: &Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    let proto_port = |out: &mut Vec<u8>, p: Protocol, port: u16| {
        out.extend_from_slice(&[proto_number(p), 0, 0, 0]);
        out.extend_from_slice(&port.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
    };
    match key {
        Key::Addr(a) => out.extend(addr_bytes(a)),
        Key::AddrProtoPort(a, p, port) => {
            out.extend(addr_bytes(a));
            proto_port(&mut out, *p, *port);
        }
        Key::ProtoPort(p, port) => proto_port(&mut out, *p, *port),
    }
    out
}

/// nft's datatype of a family's addresses (`ipv4_addr` 7, `ipv6_addr` 8) and their
/// length in bytes.
pub(super) fn addr_type(family: Family) -> (u32, u32) {
    match family {
        Family::V4 => (7, 4),
        Family::V6 => (8, 16),
    }
}

/// (NFTA_SET_KEY_TYPE, key length, userdata before the comment), as `nft` 1.0.6 writes
/// them for `type ...` declarations.
fn key_type(key: KeyType, verdict_map: bool) -> (u32, u32, Udata) {
    const INET_PROTO: u32 = 12;
    const INET_SERVICE: u32 = 13;
    let addr = addr_type;
    // Byte order udata: 2 = big endian (addresses); 0 = not applicable (concatenations).
    let concat_udata = || {
        let mut u = Udata::default().u32(0, 0);
        if verdict_map {
            u = u.u32(1, 0);
        }
        // NFTNL_UDATA_SET_KEY_TYPEOF as nft writes it for a concatenated `type`.
        u = u.raw(&[3, 8, 0, 4, 13, 0, 0, 0, 1, 0]);
        if verdict_map {
            u = u.u32(6, 0);
        }
        u
    };
    match key {
        KeyType::Addr(f) => {
            let (t, len) = addr(f);
            let mut u = Udata::default().u32(0, 2);
            if verdict_map {
                u = u.u32(1, 0).u32(6, 0);
            }
            (t, len, u)
        }
        KeyType::AddrProtoPort(f) => {
            let (t, len) = addr(f);
            (
                ((t << 6 | INET_PROTO) << 6) | INET_SERVICE,
                len + 8,
                concat_udata(),
            )
        }
        KeyType::ProtoPort => ((INET_PROTO << 6) | INET_SERVICE, 8, concat_udata()),
    }
}

fn verdict_code(v: &Verdict) -> (i32, Option<&str>) {
    match v {
        Verdict::Jump(c) => (NFT_JUMP, Some(c)),
        Verdict::Goto(c) => (NFT_GOTO, Some(c)),
        Verdict::Return => (NFT_RETURN, None),
        Verdict::Drop => (NF_DROP, None),
    }
}

impl Encoder {
    fn next_seq(&mut self, what: impl FnOnce() -> String) -> u32 {
        self.seq += 1;
        // Names of commands are kept only for the first messages and every 64th, which
        // is enough to point at a refused one without doubling the memory of a full sync.
        if self.seq < 1024 || self.seq.is_multiple_of(64) {
            self.commands.push((self.seq, what()));
        }
        self.seq
    }

    fn begin(&mut self, ty: u16, flags: u16, what: impl FnOnce() -> String) -> super::message::Msg {
        let seq = self.next_seq(what);
        let family = nfproto(self.family);
        self.last_msg = Some(self.buf.bytes.len());
        self.buf.begin(
            (NFNL_SUBSYS_NFTABLES << 8) | ty,
            NLM_F_REQUEST | flags,
            seq,
            family,
            0,
        )
    }

    fn table(&mut self, attr: u16) {
        self.buf.str(attr, TABLE);
    }

    fn op(&mut self, op: &Op<'_>) -> Result<(), EncodeError> {
        let family = self.family;
        let describe = || crate::ruleset::ops::text(family, std::slice::from_ref(op));
        match op {
            Op::AddTable => {
                let m = self.begin(NFT_MSG_NEWTABLE, NLM_F_CREATE, describe);
                self.table(NFTA_TABLE_NAME);
                self.buf.u32_be(NFTA_TABLE_FLAGS, 0);
                let u = Udata::default().strz(0, TABLE_COMMENT);
                self.buf.attr(NFTA_TABLE_USERDATA, &u.0);
                self.buf.end(m);
            }
            Op::DeleteTable => {
                let m = self.begin(NFT_MSG_DELTABLE, 0, describe);
                self.table(NFTA_TABLE_NAME);
                self.buf.end(m);
            }
            Op::FlushTable => {
                let m = self.begin(NFT_MSG_DELRULE, 0, describe);
                self.table(NFTA_RULE_TABLE);
                self.buf.end(m);
            }
            Op::AddChain { name, chain } => self.add_chain(name, chain, describe)?,
            Op::FlushChain(name) => {
                let m = self.begin(NFT_MSG_DELRULE, 0, describe);
                self.table(NFTA_RULE_TABLE);
                self.buf.str(NFTA_RULE_CHAIN, name);
                self.buf.end(m);
            }
            Op::DeleteChain(name) => {
                let m = self.begin(NFT_MSG_DELCHAIN, 0, describe);
                self.table(NFTA_CHAIN_TABLE);
                self.buf.str(NFTA_CHAIN_NAME, name);
                self.buf.end(m);
            }
            Op::AddSet { name, spec } => {
                self.add_set(name, spec, describe);
            }
            Op::FlushSet { name, .. } => {
                let m = self.begin(NFT_MSG_DELSETELEM, 0, describe);
                self.table(NFTA_SET_ELEM_LIST_TABLE);
                self.buf.str(NFTA_SET_ELEM_LIST_SET, name);
                self.buf.end(m);
            }
            Op::DeleteSet { name, .. } => {
                let m = self.begin(NFT_MSG_DELSET, 0, describe);
                self.table(NFTA_SET_TABLE);
                self.buf.str(NFTA_SET_NAME, name);
                self.buf.end(m);
            }
            Op::AddRule { chain, rule } => self.add_rule(chain, rule, describe)?,
            Op::AddElements { set, elements } => {
                let items: Vec<ElemItem<'_>> =
                    elements.iter().map(|e| ElemItem::Element(e)).collect();
                self.elements(NFT_MSG_NEWSETELEM, set, None, &items, describe)?;
            }
            Op::DeleteElements { set, keys } => {
                let items: Vec<ElemItem<'_>> = keys.iter().map(|k| ElemItem::Key(k)).collect();
                self.elements(NFT_MSG_DELSETELEM, set, None, &items, describe)?;
            }
        }
        Ok(())
    }

    fn add_chain(
        &mut self,
        name: &str,
        chain: &Chain,
        describe: impl FnOnce() -> String,
    ) -> Result<(), EncodeError> {
        let m = self.begin(NFT_MSG_NEWCHAIN, NLM_F_CREATE, describe);
        self.table(NFTA_CHAIN_TABLE);
        self.buf.str(NFTA_CHAIN_NAME, name);
        if let Some(base) = &chain.base {
            let n = self.buf.nest(NFTA_CHAIN_HOOK);
            self.buf.u32_be(NFTA_HOOK_HOOKNUM, base.hook.number());
            self.buf
                .attr(NFTA_HOOK_PRIORITY, &base.priority.to_be_bytes());
            self.buf.end_nest(n)?;
            self.buf.str(NFTA_CHAIN_TYPE, base.kind());
        }
        if let Some(c) = &chain.comment {
            let u = Udata::default().strz(0, c);
            self.buf.attr(NFTA_CHAIN_USERDATA, &u.0);
        }
        self.buf.end(m);
        Ok(())
    }

    fn add_set(&mut self, name: &str, spec: &SetSpec, describe: impl FnOnce() -> String) {
        let (key_type, key_len, mut udata) = key_type(spec.key, spec.verdict_map);
        let mut flags = 0;
        if spec.verdict_map {
            flags |= NFT_SET_MAP;
        }
        if spec.timeout_seconds.is_some() {
            flags |= NFT_SET_TIMEOUT | NFT_SET_EVAL;
        }
        if let Some(c) = &spec.comment {
            udata = udata.strz(7, c);
        }
        self.set_id += 1;
        let id = self.set_id;
        let m = self.begin(NFT_MSG_NEWSET, NLM_F_CREATE, describe);
        self.table(NFTA_SET_TABLE);
        self.buf.str(NFTA_SET_NAME, name);
        self.buf.u32_be(NFTA_SET_FLAGS, flags);
        self.buf.u32_be(NFTA_SET_KEY_TYPE, key_type);
        self.buf.u32_be(NFTA_SET_KEY_LEN, key_len);
        if spec.verdict_map {
            self.buf.u32_be(NFTA_SET_DATA_TYPE, NFT_DATA_VERDICT);
            self.buf.u32_be(NFTA_SET_DATA_LEN, 0);
        }
        self.buf.u32_be(NFTA_SET_ID, id);
        if let Some(t) = spec.timeout_seconds {
            self.buf.u64_be(NFTA_SET_TIMEOUT, u64::from(t) * 1000);
        }
        self.buf.attr(NFTA_SET_USERDATA, &udata.0);
        self.buf.end(m);
    }

    /// NEWSETELEM / DELSETELEM messages for `items`, split so that each element list
    /// fits its attribute.
    fn elements(
        &mut self,
        ty: u16,
        set: &str,
        set_id: Option<u32>,
        items: &[ElemItem<'_>],
        describe: impl Fn() -> String,
    ) -> Result<(), EncodeError> {
        let mut rest = items;
        while !rest.is_empty() {
            let flags = if ty == NFT_MSG_NEWSETELEM {
                NLM_F_CREATE
            } else {
                0
            };
            let m = self.begin(ty, flags, &describe);
            self.table(NFTA_SET_ELEM_LIST_TABLE);
            self.buf.str(NFTA_SET_ELEM_LIST_SET, set);
            if let Some(id) = set_id {
                self.buf.u32_be(NFTA_SET_ELEM_LIST_SET_ID, id);
            }
            let list = self.buf.nest(NFTA_SET_ELEM_LIST_ELEMENTS);
            let mut taken = 0;
            for item in rest {
                if taken > 0 && self.buf.nest_len(&list) > MAX_ELEMENTS_BYTES {
                    break;
                }
                self.element(item)?;
                taken += 1;
            }
            self.buf.end_nest(list)?;
            self.buf.end(m);
            rest = &rest[taken..];
        }
        Ok(())
    }

    fn element(&mut self, item: &ElemItem<'_>) -> Result<(), EncodeError> {
        let n = self.buf.nest(NFTA_LIST_ELEM);
        let (key, value, comment, flags) = match item {
            ElemItem::Element(e) => (key_bytes(&e.key), e.value.as_ref(), e.comment.as_deref(), 0),
            ElemItem::Key(k) => (key_bytes(k), None, None, 0),
            ElemItem::Raw { key, end } => (
                key.clone(),
                None,
                None,
                if *end { NFT_SET_ELEM_INTERVAL_END } else { 0 },
            ),
        };
        if flags != 0 {
            self.buf.u32_be(NFTA_SET_ELEM_FLAGS, flags);
        }
        self.data(NFTA_SET_ELEM_KEY, &key)?;
        if let Some(v) = value {
            self.verdict(NFTA_SET_ELEM_DATA, v)?;
        }
        if let Some(c) = comment {
            let u = Udata::default().strz(0, c);
            self.buf.attr(NFTA_SET_ELEM_USERDATA, &u.0);
        }
        self.buf.end_nest(n)?;
        Ok(())
    }

    pub(super) fn data(&mut self, attr: u16, value: &[u8]) -> Result<(), TooLarge> {
        let n = self.buf.nest(attr);
        self.buf.attr(NFTA_DATA_VALUE, value);
        self.buf.end_nest(n)
    }

    pub(super) fn verdict(&mut self, attr: u16, v: &Verdict) -> Result<(), TooLarge> {
        let (code, chain) = verdict_code(v);
        let n = self.buf.nest(attr);
        let d = self.buf.nest(NFTA_DATA_VERDICT);
        self.buf.attr(NFTA_VERDICT_CODE, &code.to_be_bytes());
        if let Some(c) = chain {
            self.buf.str(NFTA_VERDICT_CHAIN, c);
        }
        self.buf.end_nest(d)?;
        self.buf.end_nest(n)
    }

    fn add_rule(
        &mut self,
        chain: &str,
        rule: &Rule,
        describe: impl FnOnce() -> String,
    ) -> Result<(), EncodeError> {
        // An anonymous interval set goes before the rule that looks it up.
        let mut anon = None;
        for expr in &rule.exprs {
            if let Expr::AddrNotInAnonymousSet { values, .. } = expr {
                anon = Some(self.anonymous_set(values)?);
            }
        }
        let m = self.begin(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, describe);
        self.table(NFTA_RULE_TABLE);
        self.buf.str(NFTA_RULE_CHAIN, chain);
        let list = self.buf.nest(NFTA_RULE_EXPRESSIONS);
        for expr in &rule.exprs {
            self.expr(expr, anon)?;
        }
        self.buf.end_nest(list)?;
        if let Some(c) = &rule.comment {
            let u = Udata::default().strz(0, c);
            self.buf.attr(NFTA_RULE_USERDATA, &u.0);
        }
        self.buf.end(m);
        Ok(())
    }

    /// `{ a/p, b, ... }` as nft builds it: a constant anonymous interval set whose
    /// elements are range starts and (flagged) ends. Returns its transaction id.
    fn anonymous_set(&mut self, values: &[AddrMatch]) -> Result<u32, EncodeError> {
        let family = self.family;
        // An address set's type and byte order, plus nft's "merge elements" flag.
        let (key_type, key_len, udata) = key_type(KeyType::Addr(family), false);
        let udata = udata.u32(2, 1);
        let mut ranges: Vec<(u128, u128)> = values.iter().map(|v| range(v.cidr())).collect();
        ranges.sort();
        let mut merged: Vec<(u128, u128)> = Vec::new();
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        let max = match family {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        };
        let bytes = |v: u128| -> Vec<u8> {
            match family {
                Family::V4 => (v as u32).to_be_bytes().to_vec(),
                Family::V6 => v.to_be_bytes().to_vec(),
            }
        };
        let mut items = Vec::new();
        if merged.first().is_some_and(|(lo, _)| *lo != 0) {
            items.push(ElemItem::Raw {
                key: bytes(0),
                end: true,
            });
        }
        for (lo, hi) in &merged {
            items.push(ElemItem::Raw {
                key: bytes(*lo),
                end: false,
            });
            if *hi < max {
                items.push(ElemItem::Raw {
                    key: bytes(hi + 1),
                    end: true,
                });
            }
        }
        self.set_id += 1;
        let id = self.set_id;
        let name = "__set%d";
        let m = self.begin(NFT_MSG_NEWSET, NLM_F_CREATE, || "anonymous set".to_string());
        self.table(NFTA_SET_TABLE);
        self.buf.str(NFTA_SET_NAME, name);
        self.buf.u32_be(
            NFTA_SET_FLAGS,
            NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL,
        );
        self.buf.u32_be(NFTA_SET_KEY_TYPE, key_type);
        self.buf.u32_be(NFTA_SET_KEY_LEN, key_len);
        self.buf.u32_be(NFTA_SET_ID, id);
        self.buf.attr(NFTA_SET_USERDATA, &udata.0);
        self.buf.end(m);
        self.elements(NFT_MSG_NEWSETELEM, name, Some(id), &items, || {
            "anonymous set elements".to_string()
        })?;
        Ok(id)
    }
}

enum ElemItem<'a> {
    Element(&'a Element),
    Key(&'a Key),
    /// An interval set's boundary.
    Raw {
        key: Vec<u8>,
        end: bool,
    },
}

/// The prefix as an inclusive range of addresses.
fn range(cidr: Cidr) -> (u128, u128) {
    let (v, bits) = match cidr.addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32u32),
        IpAddr::V6(a) => (u128::from(a), 128u32),
    };
    let host = bits - u32::from(cidr.prefix).min(bits);
    let host_mask = if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    (v & !host_mask, v | host_mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_keys_pad_each_field() {
        let k = Key::AddrProtoPort("10.96.0.1".parse().unwrap(), Protocol::Tcp, 80);
        assert_eq!(key_bytes(&k), vec![10, 96, 0, 1, 6, 0, 0, 0, 0, 80, 0, 0]);
        let k = Key::ProtoPort(Protocol::Udp, 30000);
        assert_eq!(key_bytes(&k), vec![17, 0, 0, 0, 0x75, 0x30, 0, 0]);
    }

    #[test]
    fn key_types_match_nft() {
        assert_eq!(key_type(KeyType::AddrProtoPort(Family::V4), true).0, 0x730d);
        assert_eq!(key_type(KeyType::AddrProtoPort(Family::V6), true).0, 0x830d);
        assert_eq!(key_type(KeyType::ProtoPort, true).0, 0x30d);
    }

    #[test]
    fn prefixes_are_inclusive_ranges() {
        let c = Cidr::parse("10.128.0.0/9").unwrap();
        assert_eq!(range(c), (0x0a80_0000, 0x0aff_ffff));
        let c = Cidr::parse("::/0").unwrap();
        assert_eq!(range(c), (0, u128::MAX));
    }

    #[test]
    fn the_last_message_asks_for_an_ack() {
        let chain = Chain::default();
        let ops = vec![
            Op::AddTable,
            Op::AddChain {
                name: "c",
                chain: &chain,
            },
        ];
        let b = encode(Family::V4, &ops).unwrap();
        assert_eq!(b.last_seq, 2);
        // Walk to the third message (seq 2): its flags have NLM_F_ACK.
        let mut off = 0;
        let mut acked = Vec::new();
        while off < b.bytes.len() {
            let len = u32::from_ne_bytes(b.bytes[off..off + 4].try_into().unwrap()) as usize;
            let flags = u16::from_ne_bytes(b.bytes[off + 6..off + 8].try_into().unwrap());
            let seq = u32::from_ne_bytes(b.bytes[off + 8..off + 12].try_into().unwrap());
            if flags & NLM_F_ACK != 0 {
                acked.push(seq);
            }
            off += len;
        }
        assert_eq!(acked, vec![2]);
    }
}
