"""A person opening `/` in a real browser sees the animated GIF, and a script on another origin
may fetch it only when `cors_allowed_origins` lets it."""
import contextlib
import http.server
import shutil
import tempfile
import threading

from playwright.sync_api import sync_playwright

from testkit.hosts import app_env, start_app
from testkit.paths import GIF, GIF_KEY
from testkit.waits import free_port, stop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def chromium_page():
    """A new page in a headless Chromium with a throwaway profile and no background traffic."""
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_index_page_renders_the_gif_in_chromium(app):
    with chromium_page() as page:
        errors = []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        response = page.goto(app.url + "/", wait_until="load")
        assert response.status == 200
        page.wait_for_function("document.getElementById('gif').complete", timeout=10_000)
        width, height = page.evaluate(
            "[document.getElementById('gif').naturalWidth, document.getElementById('gif').naturalHeight]"
        )
        assert width > 0 and height > 0
        assert (width, height) == (240, 240)
        assert not errors, errors


def test_a_script_on_an_allowed_origin_can_fetch_objects_and_others_cannot(host, minio, app_credentials, tmp_path):
    """A real cross-origin fetch() with headers that need a preflight (If-None-Match is not
    CORS-safelisted): Chromium itself decides from the gateway's CORS headers."""
    class Blank(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>origin</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Blank) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    allowed, other = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_CORS_ALLOWED_ORIGINS"] = allowed
    app = start_app(host, env, tmp_path)
    script = """async (url) => {
        try {
            const r = await fetch(url, {headers: {"Range": "bytes=0-9", "If-None-Match": '"stale"'}});
            return [r.status, r.headers.get("etag") !== null, r.headers.get("content-range"),
                    (await r.arrayBuffer()).byteLength];
        } catch (e) { return ["refused", String(e)]; }
    }"""
    try:
        with chromium_page() as page:
            page.goto(allowed + "/", wait_until="load")
            got = page.evaluate(script, f"{app.url}/{GIF_KEY}")
            assert got == [206, True, f"bytes 0-9/{GIF.stat().st_size}", 10], got
            page.goto(other + "/", wait_until="load")
            got = page.evaluate(script, f"{app.url}/{GIF_KEY}")
            assert got[0] == "refused", got
    finally:
        stop(app.proc)
        for server in servers:
            server.shutdown()
