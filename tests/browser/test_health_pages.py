"""A co-chair's health page in the browser: `/partner dashboard` gives a signed link, the page shows trends with
their table views and hides what chat hides, and an expired or altered link is refused."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from bot.links import DashboardAccess, link_secret, make_token
from tests.browser.conftest import BROWSER_TESTS, Bot, OpenPage, screenshot
from tests.browser.test_workspace import run_command
from tests.district_history import two_months

pytestmark = BROWSER_TESTS


async def test_a_co_chair_opens_the_health_page_through_a_signed_link(
    bot: Bot, open_page: OpenPage, tmp_path: Path
) -> None:
    url = await bot.start()
    bot.app.runtime.public_url = url
    await two_months(bot.app, bot.clock)
    page = await open_page(1100, 900)
    await page.goto(url + "/as/maria/c/district-partnership")
    await run_command(page, "/partner dashboard")
    link = page.get_by_role("link", name="Open the District Partnership Team health page")
    await expect(link).to_be_visible()
    await link.click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("District Partnership Team: team health")
    trust = page.get_by_role("img", name=re.compile(r"^Trust in our partnership \(1 to 5\)"))
    await expect(trust).to_be_visible()
    # The second pulse had three answers, under the team's minimum of five: a gap in the trend, never a number.
    await expect(page.get_by_text("1 of 4 runs had fewer than 5 responses: they are gaps, not zeros.")).to_be_visible()
    table = page.get_by_role("table", name="Trust in our partnership (1 to 5)")
    await page.get_by_text("Table view: Trust in our partnership (1 to 5)").click()
    await expect(table.get_by_role("row", name=re.compile("2026-12-10"))).to_contain_text("not shown")
    responses = page.get_by_role("table", name="Responses per pulse")
    await expect(responses.get_by_role("row", name=re.compile("2026-12-10"))).to_contain_text("fewer than 5")
    await expect(page.get_by_role("img", name=re.compile("Mean rating per norm"))).to_be_visible()
    await expect(page.get_by_role("table", name=re.compile("Roles held by each party"))).to_be_visible()
    overdue = page.get_by_role("table", name="Overdue")
    await expect(overdue).to_contain_text("Joint calendar for professional learning days")
    await screenshot(page, "health", tmp_path, full_page=True)

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download CSV").click()
    csv = Path(await (await download.value).path()).read_text()
    assert csv.startswith("team,topic,section,figure,row,column,value,note\n")
    assert "district,deliverables,Committee deliverables,Overdue,Joint calendar" in csv


async def test_an_expired_or_altered_link_is_refused(bot: Bot, open_page: OpenPage) -> None:
    url = await bot.start()
    secret = link_secret(bot.app.runtime)
    expired = make_token(secret, DashboardAccess("district", "maria", bot.clock.now() - timedelta(minutes=1)))
    page = await open_page()
    response = await page.goto(f"{url}/dashboard/{expired}")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("alert")).to_contain_text("This health page link has expired")
    await expect(page.get_by_text("District Partnership Team: team health")).to_have_count(0)

    valid = make_token(secret, DashboardAccess("district", "maria", bot.clock.now() + timedelta(hours=1)))
    altered = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
    response = await page.goto(f"{url}/dashboard/{altered}")
    assert response is not None and response.status == 404
    assert (await page.request.get(f"{url}/dashboard/{valid}/health.csv")).status == 200
    assert (await page.request.get(f"{url}/dashboard/{expired}/health.csv")).status == 403
