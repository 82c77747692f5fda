//! What the writer thread keeps between its transactions: the users its code exchanges read, and whether any
//! session cutoff exists, under the facts' counter they were read at.
//!
//! A code exchange learns its user from the code, inside the writer's transaction, so the grant's cached facts
//! (`facts_cache`) cannot carry it; reading it there (the user, its profile and its permission sets) was a sixth
//! of what the writer executed per exchange. The users table, its profile and permission-set tables are among
//! those whose every change moves the counter (`schema`, V8's triggers), and a transaction reads the counter
//! under the write lock (`InBatch::facts_version`): a user kept under the counter's current value is the row the
//! transaction would read. The writer's own thread is the only one to touch this, so there is no lock.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::tokens::Cutoffs;
use crate::model::User;

/// Users kept at most; the memo starts over when it is full (a flood of logins by distinct users costs one
/// read each, as before, and bounded memory).
const MAX_USERS: usize = 4_096;

/// The writer thread's memo (see the module's note).
#[derive(Debug, Default)]
pub(super) struct WriterMemo {
    users: RefCell<UsersAt>,
    /// Whether cutoffs existed, and the counter that was learnt at.
    cutoffs: Cell<Option<(i64, Cutoffs)>>,
}

#[derive(Debug, Default)]
struct UsersAt {
    /// The facts' counter every user here was read at.
    version: i64,
    /// By the 15-character form of the id, which is how the store compares ids.
    by_id: HashMap<String, User, foldhash::fast::RandomState>,
}

impl WriterMemo {
    /// The user with this 15-character id, if it was kept at `version`.
    pub(super) fn user(&self, version: i64, id15: &str) -> Option<User> {
        let users = self.users.borrow();
        if users.version != version {
            return None;
        }
        users.by_id.get(id15).cloned()
    }

    /// Whether cutoffs exist, if that was learnt at `version`.
    pub(super) fn cutoffs(&self, version: i64) -> Option<Cutoffs> {
        self.cutoffs
            .get()
            .and_then(|(at, cutoffs)| (at == version).then_some(cutoffs))
    }

    /// Keeps whether cutoffs exist, learnt at `version`.
    pub(super) fn keep_cutoffs(&self, version: i64, cutoffs: Cutoffs) {
        self.cutoffs.set(Some((version, cutoffs)));
    }

    /// Keeps `user`, read at `version`: the users kept at any other version go.
    pub(super) fn keep(&self, version: i64, user: &User) {
        let mut users = self.users.borrow_mut();
        if users.version != version || users.by_id.len() >= MAX_USERS {
            users.by_id.clear();
            users.version = version;
        }
        users.by_id.insert(user.id.to_15().to_owned(), user.clone());
    }
}

#[cfg(test)]
mod tests {
    use sfr_wire::SfId;

    use super::*;
    use crate::model::Profile;

    fn user(n: u64, name: &str) -> User {
        User {
            id: SfId::new("005", n),
            username: format!("{name}@example.com"),
            email: format!("{name}@example.com"),
            first_name: None,
            last_name: name.to_owned(),
            password_hash: String::new(),
            active: true,
            profile: Profile {
                id: SfId::new("00e", 1),
                name: "Standard User".into(),
            },
            permission_sets: Vec::new(),
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: 0,
        }
    }

    #[test]
    fn a_user_is_found_only_at_the_version_it_was_kept_at() {
        let memo = WriterMemo::default();
        let ann = user(1, "ann");
        memo.keep(3, &ann);
        assert_eq!(memo.user(3, ann.id.to_15()), Some(ann.clone()));
        assert_eq!(memo.user(4, ann.id.to_15()), None);
        assert_eq!(memo.user(3, user(2, "bob").id.to_15()), None);
    }

    #[test]
    fn keeping_at_another_version_forgets_the_rest() {
        let memo = WriterMemo::default();
        let (ann, bob) = (user(1, "ann"), user(2, "bob"));
        memo.keep(3, &ann);
        memo.keep(4, &bob);
        assert_eq!(memo.user(4, bob.id.to_15()), Some(bob));
        assert_eq!(memo.user(4, ann.id.to_15()), None);
        assert_eq!(memo.user(3, ann.id.to_15()), None);
    }

    #[test]
    fn a_full_memo_starts_over() {
        let memo = WriterMemo::default();
        for n in 0..MAX_USERS as u64 {
            memo.keep(1, &user(n + 1, "u"));
        }
        let first = user(1, "u");
        assert!(memo.user(1, first.id.to_15()).is_some());
        let more = user(MAX_USERS as u64 + 1, "more");
        memo.keep(1, &more);
        assert_eq!(memo.user(1, first.id.to_15()), None);
        assert_eq!(memo.user(1, more.id.to_15()), Some(more));
    }
}
