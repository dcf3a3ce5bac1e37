"""A person opening `/` in a real browser sees the animated GIF."""
import shutil
import tempfile

from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_index_page_renders_the_gif_in_chromium(app):
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page()
            errors = []
            page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
            response = page.goto(app.url + "/", wait_until="load")
            assert response.status == 200
            page.wait_for_function("document.getElementById('gif').complete", timeout=10_000)
            width, height = page.evaluate("[document.getElementById('gif').naturalWidth, document.getElementById('gif').naturalHeight]")
            assert width > 0 and height > 0
            assert (width, height) == (240, 240)
            assert not errors, errors
        finally:
            browser.close()
