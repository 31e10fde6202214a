"""Deleting an account, from any code: its records go with it, except those of a verified sample, which stay."""

import pytest
from django.db.models import ProtectedError

from classifier.models import Prediction
from labs.models import Sample
from tests.factories import prediction_make, reviewer_make, sample_make, sample_verified_make

pytestmark = pytest.mark.django_db


def test_an_account_owning_a_verified_sample_cannot_be_deleted_and_nothing_goes(user, django_user_model):
    verified = sample_verified_make(user, reviewer_make(django_user_model))
    open_sample = sample_make(user, "S-OPEN")
    prediction_make(open_sample)
    before = (Sample.objects.count(), Prediction.objects.count())
    with pytest.raises(ProtectedError):
        user.delete()
    assert type(user).objects.filter(pk=user.pk).exists()
    assert (Sample.objects.count(), Prediction.objects.count()) == before
    assert verified.predictions.count() == 2


def test_a_colleague_who_uploaded_a_cell_of_a_verified_sample_cannot_be_deleted(user, django_user_model):
    verified = sample_verified_make(user, reviewer_make(django_user_model))
    colleague = django_user_model.objects.create_user("mia", password="s3cret-pass-mia")
    Prediction.objects.filter(pk=verified.predictions.first().pk).update(owner=colleague)
    with pytest.raises(ProtectedError):
        colleague.delete()
    assert verified.predictions.count() == 2


def test_an_account_without_verified_samples_is_deleted_with_its_records(user, django_user_model):
    prediction_make(sample_make(user, "S-OPEN"))
    prediction_make(None, owner=user)
    user.delete()
    assert not Sample.objects.exists() and not Prediction.objects.exists()
