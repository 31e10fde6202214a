"""One way to show a moment everywhere: "1 Dec 2026, 18:05 CET", in the lab's time zone (``TIME_ZONE``), on every
page and in the admin (``hematovision.formats``)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from classifier.models import Prediction
from labs.models import Sample
from tests.factories import prediction_make, sample_make

pytestmark = pytest.mark.django_db
MOMENT = datetime.datetime(2026, 12, 1, 17, 5, tzinfo=datetime.UTC)
SHOWN = "1 Dec 2026, 18:05 CET"


def test_every_page_and_the_admin_show_a_moment_one_way_in_the_labs_zone(client, user, settings, django_user_model):
    settings.TIME_ZONE = "Europe/Berlin"
    sample = sample_make(user, "S-TIME")
    cell = prediction_make(sample)
    Prediction.objects.filter(pk=cell.pk).update(created_at=MOMENT)
    Sample.objects.filter(pk=sample.pk).update(created_at=MOMENT)
    client.force_login(user)
    for url in (
        reverse("classifier:history"),
        reverse("classifier:detail", args=[cell.pk]),
        reverse("labs:samples"),
        reverse("labs:sample_detail", args=[sample.pk]),
    ):
        assert SHOWN in client.get(url).content.decode(), url
    client.force_login(
        django_user_model.objects.create_user("staffer", password="pw-staff-2026", is_staff=True, is_superuser=True)
    )
    for url in (reverse("admin:classifier_prediction_changelist"), reverse("admin:labs_sample_changelist")):
        assert SHOWN in client.get(url).content.decode(), url


def test_the_format_is_the_sites_setting_not_a_copy_per_page(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    for name in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"):  # the admin's lists use the one, its forms the other
        assert formats.date_format(timezone.localtime(MOMENT), name) == SHOWN
