"""Small byte strings that start like each kind of image (and some that are not images), for
the tests of the archive's own copies of podcast and episode images."""

from __future__ import annotations

PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(200)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><title>Not found</title><p>Sorry"
