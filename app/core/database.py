"""The database schema, brought up to date for commands run on a fresh clone."""

from __future__ import annotations

from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def database_migrate_if_needed() -> bool:
    """Apply pending migrations; True when something was applied.

    The command-line tools must work on a fresh clone with default settings, where the SQLite
    database does not exist yet. Migrating quietly keeps their stdout (JSON) clean.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return False
    call_command("migrate", interactive=False, verbosity=0)
    return True
