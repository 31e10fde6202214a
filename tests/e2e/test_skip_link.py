"""Keyboard users skip the navigation: the first Tab on every page reaches "Skip to content", shown on screen, and
Enter moves the focus to the page's main content."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.factories import sample_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_tab_offers_to_skip_to_the_content(pages, user):
    sample_make(user, "S-SKIP")
    pages.login("alice", "s3cret-pass-alice")
    for path in ("/samples/", "/history/"):
        pages.open(path)
        pages.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        link = pages.driver.switch_to.active_element
        assert (link.text, link.get_attribute("class")) == ("Skip to content", "skip-link")
        box = pages.driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", link)
        assert box["top"] >= 0 and box["height"] > 0  # on screen while focused
        link.send_keys(Keys.ENTER)
        pages.wait.until(lambda driver: driver.switch_to.active_element.get_attribute("id") == "main")
