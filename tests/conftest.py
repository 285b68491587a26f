"""Fixtures shared by many test files (the PostgreSQL database of the session)."""

from _pg_helpers import pg_database, pg_schema

__all__ = ["pg_database", "pg_schema"]
