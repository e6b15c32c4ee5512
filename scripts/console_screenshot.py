"""Make docs/console.png, the README's picture of the web console: DetectFaces (ALL) on the public-domain astronaut,
the face's attributes shown as keyboard focus shows them, taken with Debian's chromium through Playwright.

Run against a running server with the development key: `reko serve --port 8085 &` then
`python scripts/console_screenshot.py --url http://127.0.0.1:8085`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY

REPO = Path(__file__).resolve().parents[1]
ASTRONAUT = REPO / "tests" / "images" / "astronaut.png"
OUTPUT = REPO / "docs" / "console.png"
VIEWPORT = {"width": 1200, "height": 1000}
PALETTE_COLOURS = 96  # a quantised PNG: ~5× smaller than the full-colour capture, text still crisp


def capture(url: str, chromium: str, raw: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/console/")
        page.fill("#access-key-id", DEV_ACCESS_KEY_ID)
        page.fill("#secret-access-key", DEV_SECRET_ACCESS_KEY)
        page.click("#sign-in")
        page.wait_for_selector("body[data-ready=true]")
        page.set_input_files("#image", str(ASTRONAUT))
        page.check("input[name=attributes][value=ALL]")
        page.click("#run")
        page.wait_for_selector("body[data-rendered=DetectFaces]")
        page.focus("#stages rect.box")
        page.screenshot(path=str(raw))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8085")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    raw = OUTPUT.with_suffix(".raw.png")
    OUTPUT.parent.mkdir(exist_ok=True)
    capture(args.url, args.chromium, raw)
    Image.open(raw).convert("RGB").quantize(PALETTE_COLOURS).save(OUTPUT, optimize=True)
    raw.unlink()
    print(f"{OUTPUT} {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
