//! The writer's connection inside one group-commit transaction (`group_commit`), with what that transaction
//! learned once for every piece it runs.

use std::cell::Cell;
use std::ops::Deref;

use rusqlite::Connection;
use sfr_wire::SfId;

use super::tokens::{self, Cutoffs};
use super::writer_memo::WriterMemo;
use super::{facts_version, users};
use crate::model::User;
use crate::store::{StoreError, StoreResult};

/// A piece's view of its batch: the writer's connection, inside a `BEGIN IMMEDIATE` transaction.
pub(super) struct InBatch<'c> {
    conn: &'c Connection,
    /// The facts' counter, once a piece of this transaction read it.
    facts_version: Cell<Option<i64>>,
    /// What the writer keeps between its transactions.
    memo: &'c WriterMemo,
}

impl<'c> InBatch<'c> {
    /// `conn`, in a transaction that has just begun, on the writer whose memo is `memo`.
    pub(super) fn new(conn: &'c Connection, memo: &'c WriterMemo) -> Self {
        Self {
            conn,
            facts_version: Cell::new(None),
            memo,
        }
    }

    /// The facts' counter as this transaction sees it, read once per transaction: the transaction holds the
    /// write lock, so no other connection moves the counter before it commits, and no piece of a batch writes a
    /// table the counter follows (`check_facts_unchanged`, before each piece, asserts that in debug builds).
    fn facts_version(&self) -> StoreResult<i64> {
        if let Some(v) = self.facts_version.get() {
            return Ok(v);
        }
        let v = facts_version::load(self.conn)?;
        self.facts_version.set(Some(v));
        Ok(v)
    }

    /// Fails with `FactsChanged` unless the facts' counter is still `expected` (a grant decided on cached facts;
    /// `None`: nothing to check). No change can commit between this and the grant's own commit.
    ///
    /// The counter is read once per transaction, not once per grant (`facts_version`): under load a commit
    /// carries several grants, and each read was 2.5k instructions.
    pub(super) fn confirm_facts(&self, expected: Option<i64>) -> StoreResult<()> {
        let Some(expected) = expected else {
            return Ok(());
        };
        if self.facts_version()? == expected {
            Ok(())
        } else {
            Err(StoreError::FactsChanged)
        }
    }

    /// The user with this id (`users::by_id`), from the writer's memo when it was read at the counter this
    /// transaction sees (`writer_memo`), else from the connection, and then kept.
    pub(super) fn user_by_id(&self, id: &SfId) -> StoreResult<Option<User>> {
        let version = self.facts_version()?;
        if let Some(user) = self.memo.user(version, id.to_15()) {
            return Ok(Some(user));
        }
        let user = users::by_id(self.conn, id)?;
        if let Some(user) = &user {
            self.memo.keep(version, user);
        }
        Ok(user)
    }

    /// Whether any session cutoff exists (`tokens`, the module's note), from the writer's memo when it was
    /// learnt at the counter this transaction sees, else from the table. Adding a cutoff moves the counter
    /// (schema v14's trigger); dropping one does not, and an answer of `MayExist` is only slower.
    pub(super) fn cutoffs(&self) -> StoreResult<Cutoffs> {
        let version = self.facts_version()?;
        if let Some(cutoffs) = self.memo.cutoffs(version) {
            return Ok(cutoffs);
        }
        let cutoffs = tokens::cutoffs(self.conn)?;
        self.memo.keep_cutoffs(version, cutoffs);
        Ok(cutoffs)
    }

    /// Debug builds (the tests): panics if the facts' counter moved since this transaction read it, that is,
    /// if a piece wrote a table a grant's facts come from; the pieces after it would be confirmed on the
    /// counter read before. Such a write belongs in its own transaction (`SqliteStore::write`). Nothing to do
    /// (no statement) until a piece read the counter.
    pub(super) fn check_facts_unchanged(&self) {
        if cfg!(debug_assertions)
            && let Some(read) = self.facts_version.get()
            && let Ok(now) = facts_version::load(self.conn)
        {
            assert_eq!(
                now, read,
                "a group-commit piece changed a table of the grants' facts"
            );
        }
    }
}

impl Deref for InBatch<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}
