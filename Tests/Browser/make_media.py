"""Writes the fixture media served at http://media.test:PORT/ by the tests (committed under media/).

    .build/browser-venv/bin/python Tests/Browser/make_media.py

The PNGs are made here byte for byte (pure Python, the same bytes every run). The video is a one-second VP8 WebM
recorded by Chromium itself (MediaRecorder on a canvas): Debian's Chromium is the one thing that plays it, and no
encoder package is needed. Its bytes vary from run to run, so it is committed and this script only remakes it when
it is missing or --video is given.
"""

import base64
import os
import struct
import sys
import zlib
from pathlib import Path

MEDIA = Path(__file__).resolve().parent / "media"


def png(width: int, height: int, pixel) -> bytes:
    """An 8-bit RGB PNG whose pixel (x, y) is pixel(x, y) -> (r, g, b)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def thumbnail(x: int, y: int):
    # A 9:16 poster: a vertical gradient with a lighter band, so a screenshot shows a real picture.
    band = 60 if 120 <= y < 200 else 0
    return (min(255, 40 + x // 2 + band), min(255, 30 + y // 3 + band), min(255, 160 + band))


def avatar(x: int, y: int):
    # A disc on a plain background.
    inside = (x - 32) ** 2 + (y - 32) ** 2 < 26**2
    return (230, 120, 60) if inside else (250, 235, 215)


RECORD = """
async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 180; canvas.height = 320;
  const g = canvas.getContext("2d");
  const stream = canvas.captureStream(15);
  const recorder = new MediaRecorder(stream, { mimeType: "video/webm;codecs=vp8", videoBitsPerSecond: 60000 });
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const done = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start();
  for (let frame = 0; frame < 15; frame++) {
    g.fillStyle = `hsl(${frame * 24}, 70%, 50%)`;
    g.fillRect(0, 0, 180, 320);
    g.fillStyle = "white";
    g.fillRect(20 + frame * 8, 140, 40, 40);
    await new Promise((r) => setTimeout(r, 66));
  }
  recorder.stop();
  await done;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}
"""


def record_video(path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto("about:blank")
        path.write_bytes(base64.b64decode(page.evaluate(RECORD)))
        browser.close()


def main() -> None:
    MEDIA.mkdir(exist_ok=True)
    (MEDIA / "thumb.png").write_bytes(png(180, 320, thumbnail))
    (MEDIA / "avatar.png").write_bytes(png(64, 64, avatar))
    video = MEDIA / "clip.webm"
    if "--video" in sys.argv or not video.exists():
        record_video(video)
    for f in sorted(MEDIA.iterdir()):
        print(f"{f.name}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
