"""The chat page answering the demo questions in a real headless Chromium, saved as a screenshot.

    python benchmarks/serve_screenshot.py [--out benchmarks/results/serve_chat.png]

Starts ``odqa serve`` on a free loopback port over the current settings' index and models (what
``bash scripts/demo.sh`` built), asks the four demo questions and a follow-up ("When did he die?"
after "Where was Tesla born?") through the page, prints each answer, and saves a screenshot. Needs
Debian's ``chromium`` and ``chromium-driver``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from _common import RESULTS, write_results
from serve_load import server

QUESTIONS = (
    "Which NFL team represented the AFC at Super Bowl 50?",
    "What is the largest city in Poland?",
    "Where was Tesla born?",
    "When did he die?",
    "What is the atomic number of oxygen?",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=RESULTS / "serve_chat.png")
    args = ap.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,2400"):
        options.add_argument(arg)
    turns = []
    with server(1, 4, RESULTS.parent / "work" / "serve_screenshot.log") as url:
        driver = webdriver.Chrome(service=Service(str(shutil.which("chromedriver"))), options=options)
        try:
            wait = WebDriverWait(driver, 300)
            driver.get(url + "/")
            wait.until(lambda d: "ready" in d.find_element(By.ID, "status").text)
            for question in QUESTIONS:
                box = driver.find_element(By.ID, "question")
                box.clear()
                box.send_keys(question)
                driver.find_element(By.ID, "ask").click()
                turn: Any = driver.find_elements(By.CSS_SELECTOR, "article.turn")[-1]

                def done(_: Any, t: Any = turn) -> bool:
                    return bool(t.find_elements(By.CSS_SELECTOR, ".timings, .error"))

                wait.until(done)

                def first_text(selector: str, t: Any = turn) -> str | None:
                    found = t.find_elements(By.CSS_SELECTOR, selector)
                    return str(found[0].text) if found else None

                row = {
                    "question": question,
                    "interpreted_as": first_text(".interpreted"),
                    "answer": first_text(".answer.primary .answer-text"),
                    "source": first_text(".answer.primary .source"),
                }
                turns.append(row)
                print(json.dumps(row, ensure_ascii=False))
            driver.execute_script("window.scrollTo(0, 0)")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            body = driver.find_element(By.TAG_NAME, "body")
            driver.set_window_size(1100, max(900, body.size["height"] + 40))
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
    write_results("serve_screenshot", {"turns": turns, "screenshot": str(args.out)})
    print(f"screenshot: {args.out}")


if __name__ == "__main__":
    main()
