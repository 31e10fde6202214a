"""Report revisions in headless Chromium: a senior reviewer withdraws a signed report in the page's two steps (the
reason, then the confirmation), another reviewer signs it again, and the sample page lists both revisions: the
second marked amended, the first downloaded from its link byte for byte as it was signed."""

import base64
import hashlib

import pytest
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By

from labs.services.sign_off import sample_verify
from tests.factories import lab_make, pdf_text, prediction_make, reviewer_make, sample_make, senior_reviewer_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fetched(pages, url: str) -> bytes:
    """A download fetched with the page's session, as its link would."""
    encoded = pages.driver.execute_async_script(
        """
        const done = arguments[1];
        fetch(arguments[0], {credentials: "same-origin"}).then(response => response.arrayBuffer()).then(buffer => {
          let binary = "";
          new Uint8Array(buffer).forEach(byte => { binary += String.fromCharCode(byte); });
          done(btoa(binary));
        });""",
        url,
    )
    return base64.b64decode(encoded)


def test_a_withdrawn_report_signed_again_is_amended_and_the_first_downloads_as_signed(pages, user, django_user_model):
    rita = reviewer_make(django_user_model, "rita")
    rita.first_name, rita.last_name = "Rita", "Levi"
    rita.save()
    vera = senior_reviewer_make(django_user_model, "vera", "Vera", "Voss")
    rob = reviewer_make(django_user_model, "rob")
    sample = sample_make(user, "S-E2E-AMEND", lab=lab_make(user, rita, vera, rob))
    for index in range(3):
        prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=rita, filename=f"cell-{index}.jpeg")
    sample_verify(sample=sample, reviewer=rita)
    first_sha256 = sample.events.get(kind="verified").report_sha256

    pages.login("vera", "s3cret-pass-vera")
    pages.open(f"/samples/{sample.pk}/")
    pages.submit_form("#unverify-form", {"reason": "Wrong smear scanned"}, "Un-verify sample…")
    pages.wait_for_title("Un-verify sample S-E2E-AMEND?")
    sample.refresh_from_db()
    assert sample.is_verified  # nothing happens before the confirmation
    pages.screenshot("unverify_confirm")
    pages.submit_form("#unverify-confirm-form", {}, "Withdraw the report and un-verify")
    pages.wait_for_text(".messages", "is open again")
    pages.screenshot("sample_withdrawn")

    pages.logout()
    pages.login("rob", "s3cret-pass-rob")
    pages.open(f"/samples/{sample.pk}/")
    old_page = pages.driver.find_element(By.TAG_NAME, "html")
    pages.find("#verify-sample").click()
    Alert(pages.driver).accept()
    pages.wait_for_new_page(old_page)
    pages.wait_for_text(".sample-status", "Verified")
    assert pages.find("#report-amended").text == "Amended"
    pages.screenshot("sample_amended")

    links = {
        row.get_attribute("id"): row.find_element(By.TAG_NAME, "a")
        for row in pages.find_all("#report-revisions tbody tr")
    }
    assert set(links) == {"revision-1", "revision-2"}
    first = fetched(pages, links["revision-1"].get_attribute("href"))
    assert hashlib.sha256(first).hexdigest() == first_sha256
    amended = pdf_text(fetched(pages, pages.find("#sample-pdf").get_attribute("href")))
    assert "Amended" in amended and "signed by Rita Levi" in amended and "Reason: Wrong smear scanned" in amended
    assert "withdrawn (un-verified) by Vera Voss" in amended and "Verified by rob on" in amended
