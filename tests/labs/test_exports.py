"""Downloads: CSV of a sample and of the filtered history, the PDF report, and the reviewed-images dataset ZIP."""

import csv
import io
import re
import time
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from classifier.models import WaitingImage
from classifier.services.waiting import sample_images_add
from labs.models import NOTES_MAX_LENGTH, Sample
from labs.report_pdf import PRELIMINARY_BAND
from labs.selectors import sample_classification, sample_get_with_counts
from labs.services.review import prediction_review
from ml.data import list_split
from tests.factories import (
    SHA256,
    mixed_smear_make,
    pdf_image_count,
    pdf_text,
    prediction_make,
    predictions_make,
    reviewed_lab_sample_make,
    sample_make,
    sample_verified_make,
    upload_file,
)

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_sample_csv_has_every_column_and_one_row_per_cell(alice_client, user, reviewer):
    sample = sample_make(user, "S-CSV")
    prediction_make(sample, "NEUTROPHIL", filename="a.jpeg")
    prediction_make(
        sample, "MONOCYTE", needs_review=True, reviewed_label="LYMPHOCYTE", reviewer=reviewer, filename="b.jpeg"
    )
    response = alice_client.get(reverse("labs:sample_csv", args=[sample.pk]))
    assert 'attachment; filename="sample-s-csv.csv"' == response["Content-Disposition"]
    assert response.content.decode().splitlines()[0].split(",") == [
        "file_name",
        "sample",
        "predicted_label",
        "reviewed_label",
        "final_label",
        "counted",
        "probability_EOSINOPHIL",
        "probability_LYMPHOCYTE",
        "probability_MONOCYTE",
        "probability_NEUTROPHIL",
        "probability_BASOPHIL",
        "probability_IMMATURE_GRANULOCYTE",
        "probability_ERYTHROBLAST",
        "probability_PLATELET",
        "needs_review",
        "review_reasons",
        "model_version",
        "model_sha256",
        "created_at",
        "reviewed_at",
        "reviewer",
        "status",
        "exclusion_reason",
    ]
    first, second = csv_rows(response)
    assert (first["file_name"], first["predicted_label"], first["reviewed_label"], first["final_label"]) == (
        "a.jpeg",
        "NEUTROPHIL",
        "",
        "NEUTROPHIL",
    )
    assert (second["reviewed_label"], second["final_label"], second["reviewer"]) == ("LYMPHOCYTE", "LYMPHOCYTE", "rita")
    assert (second["needs_review"], second["review_reasons"]) == ("yes", "low_confidence")
    assert float(second["probability_MONOCYTE"]) == pytest.approx(0.7)
    assert sum(
        float(second[f"probability_{name}"]) for name in ("EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL")
    ) == pytest.approx(1.0)
    assert (second["model_version"], second["model_sha256"]) == ("factory-model", SHA256[:12])
    assert second["sample"] == "S-CSV" and second["created_at"] and second["reviewed_at"]
    assert first["reviewed_at"] == ""
    assert first["status"] == second["status"] == "classified"


def test_sample_csv_marks_excluded_cells_with_their_reason(alice_client, user):
    sample = sample_make(user, "S-EXCL")
    prediction_make(sample, "NEUTROPHIL", filename="kept.jpeg")
    prediction_make(sample, "NEUTROPHIL", filename="smudge.jpeg", exclusion_reason="=Smudge cell", reviewer=user)
    rows = csv_rows(alice_client.get(reverse("labs:sample_csv", args=[sample.pk])))
    assert [(row["file_name"], row["status"], row["exclusion_reason"]) for row in rows] == [
        ("kept.jpeg", "classified", ""),
        ("smudge.jpeg", "excluded", "'=Smudge cell"),
    ]


def waiting_image(sample, filename: str) -> WaitingImage:
    return WaitingImage.objects.create(
        owner=sample.owner, sample=sample, image=f"waiting/{filename}", original_filename=filename
    )


def test_sample_csv_lists_images_still_waiting_as_not_classified(alice_client, user):
    sample = sample_make(user, "S-PART")
    prediction_make(sample, "NEUTROPHIL", filename="done.jpeg")
    waiting_image(sample, "=later.jpeg")
    rows = csv_rows(alice_client.get(reverse("labs:sample_csv", args=[sample.pk])))
    assert [(row["file_name"], row["status"]) for row in rows] == [
        ("done.jpeg", "classified"),
        ("'=later.jpeg", "waiting"),
    ]
    waiting = rows[1]
    assert waiting["sample"] == "S-PART" and waiting["created_at"]
    assert waiting["predicted_label"] == waiting["final_label"] == waiting["model_version"] == ""


def test_other_samples_waiting_images_stay_out_of_the_csv(alice_client, user):
    sample, other = sample_make(user, "S-DONE"), sample_make(user, "S-BUSY")
    prediction_make(sample, filename="done.jpeg")
    waiting_image(other, "other.jpeg")
    rows = csv_rows(alice_client.get(reverse("labs:sample_csv", args=[sample.pk])))
    assert [row["status"] for row in rows] == ["classified"]


def test_the_partly_classified_flag_the_report_can_use(user):
    sample = sample_make(user, "S-FLAG")
    prediction_make(sample, filename="done.jpeg")
    pending = waiting_image(sample, "later.jpeg")
    progress = sample_classification(sample=sample_get_with_counts(user=user, pk=sample.pk))
    assert (progress.waiting, str(progress)) == (1, "1 of 2 classified")
    pending.delete()
    progress = sample_classification(sample=sample_get_with_counts(user=user, pk=sample.pk))
    assert (progress.waiting, str(progress)) == (0, "1 of 1 classified")


def test_csv_cells_never_start_a_spreadsheet_formula(alice_client, user):
    sample = sample_make(user, "=HYPERLINK()")
    prediction_make(sample, filename="=cmd.jpeg")
    row = csv_rows(alice_client.get(reverse("labs:sample_csv", args=[sample.pk])))[0]
    assert row["file_name"] == "'=cmd.jpeg" and row["sample"] == "'=HYPERLINK()"


def test_history_csv_uses_the_history_filters_and_only_own_predictions(alice_client, user, other_user):
    prediction_make(None, "NEUTROPHIL", owner=user, filename="n.jpeg")
    prediction_make(None, "MONOCYTE", owner=user, needs_review=True, filename="m.jpeg")
    prediction_make(None, "MONOCYTE", owner=other_user, filename="bobs.jpeg")
    url = reverse("classifier:history_csv")
    assert {row["file_name"] for row in csv_rows(alice_client.get(url))} == {"n.jpeg", "m.jpeg"}
    assert [row["file_name"] for row in csv_rows(alice_client.get(url, {"label": "MONOCYTE"}))] == ["m.jpeg"]
    assert [row["file_name"] for row in csv_rows(alice_client.get(url, {"needs_review": "false"}))] == ["n.jpeg"]
    today = timezone.localdate().isoformat()
    assert len(csv_rows(alice_client.get(url, {"date_from": today, "date_to": today}))) == 2


def test_history_csv_refuses_filters_it_does_not_understand(alice_client):
    response = alice_client.get(reverse("classifier:history_csv"), {"date_from": "yesterday"})
    assert response.status_code == 400 and b"check the dates" in response.content


def test_history_page_links_to_the_csv_with_the_same_filters(alice_client):
    content = alice_client.get(reverse("classifier:history"), {"label": "MONOCYTE", "page": "1"}).content.decode()
    assert f'href="{reverse("classifier:history_csv")}?label=MONOCYTE"' in content


@pytest.fixture
def lab_sample(user, reviewer, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # the lab's: the verification at 17:05 UTC reads 18:05 CET
    return reviewed_lab_sample_make(user, reviewer)


def test_pdf_of_a_partly_classified_sample_says_so(alice_client, user):
    sample = sample_make(user, "S-HALF")
    prediction_make(sample, "NEUTROPHIL", filename="done.jpeg")
    url = reverse("labs:sample_pdf", args=[sample.pk])
    assert "Partly classified" not in pdf_text(alice_client.get(url).content)
    waiting_image(sample, "later.jpeg")
    text = " ".join(pdf_text(alice_client.get(url).content).split())
    assert "Partly classified: 1 of this sample's images still waiting" in text


def test_pdf_report_states_every_field_a_lab_files(alice_client, lab_sample, settings):
    response = alice_client.get(reverse("labs:sample_pdf", args=[lab_sample.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    number = re.search(r"Report (HV-(\d{4})-(\d{6}))", text)
    assert number and int(number.group(3)) == lab_sample.pk
    assert int(number.group(2)) == timezone.localtime(lab_sample.created_at).year
    for expected in (
        "Haematology North",
        "sample S-PDF",
        "Notes: Routine smear",
        "Cells counted 10",
        "Not counted 1 excluded",
        "Reviewed 3 of 11 cells: 1 confirmed, 1 corrected, 1 excluded",
        "Neutrophil 9 90.0 40–70 HIGH",
        "Lymphocyte 1 10.0 20–40 LOW",
        "Monocyte 0 0.0 2–8 LOW",
        "Eosinophil 0 0.0 1–6 LOW",
        "Total 10 100.0",
        f"Warning: Only 10 cells counted, fewer than the {settings.HEMATOVISION_REPORT_MIN_CELLS}",
        "each cell is 10.0% of the count",
        "Verified by Rita Levi on 1 Dec 2026, 18:05 CET.",
        "Signature:",
        f"Model: factory-model, sha256 {SHA256}",
        "Results must be reviewed",
        "Cell images by class",
        "Neutrophil: 9 cells",
        "Lymphocyte: 1 cell",
        "Excluded (not counted): 1 cell",
        "Why excluded: smudge.jpeg: smudge cell",
    ):
        assert expected in text, expected
    assert "rita" not in text  # the reviewer's name, not the login
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)  # no raw ISO timestamps
    assert pdf_image_count(response.content) == 1 + 11  # the bar chart and every cell's crop


def test_the_report_number_is_the_same_on_every_print_and_differs_between_samples(alice_client, user, lab_sample):
    url = reverse("labs:sample_pdf", args=[lab_sample.pk])
    numbers = [re.search(r"Report (HV-\S+)", pdf_text(alice_client.get(url).content)).group(1) for _ in range(2)]
    other = sample_make(user, "S-OTHER")
    other_number = re.search(
        r"Report (HV-\S+)", pdf_text(alice_client.get(reverse("labs:sample_pdf", args=[other.pk])).content)
    ).group(1)
    assert numbers[0] == numbers[1] != other_number


def test_the_low_count_warning_follows_the_setting(alice_client, lab_sample, settings):
    url = reverse("labs:sample_pdf", args=[lab_sample.pk])
    settings.HEMATOVISION_REPORT_MIN_CELLS = 10  # exactly the cells counted: enough
    assert "Warning" not in pdf_text(alice_client.get(url).content)
    settings.HEMATOVISION_REPORT_MIN_CELLS = 11
    assert "Warning: Only 10 cells counted, fewer than the 11" in pdf_text(alice_client.get(url).content)


def test_a_sample_without_a_lab_is_headed_by_the_configured_lab_name(alice_client, user, settings):
    settings.HEMATOVISION_LAB_NAME = "St Elsewhere Haematology"
    sample = sample_make(user, "S-NOLAB")
    text = pdf_text(alice_client.get(reverse("labs:sample_pdf", args=[sample.pk])).content)
    assert text.startswith(f"{PRELIMINARY_BAND} St Elsewhere Haematology")
    assert "No cell has been counted" in text and "Cell images by class" not in text
    assert "LOW" not in text and "Cell type" not in text  # no table of empty classes all flagged low


def test_a_reviewer_without_a_full_name_is_named_by_login(client, reviewer):
    sample = sample_verified_make(reviewer, reviewer, "S-LOGIN")
    client.force_login(reviewer)
    assert "Verified by rita on" in pdf_text(client.get(reverse("labs:sample_pdf", args=[sample.pk])).getvalue())


def test_a_cell_whose_image_cannot_be_read_leaves_a_blank_square_and_the_report_prints(alice_client, user):
    sample = sample_make(user, "S-BROKEN")
    good, broken = predictions_make(sample, {"NEUTROPHIL": 2})
    with broken.image.open("wb") as handle:
        handle.write(b"not an image any more")
    response = alice_client.get(reverse("labs:sample_pdf", args=[sample.pk]))
    assert "no image" in pdf_text(response.content) and "Neutrophil: 2 cells" in pdf_text(response.content)
    assert pdf_image_count(response.content) == 1 + 1  # the chart and the one readable crop


def test_reviewed_images_export_in_the_layout_train_model_reads(client, reviewer, tmp_path):
    sample = sample_make(reviewer, "S-DATA")
    prediction_make(sample, "NEUTROPHIL", reviewed_label="NEUTROPHIL", reviewer=reviewer, filename="_1_10.jpeg")
    prediction_make(sample, "NEUTROPHIL", reviewed_label="MONOCYTE", reviewer=reviewer, filename="_1_10.jpeg")
    prediction_make(sample, "MONOCYTE", reviewed_label="MONOCYTE", reviewer=reviewer, filename="_1_10.jpeg")
    prediction_make(sample, "EOSINOPHIL", filename="unreviewed.jpeg")
    client.force_login(reviewer)
    response = client.get(reverse("labs:sample_dataset", args=[sample.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="sample-s-data-reviewed-dataset.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    files = sorted(name for name in archive.namelist() if not name.endswith("/"))
    assert len(files) == 3 and not any("unreviewed" in name for name in files)
    renamed = [name for name in files if name.startswith("TRAIN/MONOCYTE/_1_10-")]  # same name: id appended
    assert set(files) == {"TRAIN/MONOCYTE/_1_10.jpeg", "TRAIN/NEUTROPHIL/_1_10.jpeg", *renamed}
    assert len(renamed) == 1
    archive.extractall(tmp_path)
    samples = list_split(tmp_path, "TRAIN")  # the reader of train_model accepts it as it is
    assert sorted(item.class_name for item in samples) == ["MONOCYTE", "MONOCYTE", "NEUTROPHIL"]


def test_dataset_export_is_for_reviewers_only(alice_client, user):
    sample = sample_make(user)
    assert alice_client.get(reverse("labs:sample_dataset", args=[sample.pk])).status_code == 403


@pytest.mark.parametrize("notes", ["x" * NOTES_MAX_LENGTH, "smear " * (NOTES_MAX_LENGTH // 6)])
def test_pdf_with_the_longest_notes_renders_in_bounded_time(alice_client, user, notes):
    sample = sample_make(user, "S-LONG", notes=notes)
    started = time.perf_counter()
    response = alice_client.get(reverse("labs:sample_pdf", args=[sample.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert time.perf_counter() - started < 5


def test_pdf_cuts_notes_stored_before_the_length_limit(alice_client, user):
    sample = sample_make(user, "S-OLD")
    Sample.objects.filter(pk=sample.pk).update(notes="y" * 2_000_000)  # as a row from before the limit could be
    started = time.perf_counter()
    response = alice_client.get(reverse("labs:sample_pdf", args=[sample.pk]))
    assert time.perf_counter() - started < 5
    text = pdf_text(response.content)
    assert f"(cut at {NOTES_MAX_LENGTH}" in text and text.count("y") < 2 * NOTES_MAX_LENGTH


def sample_pdf_text(client, sample) -> str:
    return pdf_text(client.get(reverse("labs:sample_pdf", args=[sample.pk])).content)


def sample_csv_rows(client, sample) -> dict[str, dict]:
    return {row["file_name"]: row for row in csv_rows(client.get(reverse("labs:sample_csv", args=[sample.pk])))}


def test_images_not_recognised_are_not_counted_in_the_csv_and_the_pdf(alice_client, user):
    sample, _ = mixed_smear_make(user)
    rows = sample_csv_rows(alice_client, sample)
    assert [row["counted"] for row in rows.values()].count("yes") == 4
    assert [(rows[name]["counted"], rows[name]["final_label"]) for name in ("blank.png", "gradient.png")] == [
        ("no", ""),
        ("no", ""),
    ]
    text = sample_pdf_text(alice_client, sample)
    for expected in (
        "Cells counted 4",
        "Not counted 2 not recognised",
        "Monocyte 0 0.0",
        "Not recognised, not counted: 2 image(s)",
        "Not recognised (not counted): 2 cells",
    ):
        assert expected in text, expected


def test_a_class_set_by_a_reviewer_on_a_blank_frame_counts_it(alice_client, user, reviewer):
    sample, blank = mixed_smear_make(user)
    prediction_review(prediction=blank, reviewer=reviewer, label="NEUTROPHIL")
    row = sample_csv_rows(alice_client, sample)["blank.png"]
    assert (row["counted"], row["final_label"]) == ("yes", "NEUTROPHIL")
    text = sample_pdf_text(alice_client, sample)
    assert "Cells counted 5" in text and "Not counted 1 not recognised" in text


def test_a_cell_a_reviewer_marks_immature_granulocyte_is_listed_as_other_in_the_csv_and_pdf(
    alice_client, user, reviewer
):
    sample = sample_make(user, "S-IG")
    predictions_make(sample, {"NEUTROPHIL": 3})
    cell = prediction_make(sample, "MONOCYTE", filename="ig.jpeg")
    prediction_review(prediction=cell, reviewer=reviewer, label="IMMATURE_GRANULOCYTE")
    row = sample_csv_rows(alice_client, sample)["ig.jpeg"]
    assert (row["final_label"], row["counted"], row["reviewed_label"]) == (
        "IMMATURE_GRANULOCYTE",
        "no",
        row["final_label"],
    )
    text = sample_pdf_text(alice_client, sample)
    for expected in (
        "Cells counted 3",
        "Not counted 1 other cell",
        "Neutrophil 3 100.0",
        "Monocyte 0 0.0",
        "Other cells (not counted in the differential) Kind Count Immature granulocyte 1",
        "Immature granulocyte (other cell, not counted): 1 cell",
    ):
        assert expected in text, expected


def test_a_model_of_the_four_classes_only_leaves_the_other_kinds_probabilities_empty(
    alice_client, alice_sample, user, model_path
):
    sample_images_add(owner=user, sample=alice_sample, uploads=[upload_file("old.jpeg")])
    row = sample_csv_rows(alice_client, alice_sample)["old.jpeg"]
    assert row["probability_BASOPHIL"] == row["probability_PLATELET"] == ""
    assert float(row[f"probability_{row['predicted_label']}"]) > 0 and row["counted"] == "yes"
