//! A real DNS server on loopback UDP for the MX-check tests, answering from a
//! small scripted zone, and counting the queries it was asked (so tests can
//! see the resolver's cache at work).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX, SOA};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

/// What the scripted server knows about one domain.
#[derive(Debug, Clone)]
pub enum Zone {
    /// MX records: (preference, exchange); `(0, ".")` is a null MX.
    Mx(Vec<(u16, String)>),
    /// No MX, one A record.
    AddressOnly(Ipv4Addr),
    /// The name exists (NOERROR) but has neither MX nor address records.
    Empty,
    /// Queries are read and never answered.
    Silent,
}

/// A running server; anything not in the zone is NXDOMAIN.
pub struct DnsServer {
    pub addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    pub async fn start(zones: Vec<(&str, Zone)>) -> std::io::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let addr = socket.local_addr()?;
        let zones: HashMap<String, Zone> = zones
            .into_iter()
            .map(|(d, z)| (d.trim_end_matches('.').to_ascii_lowercase(), z))
            .collect();
        let queries = Arc::new(AtomicUsize::new(0));
        let counted = queries.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
                counted.fetch_add(1, Ordering::SeqCst);
                let Some(reply) = answer(&zones, &buf[..n]) else {
                    continue;
                };
                let _ = socket.send_to(&reply, peer).await;
            }
        });
        Ok(Self {
            addr,
            queries,
            task,
        })
    }

    /// Queries received so far.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(zones: &HashMap<String, Zone>, packet: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(packet).ok()?;
    let query = request.queries.first()?.clone();
    let domain = query
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let id = request.metadata.id;
    let op = request.metadata.op_code;
    let mut reply = Message::response(id, op);
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = true;
    reply.add_query(query.clone());
    let name = query.name().clone();
    // Negative answers carry the zone's SOA, as real servers' do: its minimum
    // is how long resolvers may cache "no such name / no such record".
    let soa = || {
        let zone = Name::from_ascii("example.").ok()?;
        let soa = SOA::new(zone.clone(), zone.clone(), 1, 3600, 600, 86400, 300);
        Some(Record::from_rdata(zone, 300, RData::SOA(soa)))
    };
    match zones.get(&domain) {
        None => {
            reply.metadata.response_code = ResponseCode::NXDomain;
            reply.add_authority(soa()?);
        }
        Some(Zone::Silent) => return None,
        Some(Zone::Mx(mxs)) if query.query_type() == RecordType::MX => {
            for (pref, exchange) in mxs {
                let exchange = Name::from_ascii(exchange).ok()?;
                reply.add_answer(Record::from_rdata(
                    name.clone(),
                    300,
                    RData::MX(MX::new(*pref, exchange)),
                ));
            }
        }
        Some(Zone::AddressOnly(ip)) if query.query_type() == RecordType::A => {
            reply.add_answer(Record::from_rdata(name, 300, RData::A(A(*ip))));
        }
        // The name exists, the asked type does not: NOERROR, no answers.
        Some(_) => {
            reply.add_authority(soa()?);
        }
    }
    reply.to_vec().ok()
}
