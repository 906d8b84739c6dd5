"""The service's database: tables (schema.py), connections (engine.py), migrations.

SQLAlchemy Core, no ORM: each part of the service reads and writes its own tables with
plain statements in its own module. SQLite by default, PostgreSQL by URL.
"""

from avf.store.engine import connect, migrate

__all__ = ["connect", "migrate"]
