"""The daily media sweep: celery beat runs ``media_sweep``'s dry run once a day and logs what it found."""

import logging

import pytest
from celery.schedules import crontab
from django.conf import settings

from classifier import tasks
from hematovision.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_beat_runs_the_sweep_task_once_a_day():
    (entry,) = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].endswith("sweep_media")]
    assert entry["task"] == tasks.sweep_media.name and entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab) and len(schedule.hour) == len(schedule.minute) == 1
    assert len(schedule.day_of_week) == 7


def test_the_task_logs_every_finding_and_deletes_nothing(planted, caplog):
    kept, lost, orphans = planted
    with caplog.at_level(logging.INFO, logger="hematovision.storage"):
        assert tasks.sweep_media.delay().get() == 3
    logged = [
        (record.levelno, record.getMessage()) for record in caplog.records if record.name == "hematovision.storage"
    ]
    assert logged == [
        (logging.WARNING, "Media sweep (dry run): orphan: predictions/ab/orphan.jpeg"),
        (logging.WARNING, "Media sweep (dry run): orphan: predictions/orphan.png"),
        (logging.WARNING, f"Media sweep (dry run): missing: {lost.image.name}"),
        (
            logging.WARNING,
            "Media sweep (dry run): 2 file(s) no row points to, left (--delete removes them); 1 row file(s) missing.",
        ),
    ]
    assert all(path.exists() for path in orphans)


def test_a_clean_sweep_is_logged_as_information(isolated_media, caplog):
    with caplog.at_level(logging.INFO, logger="hematovision.storage"):
        assert tasks.sweep_media.delay().get() == 0
    (record,) = [record for record in caplog.records if record.name == "hematovision.storage"]
    assert record.levelno == logging.INFO and "0 file(s) no row points to" in record.getMessage()
