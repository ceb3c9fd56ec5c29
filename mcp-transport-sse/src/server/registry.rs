//! The live sessions of one server, bounded in number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::session::Session;

/// Session id → session. One lock, held only for map operations.
#[derive(Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<Arc<str>, Arc<Session>>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `session` unless `max` sessions already exist; returns whether it was added.
    pub(crate) fn insert(&self, session: Arc<Session>, max: usize) -> bool {
        let mut sessions = self.lock();
        if sessions.len() >= max {
            return false;
        }
        sessions.insert(Arc::clone(&session.id), session);
        true
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.lock().get(id).cloned()
    }

    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Session>> {
        self.lock().remove(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The sessions idle for at least `idle`.
    pub(crate) fn idle(&self, idle: Duration) -> Vec<Arc<Session>> {
        self.lock().values().filter(|s| s.is_idle(idle)).cloned().collect()
    }

    /// Every session, removing them all.
    pub(crate) fn drain(&self) -> Vec<Arc<Session>> {
        self.lock().drain().map(|(_, s)| s).collect()
    }
}
