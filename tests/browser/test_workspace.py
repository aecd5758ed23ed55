"""A newcomer in the web workspace on a Saturday night: switch member, open a pulse, see the invitations held for
working hours and deliver them now, answer as five members through the form, close, and see the chart arrive."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from bot.messages import Message
from tests.browser.conftest import BROWSER_TESTS, Bot, OpenPage, screenshot

pytestmark = BROWSER_TESTS

ANSWERS = {
    "maria": "Agree",
    "david": "Strongly agree",
    "angela": "Agree",
    "robert": "Neither agree nor disagree",
    "linda": "Agree",
}


async def act_as(page: Page, member: str) -> None:
    """The "acting as" switcher, as a person uses it."""
    await page.get_by_label("Acting as").select_option(member)
    await page.get_by_role("button", name="Switch").click()
    await expect(page.locator("#sidebar h2").first).not_to_have_text("")


async def run_command(page: Page, text: str) -> None:
    box = page.get_by_label(re.compile("Type a command"))
    await box.fill(text)
    await box.press("Enter")


async def answer_pulse(page: Page, choice: str) -> None:
    await page.get_by_role("link", name=re.compile("Direct messages")).click()
    invitation = page.locator(".post").filter(has_text="a short anonymous pulse").last
    await invitation.get_by_role("button", name="Answer").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    for fieldset in await dialog.locator("fieldset").all():
        if await fieldset.get_by_label(choice, exact=True).count():
            await fieldset.get_by_label(choice, exact=True).check()
    await dialog.get_by_role("button", name="Send anonymously").click()
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(page.locator(".post").filter(has_text="your answers are in").last).to_be_visible()


async def test_a_newcomer_runs_a_pulse_to_its_chart(bot: Bot, open_page: OpenPage, tmp_path: Path) -> None:
    url = await bot.start()
    page = await open_page()
    await page.goto(url + "/as/helen/")
    await act_as(page, "maria")
    await expect(page.get_by_role("heading", level=1)).to_have_text("#district-partnership")

    await run_command(page, "/partner pulse start")
    await expect(page.locator(".post.private").filter(has_text="Opened Trust in our partnership")).to_be_visible()
    # Saturday night: the ten invitations wait for Monday morning, and the workspace says so.
    await expect(page.locator("#clock")).to_contain_text("10 messages held for later")
    await page.get_by_role("link", name=re.compile("Direct messages")).click()
    held = page.locator(".post.held").filter(has_text="a short anonymous pulse")
    await expect(held.locator(".post-meta")).to_have_text("Held until Mon Nov 30, 7:30 AM")
    await expect(held.get_by_role("button", name="Answer")).to_be_disabled()
    await page.get_by_role("button", name="Deliver held now").click()
    await expect(page.get_by_role("status")).to_contain_text("Delivered 10 held messages")

    for member, choice in ANSWERS.items():
        await act_as(page, member)
        await answer_pulse(page, choice)

    await act_as(page, "maria")
    await page.get_by_role("link", name="#district-partnership").click()
    await run_command(page, "/partner pulse close")
    # Still Saturday night: the results post waits for the team's next school day too (docs/config.md).
    await page.get_by_role("button", name="Deliver held now").click()
    results = page.locator(".post").filter(has_text="Trust in our partnership: results")
    await expect(results).to_be_visible()
    chart = results.get_by_role("img", name=re.compile("Trend of Trust in our partnership"))
    await expect(chart).to_be_visible()
    assert await chart.evaluate("img => img.complete && img.naturalWidth > 300")
    await screenshot(page, "workspace", tmp_path, full_page=False)


async def test_a_button_on_the_home_view_opens_its_form(bot: Bot, open_page: OpenPage) -> None:
    url = await bot.start()
    page = await open_page()
    await page.goto(url + "/as/maria/c/district-partnership")
    await run_command(page, "/partner pulse start")
    await page.get_by_role("link", name="Home").click()
    home = page.locator("#posts")
    await expect(home).to_contain_text("Trust in our partnership is open until")
    await home.get_by_role("button", name="Answer").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Send anonymously").click()  # nothing chosen: the browser asks first
    await expect(dialog).to_be_visible()
    for fieldset in await dialog.locator("fieldset").all():
        await fieldset.get_by_label("Agree", exact=True).check()
    await dialog.get_by_role("button", name="Send anonymously").click()
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(home).to_contain_text("you have answered")
    await expect(home.locator(".post.private")).to_contain_text("your answers are in")


async def test_a_restart_keeps_the_posts_and_their_buttons(bot: Bot, open_page: OpenPage) -> None:
    url = await bot.start()
    page = await open_page()
    await page.goto(url + "/as/maria/c/district-partnership")
    await run_command(page, "/partner pulse start")
    await page.get_by_role("button", name="Deliver held now").click()
    await page.goto(url + "/as/david/dm")
    before = await page.locator(".post-list > li").all_inner_texts()
    assert any("a short anonymous pulse" in text for text in before)

    await bot.stop()
    url = await bot.start()
    await page.goto(url + "/as/david/dm")
    assert await page.locator(".post-list > li").all_inner_texts() == before
    await page.locator(".post").filter(has_text="a short anonymous pulse").get_by_role("button", name="Answer").click()
    dialog = page.get_by_role("dialog")
    for fieldset in await dialog.locator("fieldset").all():
        await fieldset.get_by_label("Disagree", exact=True).check()
    await dialog.get_by_role("button", name="Send anonymously").click()
    await expect(page.locator(".post").filter(has_text="your answers are in").first).to_be_visible()
    numbers = [int(n.strip("#")) for n in await page.locator(".post-number").all_inner_texts()]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # new posts continue the numbering


async def test_the_workspace_fits_a_phone_and_works_from_the_keyboard(bot: Bot, open_page: OpenPage) -> None:
    url = await bot.start()
    page = await open_page(390, 844)
    await page.goto(url + "/as/maria/c/district-partnership")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    await page.get_by_label(re.compile("Type a command")).focus()
    await page.keyboard.press("End")
    await page.keyboard.type("help")
    await page.keyboard.press("Enter")
    await expect(page.locator(".post.private").last).to_contain_text("Partnerbot commands")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # A post made while the page is open appears in it, without a reload (server-sent events).
    await expect(page.locator("body")).to_have_attribute("data-live", "yes")
    await page.evaluate("window.stayed = true")
    bot.app.local.outbound.add("#district-partnership", Message.text("Agenda for Tuesday is up."))
    await expect(page.locator(".post").filter(has_text="Agenda for Tuesday is up.")).to_be_visible()
    assert await page.evaluate("window.stayed === true")
