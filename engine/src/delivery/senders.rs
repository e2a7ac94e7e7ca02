//! Each sender pool's relay [`Sender`], built once from its relay URL and
//! rebuilt when an admin changes it. Shared by the send loops and the
//! periodic relay probe, so both use one connection pool per relay.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::pools::{self, SenderPool};
use super::relay_url::RelayUrl;
use super::smtp::{Sender, Timeouts};
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Senders {
    timeouts: Timeouts,
    /// Pool id → (the relay URL the sender was built from, the sender).
    by_pool: Arc<Mutex<HashMap<i64, (String, Sender)>>>,
}

impl Senders {
    pub fn new(timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            by_pool: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The pool's sender, built on first use or after its relay URL changed.
    pub async fn for_pool(&self, pool: &SenderPool) -> Result<Sender> {
        let mut senders = self.by_pool.lock().await;
        if let Some((url, s)) = senders.get(&pool.id)
            && *url == pool.relay_url
        {
            return Ok(s.clone());
        }
        let url = RelayUrl::parse(&pool.relay_url)
            .map_err(|e| Error::Config(format!("sender pool {}: relay URL: {e}", pool.name)))?;
        let connections = pools::relay_connections(pool.max_per_second);
        let sender = Sender::new(&url, self.timeouts, connections)
            .map_err(|e| Error::Config(format!("sender pool {}: {e}", pool.name)))?;
        senders.insert(pool.id, (pool.relay_url.clone(), sender.clone()));
        Ok(sender)
    }
}
