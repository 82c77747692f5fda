//! Multi-node tests (two sfr-org processes on one PostgreSQL).
