"""The offline Dog API: the same JSON reply as dog.ceo, serving the bundled images."""

from __future__ import annotations

import json
import random
from pathlib import Path

from dogxray.local.httpd import LoopbackServer, QuietHandler

DOGS_DIR = Path(__file__).parent / "dogs"
CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def bundled_dogs() -> dict[str, Path]:
    """`<breed>/<file>` -> path of every bundled image (file names are `<breed>_<n>.<ext>`)."""
    return {
        f"{path.name.split('_', 1)[0]}/{path.name}": path
        for path in sorted(DOGS_DIR.iterdir())
        if path.suffix in CONTENT_TYPES
    }


class DogApi(LoopbackServer):
    """`GET /api/breeds/image/random` and `GET /breeds/<breed>/<file>` on loopback."""

    def __init__(self, port: int = 0) -> None:
        dogs = bundled_dogs()

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path.rstrip("/") == "/api/breeds/image/random":
                    key = random.choice(sorted(dogs))
                    doc = {"message": f"{server.url}/breeds/{key}", "status": "success"}
                    body = json.dumps(doc).encode()
                    self.reply(200, body, {"Content-Type": "application/json"})
                    return
                image = dogs.get(path.removeprefix("/breeds/"))
                if path.startswith("/breeds/") and image is not None:
                    kind = CONTENT_TYPES[image.suffix]
                    self.reply(200, image.read_bytes(), {"Content-Type": kind})
                    return
                missing = {"message": "No route found", "status": "error", "code": 404}
                self.reply(404, json.dumps(missing).encode(), {"Content-Type": "application/json"})

            do_HEAD = do_GET

        super().__init__(Handler, port)
        server = self
        self.random_url = f"{self.url}/api/breeds/image/random"
