"""No serious or critical axe-core violation on any page, public or console, in either language.

axe-core (tests/vendor/axe-core, from the npm registry) runs in Debian's Chromium on
every public page of the demo week and on every console page that the URL
configuration has (the same walk as the scoping test), in English and in Chinese.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, sync_playwright

from awards.models import Certificate
from events.models import Event, Registration
from tests.console_walk import build_world, console_routes, fill_route
from tests.test_browser import CHROMIUM_ARGS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _violations(page: Page) -> list[str]:
    page.evaluate(AXE)
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")
                    + " (" + (n.failureSummary || "").split("\\n").slice(1, 2).join("") + ")"
                ).join("; "));
        }"""
    )
    return list(results)


def _public_paths() -> list[str]:
    event = Event.objects.published().first()
    assert event is not None
    registration = Registration.objects.filter(session__event=event).first()
    certificate = Certificate.objects.first()
    paths = [
        "/",
        event.get_absolute_url(),
        f"/events/{event.slug}/register/",
        "/honour-roll/",
        "/accounts/login/",
        "/no-such-page/",
    ]
    if registration is not None:
        paths += [
            f"{registration.get_absolute_url()}?token={registration.token}",
            f"/r/{registration.code}/confirmed/?token={registration.token}",
        ]
    if certificate is not None:
        paths.append(f"/verify/{certificate.number}/")
    return paths


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_no_serious_axe_violation(
    live_server, transactional_db, chromium_path, locale
) -> None:
    call_command("seed_demo", verbosity=0)
    world = build_world("a")
    world.organiser.set_password("console-pw-1")
    world.organiser.save()
    public = _public_paths()
    console = [fill_route(route, world) for route in console_routes()]

    failures: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale=locale, bypass_csp=True)
            page = context.new_page()
            page.set_default_timeout(20_000)
            for path in public:
                page.goto(live_server.url + path)
                if found := _violations(page):
                    failures[path] = found
            page.goto(live_server.url + "/accounts/login/")
            page.locator("#id_username").fill(world.organiser.email)
            page.locator("#id_password").fill("console-pw-1")
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
            for path in console:
                probe = context.request.get(live_server.url + path)
                status = probe.status
                if status == 405 or (  # a door for POST only, or a download
                    status < 400 and "text/html" not in probe.headers["content-type"]
                ):
                    continue
                if status >= 400:
                    failures[path] = [f"HTTP {status}"]
                    continue
                page.goto(live_server.url + path)
                if found := _violations(page):
                    failures[path] = found
        finally:
            browser.close()
    assert not failures, "\n".join(f"{p}: {v}" for p, v in failures.items())
