"""Peak memory of a photo upload (domain/clinical/photos.process_image) per megapixel.

Each figure is the growth of a fresh child process's peak RSS while it handles one image
whose bytes it has already read (tracemalloc does not see Pillow's C buffers). The peak is
VmHWM of /proc/self/status, not ru_maxrss: Linux carries a parent's peak into ru_maxrss
across fork and exec, which would hide the child's own growth. The images are made in
children too.

bound: decoding the image once, `Image.open(...).load()`: the pixels a full-resolution
re-encode must hold (Pillow keeps RGB as 4 bytes a pixel). Figures are ratios to it, measured
in the same run. before: the pipeline this replaced (kept below for comparison: load,
exif_transpose copy, tobytes + frombytes copy, a full-size copy for the thumbnail). app: the
current process_image. Cases: a 49 MP PNG, a 48 MP JPEG and the same JPEG with EXIF
Orientation 6 (turning it needs the source and the turned copy for a moment).
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import _common  # noqa: F401  (puts the project on sys.path)
from PIL import Image, ImageDraw, ImageOps

ORIENTATION = 0x0112


def make_image(fmt: str, width: int, height: int, orientation: int | None = None) -> bytes:
    """A compressible photo-sized image (stripes on a flat colour), saved as `fmt`."""
    im = Image.new("RGB", (width, height), (200, 150, 120))
    draw = ImageDraw.Draw(im)
    for x in range(0, width, 500):
        draw.rectangle([x, 0, x + 250, height // 2], fill=(x % 255, 90, 60))
    out = io.BytesIO()
    if fmt == "PNG":
        im.save(out, "PNG", compress_level=9)
    else:
        exif = Image.Exif()
        if orientation:
            exif[ORIENTATION] = orientation
        im.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def _before(data: bytes) -> None:
    """The pipeline before issue 12 (three full-size copies alive at its peak)."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        oriented = ImageOps.exif_transpose(opened)
        clean = Image.frombytes(oriented.mode, oriented.size, oriented.tobytes())
    thumb = clean.copy()
    thumb.thumbnail((400, 400), Image.Resampling.LANCZOS)
    for image in (clean, thumb):
        image.save(io.BytesIO(), "JPEG" if "jpg" in sys.argv[3] else "PNG", quality=90, optimize=True)


def peak_rss_kib() -> int:
    """This process's own peak RSS in KiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def _child(mode: str, path: str) -> None:
    from medspa.domain.clinical.photos import process_image

    if mode.startswith("make-"):
        fmt, width, height, orientation = mode.split("-")[1:]
        Path(path).write_bytes(make_image(fmt, int(width), int(height), int(orientation) or None))
        return
    data = Path(path).read_bytes()
    start = peak_rss_kib()
    if mode == "bound":
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    elif mode == "before":
        _before(data)
    else:
        process_image(data)
    print(json.dumps({"mb": (peak_rss_kib() - start) / 1024}))


def _run_child(mode: str, path: Path) -> str:
    return subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True,
                          check=True).stdout


def peak_mb(mode: str, path: Path) -> float:
    """Peak RSS growth (MiB) of a fresh interpreter running `mode` on the file at `path`."""
    return json.loads(_run_child(mode, path).strip().splitlines()[-1])["mb"]


def main() -> None:
    cases = [("PNG 7000x7000", "make-PNG-7000-7000-0", "png", 49.0),
             ("JPEG 8000x6000", "make-JPEG-8000-6000-0", "jpg", 48.0),
             ("JPEG 8000x6000 Orientation 6", "make-JPEG-8000-6000-6", "jpg", 48.0)]
    print("photo memory bench: peak RSS growth of one upload, MiB (MiB per megapixel), ratio to one decode")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, ext, megapixels in cases:
            path = Path(tmp) / f"photo.{ext}"
            _run_child(make, path)
            size = path.stat().st_size
            bound, before, app = (peak_mb(mode, path) for mode in ("bound", "before", "app"))
            print(f"  {name:30s} {size / 1024:6.0f} KB  bound {bound:5.0f} ({bound / megapixels:4.1f}/MP)  "
                  f"before {before:5.0f} ({before / megapixels:4.1f}/MP, {before / bound:3.1f}x)  "
                  f"app {app:5.0f} ({app / megapixels:4.1f}/MP, {app / bound:3.1f}x)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
