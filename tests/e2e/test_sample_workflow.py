"""The lab workflow in headless Chromium: a technologist's lab sample, a batch of real cell images, the
differential, a lab reviewer's keyboard review of every cell (a correction, an exclusion), the verification, the
CSV and PDF downloads, and another lab's reviewer finding nothing, all through the real pages over real HTTP."""

import base64
import csv
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from classifier.models import LABEL_NAMES, Prediction
from labs.apps import REVIEWERS_GROUP
from labs.models import Sample
from labs.views.review import REVIEW_KEYS
from ml import CLASS_NAMES, MODEL_CLASSES
from ml.data import resolve_dataset_root
from tests.factories import lab_make, pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILES_PER_CLASS = 2
CHUNK_FILES = 3  # smaller than the batch, so the uploader really sends several requests
DOWNLOAD_SECONDS = 30


def real_cells(dataset_dir) -> list[Path]:
    """Two TEST_SIMPLE images of each class, eosinophils first."""
    root = resolve_dataset_root(dataset_dir) / "TEST_SIMPLE"
    cells = [path for name in CLASS_NAMES for path in sorted((root / name).glob("*.jpeg"))[:FILES_PER_CLASS]]
    assert len(cells) == FILES_PER_CLASS * len(CLASS_NAMES), f"TEST_SIMPLE under {root} is incomplete"
    return cells


def downloaded_file(folder: Path, suffix: str) -> Path:
    """Wait until Chromium has finished writing a download ending in ``suffix``."""
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    while time.monotonic() < deadline:
        done = [path for path in folder.glob(f"*{suffix}") if path.stat().st_size]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file was downloaded into {folder}")


def final_label_counts(sample) -> dict[str, int]:
    """What the differential must count: each counted cell once (``Prediction.counting``), by its final label."""
    labels = [prediction.final_label for prediction in Prediction.objects.filter(sample=sample) if prediction.counted]
    return {name: labels.count(name) for name in CLASS_NAMES}


def table_counts(pages) -> dict[str, int]:
    rows = pages.find_all("#differential table:not(.other-cells) tbody tr")
    return {row.get_attribute("data-class"): int(row.find_element(By.CSS_SELECTOR, ".count").text) for row in rows}


def key_for(name: str) -> str:
    """The grid's first key for a label (1-4 for the four classes, a letter for each other kind)."""
    return REVIEW_KEYS[name][0]


def group_label(group) -> str:
    """The label code of a grid group, from its heading ("Predicted Immature granulocyte 2 cells")."""
    heading = group.find_element(By.TAG_NAME, "h2").text.removeprefix("Predicted ").rsplit(" ", 2)[0]
    return {label: name for name, label in LABEL_NAMES.items()}[heading]


def test_a_technologist_uploads_a_lab_sample_and_a_lab_reviewer_handles_every_cell_and_verifies(
    pages, login, user, django_user_model, settings, dataset_dir, trained_model_path, tmp_path
):
    settings.HEMATOVISION_MODEL_PATH = trained_model_path
    reviewer = django_user_model.objects.create_user("rita", password="s3cret-pass-rita")
    reviewer.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    lab = lab_make(user, reviewer)
    outsider = django_user_model.objects.create_user("otto", password="s3cret-pass-otto")
    outsider.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    lab_make(outsider, name="Elsewhere", slug="elsewhere")
    cells = real_cells(dataset_dir)

    # The technologist (not a reviewer) creates the sample in her lab and uploads the batch.
    login("alice", "s3cret-pass-alice")
    pages.click_link("Samples")
    pages.wait_for_title("Samples")
    pages.submit_form("#new-sample", {"identifier": "S-E2E-1", "notes": "Browser test smear"}, "Create sample")
    pages.wait_for_title("Sample S-E2E-1")
    sample = Sample.objects.get(owner=user, identifier="S-E2E-1")
    assert sample.lab == lab  # her only lab is offered first

    # Upload the batch through the JS uploader, in several chunks, and watch the progress bar fill.
    pages.driver.execute_script(f"document.getElementById('sample-upload').dataset.chunkFiles = '{CHUNK_FILES}'")
    pages.find("#sample-upload input[type=file]").send_keys("\n".join(str(path) for path in cells))
    pages.find("#upload-button").click()
    pages.wait_for_text("#upload-status", f"Done: {len(cells)} image(s) classified.")
    progress = pages.find("#upload-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(len(cells))
    assert not pages.find_all("#upload-failures li")
    assert Prediction.objects.filter(sample=sample).count() == len(cells)
    counted = sum(final_label_counts(sample).values())
    pages.wait_for_text("#differential-total", str(counted))  # the differential was refreshed in place
    assert table_counts(pages) == final_label_counts(sample)
    percents = [float(cell.text) for cell in pages.find_all("#differential tbody .percent")]
    assert sum(percents) == pytest.approx(100.0)
    assert pages.find("#differential svg.differential-chart").is_displayed()
    assert not pages.find_all("#verify-sample")  # a technologist does not sign off
    pages.screenshot("sample_differential")
    pages.open("/")
    pages.logout()

    # The lab's reviewer goes through every cell with the keyboard: one correction, one exclusion, the rest
    # confirmed; the grid shows each cell as a crop of at least 150 px, grouped by predicted class.
    login("rita", "s3cret-pass-rita")
    pages.open(f"/samples/{sample.pk}/cells/")
    pages.wait_for_title("Cells of sample S-E2E-1")
    grid = pages.find_all("#cell-grid .cell")
    assert len(grid) == len(cells)
    for group in pages.find_all(".cell-group"):  # one group per predicted label, in the label table's order
        name = group_label(group)
        assert {cell.get_attribute("data-predicted") for cell in group.find_elements(By.CSS_SELECTOR, ".cell")} == {
            name
        }
    shown = [group_label(group) for group in pages.find_all(".cell-group")]
    assert shown == [name for name in MODEL_CLASSES if name in shown]
    crop = grid[0].find_element(By.CSS_SELECTOR, "img.cell-crop")
    pages.wait.until(
        lambda driver: driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", crop)
    )
    assert crop.size["width"] >= 150 and pages.driver.execute_script("return arguments[0].naturalWidth", crop) >= 150

    crop.click()
    assert pages.driver.switch_to.active_element == grid[0]
    grid[0].send_keys("f")  # the full image, one key away
    pages.wait.until(lambda driver: pages.find("#full-image-dialog").is_displayed())
    pages.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    pages.wait.until(lambda driver: driver.switch_to.active_element == grid[0])

    corrected_cell, excluded_cell = grid[0], grid[1]
    corrected_pk = int(corrected_cell.get_attribute("id").removeprefix("cell-"))
    for cell in grid:
        pages.wait.until(lambda driver, cell=cell: driver.switch_to.active_element == cell)
        predicted = cell.get_attribute("data-predicted")
        if cell == corrected_cell:
            cell.send_keys(key_for(next(name for name in CLASS_NAMES if name != predicted)))
        elif cell == excluded_cell:
            cell.send_keys("x")
            reason = pages.find("#exclude-reason")
            reason.send_keys("Smudge cell", Keys.ENTER)
        else:
            cell.send_keys(key_for(predicted))
        pages.wait.until(lambda driver, cell=cell: cell.find_element(By.CSS_SELECTOR, "[data-review-state]").text)
    pages.wait_for_text("#review-progress", f"Reviewed {len(cells)} of {len(cells)}")
    assert "✎ Corrected to" in corrected_cell.text and "corrected" in corrected_cell.get_attribute("class")
    assert "✕ Excluded: Smudge cell" in excluded_cell.text
    assert "✓ Confirmed" in grid[2].text and "confirmed" in grid[2].get_attribute("class")
    assert Prediction.objects.filter(sample=sample, excluded=True).count() == 1
    assert Prediction.objects.filter(sample=sample, reviewed_by=reviewer).count() == len(cells)  # exclusions too
    pages.screenshot("sample_review")

    # Verify: asked once, then signed off through the API; the sample page shows it frozen.
    pages.find("#verify-sample").click()
    Alert(pages.driver).accept()
    pages.wait_for_title("Sample S-E2E-1")
    pages.wait_for_text(".sample-status", "Verified")
    sample.refresh_from_db()
    assert sample.verified_by == reviewer
    assert table_counts(pages) == final_label_counts(sample)
    others = sum(prediction.other_kind for prediction in Prediction.objects.filter(sample=sample, excluded=False))
    assert sum(table_counts(pages).values()) == len(cells) - 1 - others  # the excluded cell is not counted
    trail = pages.find("#audit-trail").text
    assert "Corrected" in trail and "Excluded" in trail and "Smudge cell" in trail and "Verified" in trail

    # Download the CSV as a user would: Chromium saves it into a folder we watch.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    pages.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    pages.find("#sample-csv").click()
    with downloaded_file(downloads, ".csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["file_name"] for row in rows) == sorted(path.name for path in cells)
    corrected = Prediction.objects.get(sample=sample, pk=corrected_pk)
    row = next(row for row in rows if row["file_name"] == corrected.original_filename)
    assert (row["reviewed_label"], row["final_label"], row["reviewer"]) == (
        corrected.reviewed_label,
        corrected.reviewed_label,
        "rita",
    )
    assert corrected.reviewed_label != corrected.predicted_label
    assert all(row["model_sha256"] and row["predicted_label"] in MODEL_CLASSES for row in rows)

    # The PDF report, fetched with the reviewer's session from the page's link, states the sign-off.
    encoded = pages.driver.execute_async_script(
        """
        const done = arguments[1];
        fetch(arguments[0], {credentials: "same-origin"}).then(response => response.arrayBuffer()).then(buffer => {
          let binary = "";
          new Uint8Array(buffer).forEach(byte => { binary += String.fromCharCode(byte); });
          done(btoa(binary));
        });""",
        pages.find("#sample-pdf").get_attribute("href"),
    )
    report = pdf_text(base64.b64decode(encoded))
    confirmed = len(cells) - 2
    for expected in (
        "sample S-E2E-1",
        "Haematology North",
        f"Cells counted {len(cells) - 1 - others}",
        f"Reviewed {len(cells)} of {len(cells)} cells: {confirmed} confirmed, 1 corrected, 1 excluded",
        "Verified by rita on",
        "Excluded (not counted): 1 cell",
        "Smudge cell",
    ):
        assert expected in report, expected

    # A reviewer of another lab finds none of it.
    pages.open("/")
    pages.logout()
    login("otto", "s3cret-pass-otto")
    for path in (
        f"/samples/{sample.pk}/",
        f"/samples/{sample.pk}/cells/",
        f"/predictions/{corrected.pk}/cell.jpg",
        f"/samples/{sample.pk}/sample.csv",
        f"/samples/{sample.pk}/report.pdf",
        f"/api/samples/{sample.pk}/",
    ):
        status = pages.driver.execute_async_script(
            "const done = arguments[1]; fetch(arguments[0], {credentials: 'same-origin'}).then(r => done(r.status));",
            pages.base_url + path,
        )
        assert status == 404, path
