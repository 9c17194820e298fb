"""After ``seed_demo``, in Chromium (issue 17):

- every demo person signs in through the form and finds their work list filled with the demo's story
  (and, with ``HG_SCREENSHOTS_DIR`` set, each start page is saved there in Dutch and English: that is
  how ``docs/screenshots/`` is made);
- axe-core (``tests/peers/axe``, from npm) finds no serious or critical violation on any page that any
  demo person can open, in either language; the page list is proved complete against the URL conf by
  ``tests/test_page_list.py``, so a page added later fails until it is listed here.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, expect

from people.management.commands.seed_demo import CREDENTIALS_FILE_NAME, read_demo_credentials
from tests.browser.second_factor import answer_second_factor
from tests.page_list import PAGES, page_url

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}

# What each demo person's start page must show: list id → a text one of its items holds.
EXPECTED_WORK = {
    "lead.devries": {
        "access-requests": "engineer.visser",
        "grants-ending": "investigator.bakker",
        "retention-notices": "Mail server export",
        "privileged-marks": "Operation Heron",
        "hashtotal-differences": "Laptop image",
    },
    "deputy.jansen": {"access-requests": "engineer.visser", "privileged-marks": "Operation Heron"},
    "investigator.bakker": {"my-grants": "Operation Heron", "my-requests": "Operation Plover"},
    "engineer.visser": {"my-requests": "Operation Kestrel"},
    "operator.smit": {"removals": "Phone extraction, suspect C", "without-hashtotals": "NFI-DEMO"},
    "privacy.meijer": {
        "alerts": "engineer.visser",
        "chain": "",
        "siem": "SIEM",
        "screenings-ending": "Daan Visser",
    },
    "security.mulder": {"alerts": "engineer.visser", "chain": "", "screenings-ending": "Daan Visser"},
    "admin.bos": {"unscreened": "Joost Dekker", "credentials-ending": "ci-release"},
}


@dataclass
class Demo:
    url: str
    passwords: dict[str, str]


@pytest.fixture
def demo(transactional_db: None, live_server: Any, settings: Any, tmp_path: Path) -> Demo:
    settings.LANGUAGE_CODE = "nl"
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    rows = read_demo_credentials(tmp_path / CREDENTIALS_FILE_NAME)
    return Demo(url=live_server.url, passwords={username: password for username, _, password in rows})


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    # A browser whose own locale is neither language: what the pages show comes from the person's choice.
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


def sign_in(page: Page, demo: Demo, username: str, *, on_step: Callable[[Page], None] | None = None) -> None:
    page.goto(f"{demo.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(demo.passwords[username])
    page.locator("form button[type=submit]").last.click()
    # The administrator, privacy officer and security manager enrol a second factor first.
    answer_second_factor(page, username, on_step=on_step)
    expect(page).to_have_url(f"{demo.url}/")


def choose_language(page: Page, language: str) -> None:
    page.locator(f"form.language button[value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"][:5]],
        }
        for violation in result["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def test_every_demo_person_finds_their_work_list_filled_with_the_story(context: BrowserContext, demo: Demo):
    assert set(demo.passwords) == set(EXPECTED_WORK)
    screenshots = os.environ.get("HG_SCREENSHOTS_DIR")
    for username, expected in EXPECTED_WORK.items():
        context.clear_cookies()
        page = context.new_page()
        sign_in(page, demo, username)
        for language in ("nl", "en"):
            choose_language(page, language)
            for key, text in expected.items():
                items = page.locator(f"#worklist-{key} .work-item")
                expect(items.first).to_be_visible()
                if text:
                    expect(page.locator(f"#worklist-{key}")).to_contain_text(text)
            if screenshots:
                page.screenshot(
                    path=str(Path(screenshots) / f"start-{username}-{language}.png"), full_page=True
                )
        page.close()


def test_no_page_of_any_demo_person_has_a_serious_or_critical_violation(context: BrowserContext, demo: Demo):
    """Every page in both languages, as the first demo person who may open it (the same template for
    the next one), and every person's own start page (each role's work lists differ); the error
    pages once per language. On a loaded two-core machine an axe run takes seconds: checking every
    page for all eight people would multiply the time without checking another template."""
    assert AXE.exists(), "run `make install` (npm ci in tests/peers/axe)"
    found: list[dict[str, Any]] = []
    checked: set[tuple[str, str]] = set()

    def check_sign_in_step(page: Page) -> None:
        """The second factor's pages as the person passes them: the enrolment and the code page in
        both languages; the recovery codes, shown once as the enrolment's answer, in the language of
        the moment (switching language would ask for the page again)."""
        codes_shown = page.locator("#recovery-codes-continue").count() > 0
        step = "recovery-codes" if codes_shown else page.url.removeprefix(demo.url)
        current = page.locator("html").get_attribute("lang") or ""
        for language in [current] if codes_shown else ["nl", "en"]:
            if (step, language) in sign_in_steps:
                continue
            if language != current:
                choose_language(page, language)
            sign_in_steps.add((step, language))
            found.extend({"url": step, "language": language, **v} for v in axe_violations(page))

    sign_in_steps: set[tuple[str, str]] = set()
    for username in demo.passwords:
        context.clear_cookies()
        page = context.new_page()
        sign_in(page, demo, username, on_step=check_sign_in_step)
        for language in ("nl", "en"):
            page.goto(f"{demo.url}/")
            choose_language(page, language)
            for violation in axe_violations(page):
                found.append({"person": username, "language": language, "url": "/", **violation})
            checked.add(("home", language))
            for name in PAGES:
                if (name, language) in checked:
                    continue
                url = page_url(name)
                # The status first, without rendering: most pages are not every person's.
                status = context.request.get(f"{demo.url}{url}", max_redirects=0).status
                if status == 405:
                    continue  # a POST-only route (then it belongs in NOT_PAGES: see "unopened")
                if status == 302:
                    continue  # not this person's (the admin sends people who are not staff to its sign-in)
                if status in (403, 404):
                    if (f"error-{status}", language) in checked:
                        continue  # the error page itself is checked once per language
                    checked.add((f"error-{status}", language))
                elif status != 200:
                    found.append({"person": username, "language": language, "url": url, "status": status})
                    continue
                else:
                    checked.add((name, language))
                page.goto(f"{demo.url}{url}")
                for violation in axe_violations(page):
                    found.append({"person": username, "language": language, "url": url, **violation})
        page.close()
    # An enrolled person signs in again: the code page, and their second-factor page once enrolled.
    context.clear_cookies()
    page = context.new_page()
    sign_in(page, demo, "admin.bos", on_step=check_sign_in_step)
    for language in ("nl", "en"):
        page.goto(f"{demo.url}/accounts/second-factor/")
        choose_language(page, language)
        expect(page.locator("#second-factor-secret")).to_have_count(0)  # the enrolled person's view
        found += [
            {"url": "second-factor (enrolled)", "language": language, **v} for v in axe_violations(page)
        ]
    assert {step for step, _ in sign_in_steps} == {
        "/accounts/login/enrol/",
        "recovery-codes",
        "/accounts/login/code/",
    }
    steps_in_both = {
        (step, language)
        for step in ("/accounts/login/enrol/", "/accounts/login/code/")
        for language in ("nl", "en")
    }
    assert steps_in_both <= sign_in_steps, sign_in_steps
    page.close()
    # The sign-in page, seen signed out.
    context.clear_cookies()
    page = context.new_page()
    page.goto(f"{demo.url}/accounts/login/")
    found += [{"url": "/accounts/login/", **violation} for violation in axe_violations(page)]
    assert not found, json.dumps(found, indent=1)[:6000]
    # Every listed page was opened by someone, in both languages.
    unopened = sorted(name for name in PAGES for language in ("nl", "en") if (name, language) not in checked)
    assert not unopened, unopened


def test_the_axe_check_finds_a_real_violation(context: BrowserContext, demo: Demo):
    """The check can fail: a page with an unlabelled field and an image without text is caught."""
    page = context.new_page()
    page.goto(f"{demo.url}/accounts/login/")
    page.evaluate(
        "() => { const i = document.createElement('input'); document.querySelector('main').append(i);"
        " const img = document.createElement('img'); img.src = '/static/none.png';"
        " document.querySelector('main').append(img); }"
    )
    rules = {violation["rule"] for violation in axe_violations(page)}
    assert {"label", "image-alt"} <= rules, rules


# --- the keyboard alone -------------------------------------------------------------------------------


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus: it is reachable without a mouse, in tab order."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def keyboard_sign_in(page: Page, demo: Demo, username: str) -> None:
    page.goto(f"{demo.url}/accounts/login/")
    tab_to(page, "#id_username")
    page.keyboard.type(username)
    tab_to(page, "#id_password")
    page.keyboard.type(demo.passwords[username])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{demo.url}/")


def test_the_main_forms_work_with_the_keyboard_alone(context: BrowserContext, demo: Demo):
    from authz.models import AccessRequest, Grant, RequestStatus
    from retention.models import NoticeStatus, RetentionNotice

    # The engineer asks for access to Plover.
    page = context.new_page()
    keyboard_sign_in(page, demo, "engineer.visser")
    page.goto(f"{demo.url}/my-access/request/")
    tab_to(page, "#id_case_number")
    page.keyboard.type("NFI-DEMO-0003")
    tab_to(page, "input[name=rights][value=read]")
    page.keyboard.press("Space")
    tab_to(page, "#id_valid_until")
    page.keyboard.type((datetime.date.today() + datetime.timedelta(days=20)).strftime("%d-%m-%Y"))
    tab_to(page, "#id_reason")
    page.keyboard.type("Parser test on the USB drives")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("NFI-DEMO-0003")
    asked = AccessRequest.objects.get(case__case_number="NFI-DEMO-0003", status=RequestStatus.OPEN)
    assert asked.rights == ["read"]
    page.close()

    # The case lead grants access and answers a retention notice, keyboard only.
    context.clear_cookies()
    page = context.new_page()
    keyboard_sign_in(page, demo, "lead.devries")
    heron = page_url("case-access").replace("/access/", "/access/grant/")
    page.goto(f"{demo.url}{heron}")
    tab_to(page, "#id_grantee")
    page.keyboard.type("engineer.visser")
    tab_to(page, "input[name=rights][value=search]")
    page.keyboard.press("Space")
    tab_to(page, "#id_valid_until")
    page.keyboard.type((datetime.date.today() + datetime.timedelta(days=10)).strftime("%d-%m-%Y"))
    tab_to(page, "#id_reason")
    page.keyboard.type("Parser fault, second round")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/access/#grant-\d+$"))
    granted = Grant.objects.filter(
        grantee__username="engineer.visser", reason="Parser fault, second round"
    ).get()
    assert granted.rights == ["search"]

    notice = RetentionNotice.objects.get(status=NoticeStatus.OPEN, case__case_number="NFI-DEMO-0002")
    page.goto(f"{demo.url}/retention/notices/{notice.pk}/")
    tab_to(page, "#id_keep-reason")
    page.keyboard.type("Still needed for the appeal")
    tab_to(page, "#id_keep-keep_until")
    page.keyboard.type((datetime.date.today() + datetime.timedelta(days=60)).strftime("%d-%m-%Y"))
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("Still needed for the appeal")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.KEPT
