"""The review-reason codes: one table (``ReviewReason``), and every code the image checks return is in it."""

from classifier.models import NOT_RECOGNISED_REASONS, ReviewReason
from ml.quality import UNLIKE_TRAINING_IMAGES, assess_image
from tests.factories import blank_rgb, noise_rgb


def test_every_flag_the_image_checks_return_has_a_sentence():
    flags = {*assess_image(blank_rgb()), *assess_image(noise_rgb()), UNLIKE_TRAINING_IMAGES}
    assert flags and flags <= set(ReviewReason.values)


def test_only_the_checks_that_doubt_the_image_stop_a_class_being_headlined():
    assert set(ReviewReason.values) - NOT_RECOGNISED_REASONS == {ReviewReason.LOW_CONFIDENCE, ReviewReason.OTHER_KIND}
