"""The second step of password sign-in in the browser, as a person does it: on the enrolment page
read the key shown as text (as one types it into an authenticator app), answer with the app's code
(``django_otp.oath.totp`` with that key), and go on past the recovery codes; on the code page answer
with the code the app shows now. No setting turns the check off."""

from __future__ import annotations

from base64 import b32decode
from collections.abc import Callable

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from people import second_factor
from tests.second_factor_helpers import code_now, fresh_code

ENROL_PATH = "/accounts/login/enrol/"
CODE_PATH = "/accounts/login/code/"


def answer_second_factor(page: Page, username: str, *, on_step: Callable[[Page], None] | None = None) -> None:
    """Call right after sending the password form: for a person who is asked for a second factor
    (their roles require one, or they enrolled), enrols or answers with the code; for anyone else
    it does nothing. ``on_step`` is called on each page of the step (e.g. to check its accessibility)."""
    if not second_factor.asked_of(User.objects.get(username=username)):
        return
    page.wait_for_url(lambda url: ENROL_PATH in url or CODE_PATH in url)
    if ENROL_PATH in page.url:
        if on_step:
            on_step(page)
        secret = page.locator("#second-factor-secret").inner_text()
        page.locator("#id_code").fill(code_now(b32decode(secret.replace(" ", "")).hex()))
        page.locator("main form button[type=submit]").click()
        expect(page.locator("#recovery-codes-continue")).to_be_visible()
        if on_step:
            on_step(page)
        page.locator("#recovery-codes-continue").click()
    else:
        if on_step:
            on_step(page)
        page.locator("#id_code").fill(fresh_code(User.objects.get(username=username)))
        page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: ENROL_PATH not in url and CODE_PATH not in url)
