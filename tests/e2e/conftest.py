"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, fully offline.

Set HEMATOVISION_SCREENSHOTS=<folder> to save a screenshot of each main page while the tests run
(for looking at the layout by hand; the tests never assert on them).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.environment import skip_or_fail

CHROMIUM = os.environ.get("HEMATOVISION_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HEMATOVISION_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT_SECONDS = 30  # generous: the first classification loads the model in the live server


def _binaries_or_skip():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if not missing:
        return
    skip_or_fail(
        f"Chromium for the browser tests is missing ({', '.join(missing)}): apt-get install chromium "
        "chromium-driver, or set HEMATOVISION_CHROMIUM and HEMATOVISION_CHROMEDRIVER to their paths."
    )


@pytest.fixture(scope="session")
def _chromium_profile_root():
    root = Path(tempfile.mkdtemp(prefix="hematovision-chromium-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def browser(_chromium_profile_root):
    """A fresh headless Chromium (own profile, no network beyond the live server), quit at teardown."""
    _binaries_or_skip()
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: with both paths given Selenium Manager is never called
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="profile-", dir=_chromium_profile_root)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors, CSP violations among them
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def wait(browser):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_SECONDS)


class Pages:
    """Small helpers over the real pages: every step waits for what the user would see."""

    def __init__(self, driver, wait, base_url):
        self.driver, self.wait, self.base_url = driver, wait, base_url

    def open(self, path: str):
        self.driver.get(self.base_url + path)
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def find(self, selector: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC

        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def find_all(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def click_link(self, text: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC

        self.wait.until(EC.element_to_be_clickable((By.LINK_TEXT, text))).click()

    def wait_for_text(self, selector: str, text: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC

        self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))

    def wait_for_title(self, fragment: str):
        from selenium.webdriver.support import expected_conditions as EC

        self.wait.until(EC.title_contains(fragment))

    def submit_form(self, form_selector: str, fields: dict[str, str], button_text: str):
        """Fill the named inputs of a form and click its button (as a user would)."""
        from selenium.webdriver.common.by import By

        form = self.find(form_selector)
        for name, value in fields.items():
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        form.find_element(By.XPATH, f".//button[normalize-space()='{button_text}']").click()
        self.wait_for_new_page(old_page)

    def wait_for_new_page(self, old_page):
        self.wait.until(lambda driver: _is_detached(old_page))
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def login(self, username: str, password: str):
        """Log in through the real login form; returns once the upload page is shown."""
        self.open("/accounts/login/")
        self.submit_form("main form", {"username": username, "password": password}, "Log in")
        self.wait_for_title("Classify")

    def logout(self):
        from selenium.webdriver.common.by import By

        old_page = self.driver.find_element(By.TAG_NAME, "html")
        self.find("nav button.link").click()
        self.wait_for_new_page(old_page)
        self.wait_for_title("Log in")

    def text(self) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text

    def screenshot(self, name: str):
        folder = os.environ.get("HEMATOVISION_SCREENSHOTS")
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        # Grow the window to the page height so the whole page is in the picture.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        size = self.driver.get_window_size()
        self.driver.set_window_size(size["width"], max(size["height"], min(height + 150, 4000)))
        self.driver.save_screenshot(str(Path(folder) / f"{name}.png"))
        self.driver.set_window_size(size["width"], size["height"])


@pytest.fixture
def pages(browser, wait, live_server):
    return Pages(browser, wait, live_server.url)


@pytest.fixture
def login(pages):
    """``login(username, password)``: log in through the real login form."""
    return pages.login


def _is_detached(element) -> bool:
    """Whether the page holding ``element`` has been replaced.

    Selenium's ``staleness_of`` only knows the stale-element error; mid-navigation Chromium can answer
    "Node with given id does not belong to the document" instead, which means the same thing.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in (error.msg or ""):
            return True
        raise
    return False
