"""``manage.py migrate``, able to upgrade a database from before the app split.

The user model moved from ``classifier`` to ``accounts``. Django's own migrations that point at the user
(``admin``, ``authtoken``) now depend on ``accounts.0001_initial``; in a database made before the split they are
applied and it is not, which Django refuses as an inconsistent history before migrating anything. That migration
only describes the table ``classifier.0001_initial`` made, so it is recorded as applied first, and the rest of the
upgrade (``classifier.0009``) runs as usual.
"""

from django.core.management.commands import migrate
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

USER_TABLE_MADE_BY = ("classifier", "0001_initial")
USER_MODEL_MOVED_BY = ("accounts", "0001_initial")


def record_user_model_move(connection) -> bool:
    """Record ``accounts.0001_initial`` as applied where the user table exists but it is not; whether it did."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    applied = recorder.applied_migrations()
    if USER_TABLE_MADE_BY not in applied or USER_MODEL_MOVED_BY in applied:
        return False
    recorder.record_applied(*USER_MODEL_MOVED_BY)
    return True


class Command(migrate.Command):
    def handle(self, *args, **options):
        if record_user_model_move(connections[options["database"]]) and options["verbosity"]:
            self.stdout.write("Recorded accounts.0001_initial (the user model's move from classifier) as applied.")
        super().handle(*args, **options)
