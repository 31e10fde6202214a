"""Preliminary means preliminary: every page of an unverified sample's PDF carries the "PRELIMINARY — NOT VERIFIED"
band and none a signature block; the signed report keeps its signature block and carries no band."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from labs.report_pdf import PRELIMINARY_BAND
from labs.services.sign_off import sample_verify
from tests.factories import prediction_make, sample_make

pytestmark = pytest.mark.django_db
CELLS = 100  # a full manual differential: its crops take a second page


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text as a reader sees it (pypdf), white space folded."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def smear(reviewer):
    """A reviewed 100-cell smear, ready to verify."""
    sample = sample_make(reviewer, "S-BAND")
    for index in range(CELLS):
        prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=reviewer, filename=f"cell-{index}.jpeg")
    return sample


def report_pages(client, reviewer, sample) -> list[str]:
    client.force_login(reviewer)
    return page_texts(client.get(reverse("labs:sample_pdf", args=[sample.pk])).getvalue())


def test_every_page_of_a_preliminary_report_carries_the_band_and_none_a_signature_block(client, reviewer, smear):
    pages = report_pages(client, reviewer, smear)
    assert len(pages) >= 2
    assert [page.count(PRELIMINARY_BAND) >= 1 for page in pages] == [True] * len(pages)
    assert not any("Signature:" in page or "Date:" in page for page in pages)
    assert "Revision preliminary, not signed" in pages[0] and "Verified by" not in " ".join(pages)


def test_the_signed_report_keeps_its_signature_block_and_carries_no_band(client, reviewer, smear):
    sample_verify(sample=smear, reviewer=reviewer)
    pages = report_pages(client, reviewer, smear)
    assert len(pages) >= 2
    assert not any("PRELIMINARY" in page for page in pages)
    text = " ".join(pages)
    assert "Verified by rita on" in text and "Signature: Date:" in text
