"""The sample page's uploader declares its whole selection: cut off after its first request (the classifier went
away), the page says "Upload interrupted: 2 of 6 received"; choosing the same six files again stores the four
missing, names the two already there, and the warning goes."""

import pytest

from classifier import model_gateway
from tests.factories import image_bytes, sample_make, smear_rgb

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHUNK_FILES = 2  # the uploader's request size, set smaller so six files take three requests


def choose_and_upload(pages, paths) -> None:
    pages.driver.execute_script(f"document.getElementById('sample-upload').dataset.chunkFiles = '{CHUNK_FILES}'")
    pages.find("#sample-upload input[type=file]").send_keys("\n".join(str(path) for path in paths))
    pages.find("#upload-button").click()


def test_an_interrupted_upload_is_shown_and_sending_it_again_completes_it(
    pages, user, model_path, tmp_path, monkeypatch
):
    sample = sample_make(user, "S-RESEND")
    cells = []
    for index in range(6):
        cells.append(tmp_path / f"cell-{index}.jpeg")
        cells[-1].write_bytes(image_bytes("JPEG", rgb=smear_rgb(seed=index)))
    classify, calls = model_gateway.classify, []

    def gone_after_the_first_request(images, lab_model=None):
        calls.append(len(images))
        if len(calls) > 1:
            raise model_gateway.ModelUnavailable("the model is being replaced")
        return classify(images, lab_model)

    monkeypatch.setattr(model_gateway, "classify", gone_after_the_first_request)
    pages.login("alice", "s3cret-pass-alice")
    pages.open(f"/samples/{sample.pk}/")
    choose_and_upload(pages, cells)
    pages.wait_for_text("#upload-status", "Done: 2 image(s) classified, 4 not classified")
    pages.wait_for_text("#upload-state", "Upload interrupted: 2 of 6 received")

    monkeypatch.setattr(model_gateway, "classify", classify)
    choose_and_upload(pages, cells)
    pages.wait_for_text("#upload-status", "Done: 4 image(s) classified, 2 already in this sample.")
    already = [item.text for item in pages.find_all("#upload-failures li.info")]
    assert already == ["cell-0.jpeg: already in this sample.", "cell-1.jpeg: already in this sample."]
    pages.wait_for_text("#reviewed-summary", "reviewed 0 of 6")
    assert not pages.find_all("#upload-state")
    assert sample.predictions.count() == 6 and calls == [2, 2]  # the third request of the first upload never went
