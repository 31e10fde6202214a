"""The review grid in headless Chromium: the keys of the other kinds mark a cell as one of them, and the sample page
then lists it apart from the differential."""

import pytest
from selenium.webdriver.common.by import By

from classifier.models import Prediction
from labs.models import SampleEvent
from tests.factories import lab_make, predictions_make, reviewer_make, sample_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pressing_i_marks_a_cell_immature_granulocyte_and_the_sample_page_lists_it_apart(
    pages, login, user, django_user_model
):
    reviewer = reviewer_make(django_user_model)
    sample = sample_make(user, "S-IG", lab=lab_make(user, reviewer))
    first, *_ = predictions_make(sample, {"MONOCYTE": 1, "NEUTROPHIL": 3})

    login("rita", "s3cret-pass-rita")
    pages.open(f"/samples/{sample.pk}/cells/")
    pages.wait_for_title("Cells of sample S-IG")
    cell = pages.find(f"#cell-{first.pk}")
    cell.find_element(By.CSS_SELECTOR, "img.cell-crop").click()
    pages.wait.until(lambda driver: driver.switch_to.active_element == cell)
    cell.send_keys("i")
    pages.wait_for_text(f"#cell-{first.pk} [data-review-state]", "✎ Corrected to Immature granulocyte")
    pages.screenshot("review_grid_other_kind")
    first.refresh_from_db()
    assert (first.reviewed_label, first.reviewed_by) == ("IMMATURE_GRANULOCYTE", reviewer)
    assert SampleEvent.objects.get(sample=sample, prediction=first).to_label == "IMMATURE_GRANULOCYTE"

    pages.open(f"/samples/{sample.pk}/")
    pages.wait_for_title("Sample S-IG")
    rows = pages.find_all("#other-cells tbody tr")
    assert [(row.get_attribute("data-class"), row.find_element(By.CSS_SELECTOR, ".count").text) for row in rows] == [
        ("IMMATURE_GRANULOCYTE", "1")
    ]
    assert pages.find("#differential-total").text == "3"
    monocytes = pages.find("#differential tr[data-class=MONOCYTE] .count").text
    assert monocytes == "0" and Prediction.objects.filter(sample=sample).count() == 4
    assert "Not counted: 1 other cell." in pages.find("#not-counted").text
    pages.screenshot("sample_other_cells")
