"""``manage.py media_sweep [--delete]``: list the stored files no row points to (a delete that failed, an upload
that was killed) and the rows whose files are missing; with ``--delete``, remove those files."""

from django.core.management.base import BaseCommand

from classifier.services.files import media_sweep


class Command(BaseCommand):
    help = "List stored files no row points to, and rows whose files are missing (a dry run unless --delete)."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Delete the files no row points to.")

    def handle(self, *args, delete: bool, **options):
        orphans, missing = media_sweep(delete=delete)
        for name in orphans:
            self.stdout.write(f"{'deleted' if delete else 'orphan'}: {name}")
        for name in missing:
            self.stdout.write(f"missing: {name}")
        done = "deleted" if delete else "left (--delete removes them)"
        self.stdout.write(f"{len(orphans)} file(s) no row points to, {done}; {len(missing)} row file(s) missing.")
