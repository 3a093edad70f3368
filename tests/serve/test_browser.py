"""The chat page in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven
by Selenium with the system binaries; nothing is downloaded): ask, see the highlighted answer and
its source, ask a follow-up, give feedback. ``ODQA_SCREENSHOT=path.png`` saves a screenshot."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_support import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (apt install)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_ask_follow_up_and_feedback_in_a_real_browser(server: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120)
    browser.get(server.url + "/")
    wait.until(lambda d: "ready" in d.find_element(By.ID, "status").text)
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#pipeline option")]
    assert options == ["qa", "bm25"]

    def ask(question: str) -> Any:
        box = browser.find_element(By.ID, "question")
        box.clear()
        box.send_keys(question)
        browser.find_element(By.ID, "ask").click()
        turns = browser.find_elements(By.CSS_SELECTOR, "article.turn")
        turn = turns[-1]
        wait.until(lambda _: turn.find_elements(By.CSS_SELECTOR, ".timings, .error"))
        assert not turn.find_elements(By.CSS_SELECTOR, ".error"), turn.text
        return turn

    first = ask("Where did Tesla move in 1884?")
    answer = first.find_element(By.CSS_SELECTOR, ".answer.primary")
    mark = answer.find_element(By.CSS_SELECTOR, ".passage mark")
    assert mark.text and mark.text == answer.find_element(By.CSS_SELECTOR, ".answer-text").text
    assert "source:" in answer.find_element(By.CSS_SELECTOR, ".source").text
    assert "reader" in first.find_element(By.CSS_SELECTOR, ".timings").text

    follow = ask("When did he die?")
    interpreted = follow.find_element(By.CSS_SELECTOR, ".interpreted").text
    assert interpreted.startswith("interpreted as: When did ") and "he die" not in interpreted

    follow.find_element(By.CSS_SELECTOR, ".answer.primary .vote-up").click()
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "article.turn:last-of-type .thanks"), "saved")
    )
    votes = [json.loads(line) for line in server.feedback.read_text(encoding="utf-8").splitlines()]
    assert votes[-1]["vote"] == "up" and votes[-1]["question"] == interpreted.removeprefix("interpreted as: ")

    shot = os.environ.get("ODQA_SCREENSHOT")
    if shot:
        Path(shot).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(shot)
