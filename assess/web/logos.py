"""Logos on upload: an SVG is drawn to a PNG by resvg (a renderer made for untrusted SVG: no
scripts, no network) in a separate process with a time and memory limit, so a hostile SVG (a
`<use>` fan-out, a huge canvas) can neither freeze a browser showing the settings page nor a
report embedding it; a PNG or JPEG is checked with Pillow (format and pixel count) and kept."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tempfile
import warnings

LOGO_WIDTH = 800  # pixels: an SVG logo is drawn this wide (sharp in a PDF header and on screen)
LOGO_SECONDS = 10
LOGO_MEMORY = 1024 * 1024 * 1024  # bytes of address space for the drawing process
MAX_PIXELS = 25_000_000  # a PNG or JPEG logo larger than this (5000 x 5000) is refused
PNG = b"\x89PNG\r\n\x1a\n"

_DRAW = ("import sys, resvg_py\n"
         "svg = sys.stdin.buffer.read().decode('utf-8')\n"
         "png = resvg_py.svg_to_bytes(svg_string=svg, width=int(sys.argv[1]))\n"
         "sys.stdout.buffer.write(bytes(png))\n")


class LogoError(ValueError):
    """A logo refused, worded for the consultant."""


def _limits() -> None:  # in the drawing process, before it starts
    resource.setrlimit(resource.RLIMIT_AS, (LOGO_MEMORY, LOGO_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (LOGO_SECONDS, LOGO_SECONDS + 1))


def rasterise_svg(blob: bytes, width: int = LOGO_WIDTH) -> bytes:
    """The SVG drawn to PNG bytes, within LOGO_SECONDS and LOGO_MEMORY; LogoError otherwise."""
    try:
        blob.decode("utf-8")
    except UnicodeDecodeError:
        raise LogoError("the SVG is not UTF-8 text") from None
    with tempfile.TemporaryDirectory() as empty:  # relative references resolve to nothing
        try:
            done = subprocess.run([sys.executable, "-I", "-c", _DRAW, str(width)], input=blob,
                                  capture_output=True, timeout=LOGO_SECONDS, cwd=empty,
                                  preexec_fn=_limits)
        except subprocess.TimeoutExpired:
            raise LogoError(f"the SVG took longer than {LOGO_SECONDS} s to draw (a logo takes a "
                            "fraction of a second): upload a PNG or a simpler SVG") from None
    if done.returncode != 0 or not done.stdout.startswith(PNG):
        reason = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1][:200] if reason else "it ran out of time or memory"
        raise LogoError(f"the SVG could not be drawn ({detail}): upload a PNG or a simpler SVG")
    check_raster(done.stdout, "png")
    return done.stdout


def check_raster(blob: bytes, ext: str) -> None:
    """A PNG or JPEG that Pillow reads, of the format its extension says, at most MAX_PIXELS."""
    from PIL import Image, UnidentifiedImageError

    expected = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG"}[ext]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(blob)) as im:
                fmt, (w, h) = im.format, im.size
                if w * h > MAX_PIXELS:
                    raise LogoError(f"the image is {w} x {h} pixels; a logo is at most "
                                    f"{MAX_PIXELS:,} pixels (e.g. 5000 x 5000)")
                im.verify()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise LogoError(f"the image has far more pixels than a logo; at most {MAX_PIXELS:,} "
                            "pixels (e.g. 5000 x 5000)") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, LogoError):
                raise
            raise LogoError(f"not a readable {expected} image") from None
    if fmt != expected:
        raise LogoError(f"the file is a {fmt} image, not {expected}")
