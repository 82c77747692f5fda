//! PostgreSQL-specific storage tests.
