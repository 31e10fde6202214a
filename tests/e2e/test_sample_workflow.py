"""The lab workflow in headless Chromium: a sample, a batch of real cell images, the differential, a keyboard
review and the CSV download, all through the real pages over real HTTP."""

import csv
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from classifier.apps import REVIEWERS_GROUP
from classifier.models import Prediction, Sample
from ml import CLASS_NAMES
from ml.data import resolve_dataset_root

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
    """What the differential must count: each cell once, by its reviewed label where there is one."""
    labels = [prediction.final_label for prediction in Prediction.objects.filter(sample=sample)]
    return {name: labels.count(name) for name in CLASS_NAMES}


def table_counts(pages) -> dict[str, int]:
    rows = pages.find_all("#differential tbody tr")
    return {row.get_attribute("data-class"): int(row.find_element(By.CSS_SELECTOR, ".count").text) for row in rows}


def test_lab_user_uploads_a_sample_reviews_a_cell_and_downloads_the_csv(
        pages, login, user, settings, dataset_dir, trained_model_path, tmp_path):
    settings.HEMATOVISION_MODEL_PATH = trained_model_path
    user.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    cells = real_cells(dataset_dir)

    login("alice", "s3cret-pass-alice")
    pages.click_link("Samples")
    pages.wait_for_title("Samples")
    pages.submit_form("#new-sample", {"identifier": "S-E2E-1", "notes": "Browser test smear"}, "Create sample")
    pages.wait_for_title("Sample S-E2E-1")
    sample = Sample.objects.get(owner=user, identifier="S-E2E-1")

    # Upload the batch through the JS uploader, in several chunks, and watch the progress bar fill.
    pages.driver.execute_script(f"document.getElementById('sample-upload').dataset.chunkFiles = '{CHUNK_FILES}'")
    pages.find("#sample-upload input[type=file]").send_keys("\n".join(str(path) for path in cells))
    pages.find("#upload-button").click()
    pages.wait_for_text("#upload-status", f"Done: {len(cells)} image(s) classified.")
    progress = pages.find("#upload-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(len(cells))
    assert not pages.find_all("#upload-failures li")
    pages.wait_for_text("#differential-total", str(len(cells)))  # the differential was refreshed in place
    assert Prediction.objects.filter(sample=sample).count() == len(cells)

    # The differential: one row per class, counting each cell's label, shares adding up to 100.
    assert table_counts(pages) == final_label_counts(sample)
    percents = [float(cell.text) for cell in pages.find_all("#differential tbody .percent")]
    assert sum(percents) == pytest.approx(100.0)
    assert pages.find("#differential svg.differential-chart").is_displayed()
    pages.screenshot("sample_differential")

    # Review the first cell (an eosinophil) with the keyboard; the grid updates in place.
    pages.find("#review-link").click()
    pages.wait_for_title("Cells of sample S-E2E-1")
    grid = pages.find_all("#cell-grid .cell")
    assert len(grid) == len(cells)
    first, second = grid[0], grid[1]
    first.find_element(By.TAG_NAME, "img").click()
    assert pages.driver.switch_to.active_element == first
    first.send_keys("e")
    pages.wait.until(lambda driver: first.find_element(By.CSS_SELECTOR, "[data-reviewed-label]").text == "✓ Eosinophil")
    assert pages.driver.switch_to.active_element == second  # focus moved on to the next cell
    second.send_keys(Keys.ARROW_LEFT)
    assert pages.driver.switch_to.active_element == first
    reviewed = Prediction.objects.get(sample=sample, original_filename=cells[0].name)
    assert (reviewed.reviewed_label, reviewed.reviewed_by) == ("EOSINOPHIL", user)
    pages.screenshot("sample_review")

    # Back on the sample page the differential counts the reviewed label.
    pages.click_link("S-E2E-1")
    pages.wait_for_title("Sample S-E2E-1")
    assert table_counts(pages) == final_label_counts(sample)

    # Download the CSV as a user would: Chromium saves it into a folder we watch.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    pages.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow",
                                                                 "downloadPath": str(downloads)})
    pages.find("#sample-csv").click()
    with downloaded_file(downloads, ".csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["file_name"] for row in rows) == sorted(path.name for path in cells)
    first_row = next(row for row in rows if row["file_name"] == cells[0].name)
    assert (first_row["reviewed_label"], first_row["final_label"], first_row["reviewer"]) == (
        "EOSINOPHIL", "EOSINOPHIL", "alice")
    assert all(row["model_sha256"] and row["predicted_label"] in CLASS_NAMES for row in rows)
