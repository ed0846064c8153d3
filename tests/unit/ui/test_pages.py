"""The job pages' HTML: self-contained (nothing fetched from anywhere), safe to inline."""

from __future__ import annotations

import re
from pathlib import Path

from shared.ui.pages import CONTENT_SECURITY_POLICY, job_page, jobs_page

UI = Path(__file__).resolve().parents[3] / "shared" / "ui"


def test_the_pages_reference_nothing_outside_the_app() -> None:
    for page in (jobs_page(), job_page("0" * 32)):
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
        assert "@import" not in page
        assert "{{" not in page
    for asset in UI.iterdir():
        if asset.suffix in (".js", ".css", ".html"):
            assert not re.search(r"https?://", asset.read_text()), asset.name


def test_the_script_can_be_inlined() -> None:
    # An inline script ends at the first "</"; the page keeps its script whole.
    assert "</" not in (UI / "page.js").read_text()
    page = job_page("0" * 32)
    assert page.count("<script>") == page.count("</script>") == 1


def test_the_policy_allows_only_the_page_itself_and_its_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert "http" not in CONTENT_SECURITY_POLICY


def test_the_job_id_is_in_the_page() -> None:
    page = job_page("0123456789abcdef0123456789abcdef")
    assert 'data-job-id="0123456789abcdef0123456789abcdef"' in page
    assert 'data-page="job"' in page
    assert 'data-page="jobs"' in jobs_page()
