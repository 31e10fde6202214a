"""The sample page (open and verified), the sample list, the history, the Model page and the error pages on a phone
(390 px wide, as an iPhone 12-15): every column fits, nothing needs sideways scrolling."""

import pytest

from labs.models import Sample
from labs.services.review import prediction_exclude, prediction_review
from labs.services.sign_off import sample_unverify, sample_verify
from ml import artifact
from registry.models import ModelVersion
from tests.classifier.test_model_page import EVALUATION, HELD_OUT
from tests.factories import (
    lab_make,
    prediction_make,
    predictions_make,
    reviewed_lab_sample_make,
    reviewer_grant,
    reviewer_make,
    sample_make,
    unverifier_grant,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390


def overflow(pages) -> dict:
    """The page's width and the window's (less its scroll bar), and the elements that stick out past its right edge."""
    return pages.driver.execute_script("""
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll("body *")]
          .filter(element => element.getBoundingClientRect().right > width + 1)
          .map(element => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
                          + (element.className && element.className.baseVal === undefined ? "." + element.className : ""));
        return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
    """)


def test_sample_page_history_and_error_pages_fit_a_phone(pages, user, django_user_model):
    reviewer = reviewer_make(django_user_model)
    sample = reviewed_lab_sample_make(user, reviewer)  # lab, report number, warning, review counts, gallery
    Sample.objects.filter(pk=sample.pk).update(verified_at=None, verified_by=None)  # the upload form shows too
    predictions_make(sample, {"EOSINOPHIL": 1, "MONOCYTE": 1})
    prediction_make(
        sample,
        "MONOCYTE",
        needs_review=True,
        filename="a-very-long-file-name-from-the-scanner-0001-field-17-cell-3.jpeg",
    )
    reviewer_grant(user)
    pages.driver.set_window_size(PHONE_WIDTH, 844)
    pages.login("alice", "s3cret-pass-alice")
    too_wide = {}  # every page's overflow, reported at once
    for path, name in (
        (f"/samples/{sample.pk}/", "phone_sample"),
        ("/history/", "phone_history"),
        ("/samples/", "phone_samples"),
        ("/no-such-page/", "phone_404"),
    ):
        pages.open(path)
        assert pages.driver.execute_script("return window.innerWidth") <= PHONE_WIDTH
        pages.screenshot(name)
        sizes = overflow(pages)
        if sizes["scroll"] > sizes["width"] or sizes["wide"]:
            too_wide[path] = sizes
    assert not too_wide
    pages.open(f"/samples/{sample.pk}/")
    for image in pages.find_all("#gallery img"):  # every cell's crop arrives (stored when it was classified)
        pages.driver.execute_script("arguments[0].scrollIntoView()", image)
        pages.wait.until(
            lambda driver, image=image: driver.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", image
            )
        )
    pages.screenshot("phone_sample_gallery")
    flags = pages.find_all("#differential tbody .flag")
    assert flags and all(flag.is_displayed() for flag in flags)  # the flag column is on screen, not cut off


def test_the_verified_sample_page_and_the_model_page_fit_a_phone(pages, user, django_user_model, model_path):
    reviewer = unverifier_grant(reviewer_make(django_user_model))
    sample = sample_make(user, "S-2026-PHONE-000123", lab=lab_make(user, reviewer))
    cells = predictions_make(sample, {"NEUTROPHIL": 4, "LYMPHOCYTE": 2, "MONOCYTE": 1, "BASOPHIL": 1})
    long_name = prediction_make(sample, "EOSINOPHIL", filename="scanner-0001-field-17-cell-3-" + "x" * 40 + ".jpeg")
    for cell in [*cells, long_name][1:]:
        prediction_review(prediction=cell, reviewer=reviewer, label=cell.predicted_label)
    prediction_exclude(
        prediction=cells[0], reviewer=reviewer, reason="Smudge cell, too damaged to classify with confidence"
    )
    sample_verify(sample=sample, reviewer=reviewer)
    sample_unverify(
        sample=sample, actor=reviewer, reason="Wrong slide label on the first sign-off, relabelled by the lab"
    )
    sample = sample_verify(sample=sample, reviewer=reviewer)
    ModelVersion.objects.create(
        name="evaluated-model-with-a-long-name-2026-12-01",
        file_path=str(model_path),
        sha256=artifact.read_metadata(model_path).sha256,
        base_network="MobileNetV2 alpha=1.0 (ImageNet weights, fine-tuned)",
        input_size=128,
        metrics={"evaluation": {"kaggle TEST": EVALUATION, "pbc held-out": HELD_OUT}},
    )
    pages.driver.set_window_size(PHONE_WIDTH, 844)
    pages.login("alice", "s3cret-pass-alice")
    too_wide = {}
    for path, name in ((f"/samples/{sample.pk}/", "phone_verified_sample"), ("/model/", "phone_model")):
        pages.open(path)
        assert pages.driver.execute_script("return window.innerWidth") <= PHONE_WIDTH
        pages.screenshot(name)
        sizes = overflow(pages)
        if sizes["scroll"] > sizes["width"] or sizes["wide"]:
            too_wide[path] = sizes
    assert not too_wide
    pages.open(f"/samples/{sample.pk}/")
    assert "Un-verified" in pages.find("#audit-trail").text and "Verified" in pages.find(".sample-status").text
    pages.open("/model/")
    assert pages.find("[data-set='kaggle TEST'] .accuracy").text == "87.5%"
