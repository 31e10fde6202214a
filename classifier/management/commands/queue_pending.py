"""``manage.py queue_pending``: send every image still waiting to the workers again, now.

Workers at start and Celery beat do this by themselves for images waiting longer than the visibility timeout;
this is for an operator who will not wait that long (say, after the broker was down).
"""

from django.core.management.base import BaseCommand

from classifier.services.waiting import waiting_send_again


class Command(BaseCommand):
    help = "Send every stored sample image that is still waiting to be classified to the workers again."

    def handle(self, *args, **options):
        count = waiting_send_again()
        self.stdout.write(f"{count} waiting image(s) queued.")
