"""The real pages in headless Chromium over real HTTP (pytest-django's live_server)."""

import pytest
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from classifier.models import LABEL_NAMES, Prediction
from ml.data import resolve_dataset_root
from tests.factories import image_bytes, prediction_make, reviewer_grant, sample_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLASS_LABELS = {"Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil"}  # a model of eight outputs adds the other kinds
TEST_CELL = ("EOSINOPHIL", "_0_5239.jpeg")
TEST_CELL_ORIGINAL = "BloodImage_00093.jpg"  # the full-size original of that cell (test_simple_to_original.csv)


def choose_files(pages, *paths):
    """Put files in the upload form's file input, as the file chooser would."""
    pages.open("/")
    pages.find("#dropzone")
    file_input = pages.driver.find_element(By.CSS_SELECTOR, "input[type=file][name=images]")
    file_input.send_keys("\n".join(str(path) for path in paths))
    pages.wait_for_text("#chosen", f"{len(paths)} file(s) chosen")


def classify(pages):
    """Click Classify: the page's script posts to the REST API and opens the results page."""
    old_page = pages.driver.find_element(By.TAG_NAME, "html")
    pages.find("#classify").click()
    pages.wait_for_new_page(old_page)


def assert_prediction_card(card, filename):
    assert filename in card.find_element(By.CSS_SELECTOR, ".file-name").text
    heading = card.find_element(By.CSS_SELECTOR, "h2").text
    rows = card.find_elements(By.CSS_SELECTOR, ".probabilities .probability")
    assert CLASS_LABELS <= {row.find_element(By.TAG_NAME, "dt").text for row in rows} <= set(LABEL_NAMES.values())
    bars = card.find_elements(By.CSS_SELECTOR, ".probability .bar")
    assert len(bars) == len(rows) and all(bar.is_displayed() for bar in bars)
    # The top bar is the predicted class and is the widest one.
    widths = [bar.size["width"] for bar in bars]
    assert widths[0] == max(widths) and widths[0] > 0
    if card.get_attribute("data-recognised") == "false":  # an image check objects: no class is headlined
        assert heading.startswith("Not recognised as a white-cell image"), heading
    else:
        top = rows[0].find_element(By.TAG_NAME, "dt").text
        assert heading.startswith(top), heading
        if top in CLASS_LABELS:
            assert card.find_element(By.CSS_SELECTOR, ".confidence").text.endswith("%")
        else:  # another kind: headlined as not counted
            assert heading.startswith(f"{top} — not counted"), heading
    preview = card.find_element(By.TAG_NAME, "img")
    assert pages_image_loaded(card.parent, preview)


def pages_image_loaded(driver, image) -> bool:
    return driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)


@pytest.mark.real_model
def test_user_classifies_real_images_finds_them_in_history_and_deletes_one(
    pages, settings, user, dataset_dir, trained_model_path
):
    settings.HEMATOVISION_MODEL_PATH = trained_model_path
    root = resolve_dataset_root(dataset_dir)
    cell = root / "TEST_SIMPLE" / TEST_CELL[0] / TEST_CELL[1]
    assert cell.is_file(), f"{cell} is missing from the dataset"
    original = root.parent.parent / "dataset-master" / "JPEGImages" / TEST_CELL_ORIGINAL
    files = [cell] + ([original] if original.is_file() else [])

    pages.open("/")
    pages.wait_for_title("Log in")  # anonymous users are sent to the login page first
    pages.screenshot("login")
    pages.login("alice", "s3cret-pass-alice")
    choose_files(pages, *files)
    pages.screenshot("upload")
    classify(pages)

    pages.wait_for_title("Results")
    cards = pages.find_all("article.prediction")
    assert len(cards) == len(files)
    for card, path in zip(cards, files, strict=True):
        assert_prediction_card(card, path.name)
    pages.screenshot("results")
    assert Prediction.objects.filter(owner=user).count() == len(files)

    pages.click_link("History")
    pages.wait_for_title("History")
    assert f"{len(files)} prediction" in pages.find("main p.meta").text
    rows = pages.find_all("table.history tbody tr")
    assert {row.find_elements(By.TAG_NAME, "td")[1].text for row in rows} == {path.name for path in files}
    pages.screenshot("history")

    pages.click_link(cell.name)
    pages.wait_for_title(cell.name)
    facts = pages.find("dl.facts").text
    assert cell.name in facts and "320×240" in facts
    outputs = len(Prediction.objects.get(original_filename=cell.name).probabilities)  # 4, or 8 with the other kinds
    assert len(pages.find_all(".probabilities .probability")) == outputs
    assert pages_image_loaded(pages.driver, pages.find(".detail img"))
    pages.screenshot("detail")

    old_page = pages.driver.find_element(By.TAG_NAME, "html")
    pages.find("button.danger").click()
    alert = pages.wait.until(EC.alert_is_present())
    assert "Delete this prediction" in alert.text
    Alert(pages.driver).accept()
    pages.wait_for_new_page(old_page)
    pages.wait_for_title("History")
    assert f"Deleted the prediction for {cell.name}." in pages.find(".messages").text
    remaining = [row.find_elements(By.TAG_NAME, "td")[1].text for row in pages.find_all("table.history tbody tr")]
    assert cell.name not in remaining
    assert remaining == [path.name for path in files[1:]]
    assert not Prediction.objects.filter(original_filename=cell.name).exists()

    pages.click_link("Model")
    pages.wait_for_title("Model")
    assert "No trained model is registered" not in pages.text()
    assert "MobileNetV2" in pages.find("main").text
    pages.screenshot("model")


def test_sign_up_log_out_log_in_and_change_password(pages, django_user_model):
    pages.open("/accounts/login/")
    pages.click_link("Sign up")
    pages.wait_for_title("Sign up")
    pages.screenshot("signup")
    pages.submit_form(
        "main form",
        {"username": "carol", "password1": "Lab-bench-2026!", "password2": "Lab-bench-2026!"},
        "Create account",
    )
    pages.wait_for_title("Classify")
    assert "Welcome to HematoVision." in pages.find(".messages").text
    assert pages.find("nav a[href='/accounts/password_change/']").text == "carol"
    assert django_user_model.objects.filter(username="carol").exists()

    pages.logout()
    assert "Sign up" in pages.find("nav").text and "carol" not in pages.find("nav").text
    pages.login("carol", "Lab-bench-2026!")

    pages.click_link("carol")
    pages.wait_for_title("Change password")
    pages.submit_form(
        "main form",
        {"old_password": "Lab-bench-2026!", "new_password1": "Smear-stain-2027?", "new_password2": "Smear-stain-2027?"},
        "Change password",
    )
    pages.wait_for_title("Password changed")
    assert "Your password was changed." in pages.find("main").text
    pages.screenshot("password_changed")

    pages.logout()
    pages.open("/accounts/login/")
    pages.submit_form("main form", {"username": "carol", "password": "Lab-bench-2026!"}, "Log in")
    assert "Log in" in pages.driver.title, "the old password still works"
    assert "Please enter a correct username and password" in pages.find("main form").text
    pages.login("carol", "Smear-stain-2027?")


def test_text_file_named_jpeg_shows_a_clear_error_and_the_page_still_works(pages, user, model_path, tmp_path):
    fake = tmp_path / "notes.jpeg"
    fake.write_text("These are lab notes, not a picture.\n")
    good = tmp_path / "cell.png"
    good.write_bytes(image_bytes("PNG"))

    pages.login("alice", "s3cret-pass-alice")
    choose_files(pages, fake)
    pages.find("#classify").click()  # the API refuses the only file: the reason shows on the same page
    error = pages.find("#upload-failures .message.error").text
    assert "notes.jpeg" in error and "is not an image" in error
    assert pages.driver.title.startswith("Classify")
    pages.screenshot("upload_error")
    assert not Prediction.objects.exists()

    # The same page still classifies a good file.
    file_input = pages.driver.find_element(By.CSS_SELECTOR, "input[type=file][name=images]")
    file_input.send_keys(str(good))
    pages.wait_for_text("#chosen", "1 file(s) chosen")
    classify(pages)
    pages.wait_for_title("Results")
    cards = pages.find_all("article.prediction")
    assert len(cards) == 1
    assert_prediction_card(cards[0], "cell.png")
    assert not pages.find_all(".message.error")

    # A good file and a bad one: the reason is listed, and a link opens the good file's result.
    choose_files(pages, good, fake)
    pages.find("#classify").click()
    assert "notes.jpeg" in pages.find("#upload-failures .message.error").text
    pages.find("#results-link").click()
    pages.wait_for_title("Results")
    assert [card.find_element(By.CSS_SELECTOR, ".file-name").text for card in pages.find_all("article.prediction")] == [
        "cell.png"
    ]


def test_staff_see_every_prediction_in_the_admin(pages, alice_prediction, django_user_model):
    django_user_model.objects.create_user(
        username="staffer", password="Staff-pass-2026!", is_staff=True, is_superuser=True
    )
    pages.login("staffer", "Staff-pass-2026!")
    pages.click_link("Admin")
    pages.wait_for_title("Site administration")
    pages.open("/admin/classifier/prediction/")
    pages.wait_for_title("Select prediction to change")
    row = pages.find("#result_list tbody tr")
    text = row.text
    for expected in (
        "alice-cell.jpeg",
        alice_prediction.get_predicted_label_display(),
        "alice",
        "tiny-test-model",
        f"{alice_prediction.confidence:.1%}",
    ):
        assert expected in text
    assert pages_image_loaded(pages.driver, row.find_element(By.TAG_NAME, "img"))
    pages.screenshot("admin_predictions")


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_every_page_passes_the_content_security_policy(pages, user, django_user_model, alice_prediction):
    """Chromium reports each script, style or image the policy blocks as a console error: there must be none."""
    sample = sample_make(user, "S-CSP")
    prediction_make(sample, "MONOCYTE")
    reviewer_grant(user)
    pages.login("alice", "s3cret-pass-alice")
    for path in (
        "/",
        "/history/",
        "/samples/",
        f"/samples/{sample.pk}/",
        f"/samples/{sample.pk}/cells/",
        f"/predictions/{alice_prediction.pk}/",
        "/model/",
        "/accounts/password_change/",
        "/api/docs/",
        "/no-such-page/",
    ):
        pages.open(path)
        assert console_errors(pages.driver) in (
            [],
            [
                f"{pages.base_url}/no-such-page/ - Failed to load resource: "
                "the server responded with a status of 404 (Not Found)"
            ],
        ), path
    pages.open("/api/docs/")
    pages.find("#swagger-ui .information-container")  # Swagger UI started from its script file
    pages.open("/")
    pages.logout()
    django_user_model.objects.create_user(
        username="staffer", password="Staff-pass-2026!", is_staff=True, is_superuser=True
    )
    pages.login("staffer", "Staff-pass-2026!")
    for path in (
        "/admin/",
        "/admin/classifier/prediction/",
        f"/admin/classifier/prediction/{alice_prediction.pk}/change/",
        "/admin/labs/sample/",
        f"/admin/labs/sample/{sample.pk}/change/",
        "/admin/labs/lab/",
        "/admin/labs/sampleevent/",
    ):
        pages.open(path)
        errors = console_errors(pages.driver)
        assert errors == [], (path, errors)


def test_a_prediction_is_deleted_only_after_the_confirmation(pages, alice_prediction):
    pages.login("alice", "s3cret-pass-alice")
    pages.open(f"/predictions/{alice_prediction.pk}/")
    pages.find("form[data-confirm] button").click()
    Alert(pages.driver).dismiss()
    assert Prediction.objects.filter(pk=alice_prediction.pk).exists()
    old_page = pages.driver.find_element(By.TAG_NAME, "html")
    pages.find("form[data-confirm] button").click()
    Alert(pages.driver).accept()
    pages.wait_for_new_page(old_page)
    pages.wait_for_title("History")
    assert not Prediction.objects.filter(pk=alice_prediction.pk).exists()
