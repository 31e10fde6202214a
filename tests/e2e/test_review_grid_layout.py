"""The review grid of a 100-cell smear on a 1366 x 900 laptop screen in headless Chromium: the compact cards show
a screenful of cells, each class least confident first, a crop padded past the frame is hatched, a corrected card
leads with the reviewer's class (its aria-label too), the full image boxes the cell, and Verify says why it waits
until the last cell is reviewed."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from classifier.models import Prediction
from tests.factories import lab_make, prediction_make, reviewer_make, sample_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = (1366, 900)
SMEAR = {"EOSINOPHIL": 4, "LYMPHOCYTE": 26, "MONOCYTE": 8, "NEUTROPHIL": 62}  # 100 cells, as a manual count


def smear_make(owner, reviewer):
    """A 100-cell lab sample; confidences spread so the order within each class shows; the two least sure
    neutrophils hide among the 62, and the first eosinophil's crop reaches past the frame's left edge."""
    sample = sample_make(owner, "S-GRID", lab=lab_make(owner, reviewer))
    cells = []
    for label, count in SMEAR.items():
        for index in range(count):
            cell = prediction_make(sample, label, filename=f"{label.lower()}-{index:02}.jpeg")
            confidence = 0.95 - (index * 7 % count) / count * 0.3  # scattered, never in id order
            Prediction.objects.filter(pk=cell.pk).update(confidence=confidence)
            cells.append(cell)
    Prediction.objects.filter(pk=cells[0].pk).update(cell_box=[-0.2, 0.1, 0.6, 0.9])
    return sample


def inside_viewport(pages) -> int:
    return pages.driver.execute_script("""
        const [width, height] = [document.documentElement.clientWidth, window.innerHeight];
        return [...document.querySelectorAll("#cell-grid .cell")].filter(cell => {
          const box = cell.getBoundingClientRect();
          return box.top >= 0 && box.left >= 0 && box.bottom <= height && box.right <= width;
        }).length;
    """)


def test_a_laptop_screen_shows_a_screenful_of_compact_cards_least_confident_first(pages, user, django_user_model):
    reviewer = reviewer_make(django_user_model)
    sample = smear_make(user, reviewer)
    pages.driver.set_window_size(*LAPTOP)
    pages.login("rita", "s3cret-pass-rita")
    pages.driver.set_window_size(LAPTOP[0], LAPTOP[1] + 900 - pages.driver.execute_script("return window.innerHeight"))
    assert pages.driver.execute_script("return [window.innerWidth, window.innerHeight]") == list(LAPTOP)

    pages.open(f"/samples/{sample.pk}/cells/?size=compact")
    pages.wait_for_title("Cells of sample S-GRID")
    compact = inside_viewport(pages)
    pages.screenshot("review_grid_compact")
    assert compact >= 20, compact
    pages.open(f"/samples/{sample.pk}/cells/")  # the size is remembered
    assert "size-compact" in pages.find("#cell-grid").get_attribute("class")
    pages.open(f"/samples/{sample.pk}/cells/?size=standard")
    standard = inside_viewport(pages)
    pages.screenshot("review_grid_standard")
    crop = pages.find("#cell-grid .cell img.cell-crop")
    assert crop.size["width"] >= 150  # the standard size keeps the crops a reviewer judges granules on
    pages.open(f"/samples/{sample.pk}/cells/?size=large")
    assert inside_viewport(pages) <= standard < compact

    for group in pages.find_all(".cell-group"):
        shown = [
            int(cell.get_attribute("id").removeprefix("cell-"))
            for cell in group.find_elements(By.CSS_SELECTOR, ".cell")
        ]
        confidences = dict(Prediction.objects.filter(pk__in=shown).values_list("pk", "confidence"))
        assert [confidences[pk] for pk in shown] == sorted(confidences.values())

    padded = pages.find_all("#cell-grid .cell svg.crop-padding")
    assert len(padded) == 1
    area = padded[0].find_element(By.CSS_SELECTOR, "rect.image-area")
    assert (area.get_attribute("x"), area.get_attribute("width")) == ("25.0", "75.0")  # 0.2 of 0.8 is padding
    assert padded[0].find_element(By.CSS_SELECTOR, "path.padding").value_of_css_property("fill").startswith("url(")


def test_a_corrected_card_leads_with_the_reviewers_class_and_verify_waits_for_the_last_cell(
    pages, user, django_user_model
):
    reviewer = reviewer_make(django_user_model)
    sample = sample_make(user, "S-LEAD", lab=lab_make(user, reviewer))
    first = prediction_make(sample, "EOSINOPHIL", filename="first.jpeg")
    Prediction.objects.filter(pk=first.pk).update(cell_box=[0.1, 0.2, 0.7, 0.8], confidence=0.815)
    second = prediction_make(sample, "NEUTROPHIL", filename="second.jpeg")

    pages.login("rita", "s3cret-pass-rita")
    pages.open(f"/samples/{sample.pk}/cells/")
    pages.wait_for_title("Cells of sample S-LEAD")
    verify = pages.find("#verify-sample")
    assert not verify.is_enabled() and "2 of 2 cells are not reviewed yet" in pages.find("#verify-refusal").text
    cell = pages.find(f"#cell-{first.pk}")
    assert cell.get_attribute("aria-label") == "first.jpeg: Eosinophil 81.5%. Not reviewed. Model: Eosinophil 81.5%."

    cell.find_element(By.CSS_SELECTOR, "img.cell-crop").click()
    pages.wait.until(lambda driver: driver.switch_to.active_element == cell)
    cell.send_keys("f")  # the full image, with a box round the cell that was classified
    pages.wait.until(lambda driver: pages.find("#full-image-dialog").is_displayed())
    box = pages.find("#full-image-box")
    rect = box.find_element(By.TAG_NAME, "rect")
    assert [rect.get_attribute(name) for name in ("x", "y", "width", "height")] == ["10.0", "20.0", "60.0", "60.0"]
    assert box.size["width"] > 100
    pages.screenshot("review_grid_full_image_box")
    pages.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    pages.wait.until(lambda driver: driver.switch_to.active_element == cell)

    cell.send_keys("4")  # corrected to a neutrophil
    pages.wait_for_text(f"#cell-{first.pk} [data-review-state]", "✎ Corrected to Neutrophil")
    assert cell.find_element(By.CSS_SELECTOR, "[data-headline]").text == "Neutrophil reviewed"
    assert cell.find_element(By.CSS_SELECTOR, "[data-model-line]").text == "Model: Eosinophil 81.5%"
    assert cell.get_attribute("aria-label") == (
        "first.jpeg: Neutrophil reviewed. Corrected to Neutrophil. Model: Eosinophil 81.5%."
    )
    assert not verify.is_enabled()

    other = pages.find(f"#cell-{second.pk}")
    pages.wait.until(lambda driver: driver.switch_to.active_element == other)
    other.send_keys("x")
    pages.find("#exclude-reason").send_keys("Smudge cell", Keys.ENTER)
    pages.wait_for_text(f"#cell-{second.pk} [data-review-state]", "✕ Excluded: Smudge cell")
    assert other.find_element(By.CSS_SELECTOR, "[data-headline]").text == "Excluded"
    assert other.get_attribute("aria-label").startswith("second.jpeg: Excluded. Excluded: Smudge cell. Model: ")
    pages.wait.until(lambda driver: verify.is_enabled())  # the last cell is reviewed: Verify is offered, and asks
    assert pages.find("#verify-refusal").text == "Every cell is reviewed: the sample can be verified."
    assert pages.find("#verify-form").get_attribute("data-confirm").startswith("Verify sample S-LEAD?")
