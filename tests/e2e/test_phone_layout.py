"""The sample page, the sample list, the history and the error pages on a phone (390 px wide, as an iPhone 12-15): every
column fits, nothing needs sideways scrolling."""

import pytest

from labs.models import Sample
from tests.factories import prediction_make, predictions_make, reviewed_lab_sample_make, reviewer_grant, reviewer_make

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
