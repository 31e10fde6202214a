"""``manage.py queue_pending``: send every image still waiting to the workers again.

For images whose task never reached the broker (it was down at upload time); re-sending one already queued is
harmless, since a batch classifies only the images that still wait.
"""

from django.core.management.base import BaseCommand

from classifier import selectors, tasks


class Command(BaseCommand):
    help = "Queue every stored sample image that is still waiting to be classified."

    def handle(self, *args, **options):
        ids = selectors.pending_ids()
        tasks.pending_enqueue(ids)
        self.stdout.write(f"{len(ids)} waiting image(s) queued.")
