"""The job pages in a real browser (Debian's headless Chromium through Selenium and
chromedriver) against the local stack: the list, a running job's page following it to the end,
retry and cancel, failures grouped by cause.

`GEOCATALOG_INGEST_SCREENSHOT=docs/job-page.png` also writes the running job's screenshot there
(the one in the README).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.e2e.conftest import (
    E2E,
    ITEMS_ROUTE,
    JOB_TIMEOUT,
    MAX_DEQUEUE_COUNT,
    naip_items,
)
from tests.integration.operator.conftest import FUNCTION_KEY

SCREENSHOT_ENV = "GEOCATALOG_INGEST_SCREENSHOT"


def _executable(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"none of {names} is installed: `make browser` installs them")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = _executable("chromium", "chromium-browser")
    for argument in (
        "--headless=new",
        # Root in a container (CI) has no user namespace sandbox.
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
    ):
        options.add_argument(argument)
    # An explicit chromedriver: Selenium never tries to download a browser or a driver.
    driver = webdriver.Chrome(service=Service(_executable("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(browser: WebDriver, what: str, predicate: Callable[[WebDriver], Any]) -> Any:
    # The pages redraw their tables on every poll: an element read mid-redraw is read again.
    return WebDriverWait(
        browser,
        JOB_TIMEOUT,
        poll_frequency=0.1,
        ignored_exceptions=(StaleElementReferenceException,),
    ).until(predicate, what)


def table_rows(browser: WebDriver, selector: str) -> list[dict[str, Any]]:
    """Each row's data attributes and cell texts, read in one go (no stale elements)."""
    rows: list[dict[str, Any]] = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(r => ({"
        "data: {...r.dataset}, cells: [...r.cells].map(c => c.textContent)}));",
        selector,
    )
    return rows


def text(browser: WebDriver, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def open_page(op: E2E, browser: WebDriver, path: str) -> None:
    browser.get(f"{op.api}/ui{path}?code={FUNCTION_KEY}")


def state_is(state: str) -> Callable[[WebDriver], bool]:
    return lambda b: text(b, "state") == state


def private_item() -> dict[str, Any]:
    [item] = naip_items(1)
    item["id"] = "private-asset-item"
    item["assets"] = {
        "image": {
            "href": "https://someoneelse.blob.core.windows.net/private/x.tif",
            "type": "image/tiff; application=geotiff",
            "roles": ["data"],
        }
    }
    return item


def test_the_pages_need_the_function_key(op: E2E) -> None:
    assert httpx.get(f"{op.api}/ui/jobs", timeout=30).status_code == 401
    page = op.http.get(f"{op.api}/ui/jobs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # Nothing may be loaded from anywhere else.
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http" not in page.text.split("<body", 1)[1].split("</footer>", 1)[0]
    unknown = op.http.get(f"{op.api}/ui/jobs/{'0' * 32}")
    assert unknown.status_code == 404


def test_the_list_shows_the_jobs_and_leads_to_each(
    op: E2E, browser: WebDriver, collection_id: str
) -> None:
    op.create_collection(collection_id)
    good = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(2)}}
    )
    bad_item = {**naip_items(1)[0], "id": "not a valid id"}
    bad = op.submit({"collection": collection_id, "source": {"type": "items", "items": [bad_item]}})
    op.wait_for_job(good)
    op.wait_for_job(bad)

    open_page(op, browser, "/jobs")
    # The key left the address bar as soon as the page read it.
    assert "code=" not in browser.current_url
    field = browser.find_element(By.ID, "filter-collection")
    field.send_keys(collection_id)
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()

    def rows(b: WebDriver) -> list[tuple[str, str]]:
        found = table_rows(b, "#jobs-body tr")
        return [(r["data"]["jobId"], r["data"]["state"]) for r in found]

    wait(browser, "both jobs listed", lambda b: rows(b) == [(bad, "failed"), (good, "succeeded")])

    wait(browser, "the job's link", lambda b: b.find_element(By.LINK_TEXT, good).click() or True)
    wait(browser, "the job's page", state_is("succeeded"))
    assert browser.current_url.endswith(f"/api/ui/jobs/{good}")
    assert text(browser, "count-succeeded") == "2"


def test_a_running_job_page_follows_it_to_the_end(
    op: E2E, browser: WebDriver, collection_id: str, tmp_path: Path
) -> None:
    op.create_collection(collection_id)
    # Slow operations over three plan pages: the page sees the job running for a while.
    op.geocatalog.configure(operation_duration_seconds=(2.0, 5.0))
    items = [*naip_items(12), private_item()]
    items[11]["id"] = "not a valid id"
    job_id = op.submit({"collection": collection_id, "source": {"type": "items", "items": items}})

    open_page(op, browser, f"/jobs/{job_id}")
    progress = browser.find_element(By.ID, "progress")

    def running_midway(b: WebDriver) -> bool:
        done = int(progress.get_attribute("aria-valuenow") or 0)
        return (
            text(b, "state") == "running" and 0 < done < 13 and "of 13" in text(b, "progress-text")
        )

    wait(browser, "the job running, some items finished", running_midway)
    shot = tmp_path / "job-page.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, os.environ[SCREENSHOT_ENV])

    wait(browser, "the job ended", state_is("partially_succeeded"))
    assert (
        progress.get_attribute("aria-valuenow") == progress.get_attribute("aria-valuemax") == "13"
    )
    assert text(browser, "count-succeeded") == "11"
    assert text(browser, "count-pending") == "0"
    codes = wait(
        browser,
        "two causes",
        lambda b: [r["data"]["code"] for r in table_rows(b, "#error-groups-body tr")] or None,
    )
    assert sorted(codes) == ["IngestionResourceForbidden", "InvalidItemId"]
    containers = text(browser, "containers")
    assert "https://someoneelse.blob.core.windows.net/private" in containers
    assert '"type": "items"' in text(browser, "source")
    assert op.job(job_id)["state"] == "partially_succeeded"


def test_a_failed_job_shows_its_causes_grouped(
    op: E2E, browser: WebDriver, collection_id: str
) -> None:
    op.create_collection(collection_id)
    items = naip_items(4)
    for n, item in enumerate(items):
        item["id"] = f"bad id {n}"
    job_id = op.submit({"collection": collection_id, "source": {"type": "items", "items": items}})
    op.wait_for_job(job_id)

    open_page(op, browser, f"/jobs/{job_id}")
    wait(browser, "failed", state_is("failed"))
    [row] = wait(browser, "the cause", lambda b: table_rows(b, "#error-groups-body tr"))
    cells = row["cells"]
    assert cells[:3] == ["InvalidItemId", "4", "invalid 4"]
    assert cells[4] == "bad id 0, bad id 1, bad id 2, bad id 3"
    # Invalid items are not redriven: nothing for the retry button to do.
    assert not browser.find_element(By.ID, "retry").is_enabled()


def test_retry_from_the_page_redrives_a_dead_lettered_item(
    op: E2E, browser: WebDriver, collection_id: str
) -> None:
    op.create_collection(collection_id)
    op.geocatalog.fault(status=503, count=MAX_DEQUEUE_COUNT, method="POST", route=ITEMS_ROUTE)
    job_id = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(1)}}
    )
    op.wait_for_job(job_id)

    open_page(op, browser, f"/jobs/{job_id}")
    wait(browser, "failed", state_is("failed"))
    wait(
        browser,
        "the dead letter",
        lambda b: (
            [r["data"]["code"] for r in table_rows(b, "#error-groups-body tr")] == ["DeadLettered"]
        ),
    )
    browser.find_element(By.ID, "retry").click()
    wait(browser, "the retry's answer", lambda b: "Retry: 1 items re-posted" in text(b, "message"))
    wait(browser, "succeeded after the retry", state_is("succeeded"))
    wait(
        browser,
        "no causes left",
        lambda b: b.find_element(By.ID, "error-groups").get_attribute("hidden"),
    )
    assert op.wait_for_job(job_id)["counts"]["succeeded"] == 1


def test_cancel_from_the_page(op: E2E, browser: WebDriver, collection_id: str) -> None:
    op.create_collection(collection_id)
    op.geocatalog.configure(operation_duration_seconds=(20.0, 30.0))
    job_id = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(10)}}
    )
    open_page(op, browser, f"/jobs/{job_id}")
    wait(
        browser,
        "items posted",
        lambda b: text(b, "state") == "running" and int(text(b, "count-submitted")) >= 2,
    )
    browser.find_element(By.ID, "cancel").click()
    wait(browser, "the cancel's answer", lambda b: "Cancel requested" in text(b, "message"))
    wait(browser, "canceled", state_is("canceled"))
    assert not browser.find_element(By.ID, "cancel").is_enabled()
    assert op.wait_for_job(job_id)["state"] == "canceled"
