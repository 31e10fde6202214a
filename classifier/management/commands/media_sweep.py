"""``manage.py media_sweep [--delete]``: list the stored files no row points to (a delete that failed, an upload
that was killed) and the rows whose files are missing; with ``--delete``, remove those files."""

from django.core.management.base import BaseCommand

from classifier.services.files import media_sweep, media_sweep_report


class Command(BaseCommand):
    help = "List stored files no row points to, and rows whose files are missing (a dry run unless --delete)."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Delete the files no row points to.")

    def handle(self, *args, delete: bool, **options):
        orphans, missing = media_sweep(delete=delete)
        for line in media_sweep_report(orphans, missing, deleted=delete):
            self.stdout.write(line)
