"""The browser tests run offline: Debian's chromedriver is named explicitly, so Selenium Manager (which would
reach the internet for a driver) is never asked; without a driver they skip with what to install, in CI they fail."""

import pytest
from selenium.webdriver.common.selenium_manager import SeleniumManager

from tests.e2e import conftest


@pytest.fixture
def no_selenium_manager(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Selenium Manager was asked for a driver")

    monkeypatch.setattr(SeleniumManager, "binary_paths", refuse)


def test_the_browser_starts_without_selenium_manager(no_selenium_manager, browser):
    browser.get("about:blank")
    assert browser.capabilities["browserName"] in {"chrome", "chromium"}


def test_a_missing_driver_skips_with_what_to_install(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(conftest, "CHROMEDRIVER", "/nonexistent/chromedriver")
    with pytest.raises(pytest.skip.Exception, match="/nonexistent/chromedriver.*HEMATOVISION_CHROMEDRIVER"):
        conftest._binaries_or_skip()


def test_a_missing_driver_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(conftest, "CHROMEDRIVER", "/nonexistent/chromedriver")
    with pytest.raises(pytest.fail.Exception, match="In CI, Chromium for the browser tests is missing"):
        conftest._binaries_or_skip()
