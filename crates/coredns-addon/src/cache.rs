//! A small TTL-respecting cache for forwarded answers, like CoreDNS's `cache` plugin:
//! positive answers live for their smallest TTL (at most 3600 s), negative ones (NXDOMAIN,
//! NODATA) for the SOA minimum (at most 1800 s); SERVFAIL and other errors are not cached.
//! TTLs handed out are decreased by the time spent in the cache. Pure: the caller passes
//! the clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// Longest time a positive answer is kept.
pub const MAX_SUCCESS_TTL: u32 = 3600;
/// Longest time a negative answer is kept.
pub const MAX_DENIAL_TTL: u32 = 1800;
/// CoreDNS's default capacity.
pub const DEFAULT_CAPACITY: usize = 9984;

/// A forwarded answer, without its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
}

/// Whether a cached answer was positive or negative (CoreDNS's `type` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Success,
    Denial,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::Denial => "denial",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    name: String,
    qtype: RecordType,
    class: DNSClass,
}

#[derive(Debug, Clone)]
struct Entry {
    value: Upstream,
    kind: Kind,
    stored: Instant,
    expires: Instant,
}

#[derive(Debug)]
pub struct Cache {
    entries: HashMap<Key, Entry>,
    capacity: usize,
}

fn key(name: &Name, qtype: RecordType, class: DNSClass) -> Key {
    let mut s = name.to_ascii();
    s.make_ascii_lowercase();
    Key {
        name: s,
        qtype,
        class,
    }
}

/// How long `value` may be cached, and as what; None when it must not be.
pub fn lifetime(value: &Upstream) -> Option<(u32, Kind)> {
    match value.rcode {
        ResponseCode::NoError if !value.answers.is_empty() => {
            let ttl = value.answers.iter().map(|r| r.ttl).min()?;
            Some((ttl.min(MAX_SUCCESS_TTL), Kind::Success))
        }
        ResponseCode::NoError | ResponseCode::NXDomain => {
            // RFC 2308: the SOA's TTL capped by its minimum field.
            let ttl = value.authorities.iter().find_map(|r| match &r.data {
                RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
                _ => None,
            })?;
            Some((ttl.min(MAX_DENIAL_TTL), Kind::Denial))
        }
        _ => None,
    }
    .filter(|(ttl, _)| *ttl > 0)
}

impl Cache {
    pub fn new(capacity: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The cached answer with TTLs lowered by its age, if still fresh.
    pub fn get(
        &self,
        name: &Name,
        qtype: RecordType,
        class: DNSClass,
        now: Instant,
    ) -> Option<(Upstream, Kind)> {
        let entry = self.entries.get(&key(name, qtype, class))?;
        if now >= entry.expires {
            return None;
        }
        let age = u32::try_from(now.duration_since(entry.stored).as_secs()).unwrap_or(u32::MAX);
        let mut value = entry.value.clone();
        for r in value
            .answers
            .iter_mut()
            .chain(value.authorities.iter_mut())
            .chain(value.additionals.iter_mut())
        {
            r.ttl = r.ttl.saturating_sub(age);
        }
        // Answers carry the name as it was asked.
        for r in value.answers.iter_mut() {
            if r.name.eq_ignore_root(name) {
                r.name = name.clone();
            }
        }
        Some((value, entry.kind))
    }

    /// Stores `value` if it may be cached; returns whether it was.
    pub fn insert(
        &mut self,
        name: &Name,
        qtype: RecordType,
        class: DNSClass,
        value: Upstream,
        now: Instant,
    ) -> bool {
        let Some((ttl, kind)) = lifetime(&value) else {
            return false;
        };
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= self.capacity {
                // Still full of fresh entries: drop the one closest to expiry.
                if let Some(k) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone())
                {
                    self.entries.remove(&k);
                }
            }
        }
        self.entries.insert(
            key(name, qtype, class),
            Entry {
                value,
                kind,
                stored: now,
                expires: now + Duration::from_secs(u64::from(ttl)),
            },
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::rdata::{A, SOA};

    use super::*;

    fn a(name: &str, ttl: u32) -> Record {
        Record::from_rdata(
            Name::from_str(name).unwrap(),
            ttl,
            RData::A(A::new(192, 0, 2, 1)),
        )
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        Record::from_rdata(
            Name::from_str("example.").unwrap(),
            ttl,
            RData::SOA(SOA::new(
                Name::from_str("ns.example.").unwrap(),
                Name::from_str("h.example.").unwrap(),
                1,
                1,
                1,
                1,
                minimum,
            )),
        )
    }

    fn positive(ttl: u32) -> Upstream {
        Upstream {
            rcode: ResponseCode::NoError,
            answers: vec![a("www.example.", ttl), a("www.example.", ttl + 10)],
            authorities: vec![],
            additionals: vec![],
        }
    }

    #[test]
    fn positive_answers_live_for_their_smallest_ttl_and_age() {
        let mut c = Cache::new(10);
        let name = Name::from_str("WWW.example.").unwrap();
        let t0 = Instant::now();
        assert!(c.insert(&name, RecordType::A, DNSClass::IN, positive(30), t0));
        let lower = Name::from_str("www.example.").unwrap();
        let (v, kind) = c
            .get(
                &lower,
                RecordType::A,
                DNSClass::IN,
                t0 + Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(kind, Kind::Success);
        assert_eq!(v.answers[0].ttl, 20);
        assert_eq!(v.answers[1].ttl, 30);
        assert!(c
            .get(
                &lower,
                RecordType::A,
                DNSClass::IN,
                t0 + Duration::from_secs(30)
            )
            .is_none());
        assert!(c.get(&lower, RecordType::AAAA, DNSClass::IN, t0).is_none());
    }

    #[test]
    fn negative_answers_use_the_soa_minimum_and_servfail_is_not_cached() {
        let neg = Upstream {
            rcode: ResponseCode::NXDomain,
            answers: vec![],
            authorities: vec![soa(300, 60)],
            additionals: vec![],
        };
        assert_eq!(lifetime(&neg), Some((60, Kind::Denial)));
        let no_soa = Upstream {
            authorities: vec![],
            ..neg.clone()
        };
        assert_eq!(lifetime(&no_soa), None);
        let fail = Upstream {
            rcode: ResponseCode::ServFail,
            ..neg
        };
        assert_eq!(lifetime(&fail), None);
        assert_eq!(lifetime(&positive(0)), None);
        assert_eq!(
            lifetime(&positive(99999)),
            Some((MAX_SUCCESS_TTL, Kind::Success))
        );
    }

    #[test]
    fn a_full_cache_evicts() {
        let mut c = Cache::new(2);
        let t0 = Instant::now();
        for (i, ttl) in [(1, 100), (2, 10), (3, 50)] {
            let name = Name::from_str(&format!("n{i}.example.")).unwrap();
            c.insert(&name, RecordType::A, DNSClass::IN, positive(ttl), t0);
        }
        assert_eq!(c.len(), 2);
        // The entry closest to expiry (n2) went.
        let n2 = Name::from_str("n2.example.").unwrap();
        assert!(c.get(&n2, RecordType::A, DNSClass::IN, t0).is_none());
    }
}
