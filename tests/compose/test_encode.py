from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from ggrs.compose.encode import COMPRESSIONS, encode_png, to_palette
from ggrs.errors import UsageError


def chunks(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        out.append(data[pos + 4 : pos + 8].decode("ascii"))
        pos += 12 + length
    return out


def few_colours() -> Image.Image:
    a = np.full((60, 80, 3), 235, np.uint8)
    a[10:20, 5:70] = (255, 0, 0)
    a[30:40, :] = (0, 0, 255)
    a[::7, ::3] = (10, 20, 30)
    return Image.fromarray(a)


def many_colours() -> Image.Image:
    rng = np.random.default_rng(42)
    return Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8))


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("make", [few_colours, many_colours])
def test_round_trip_and_determinism(compression, make):
    image = make()
    first = encode_png(image, compression)
    assert first == encode_png(make(), compression)
    decoded = Image.open(io.BytesIO(first))
    assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(image))
    assert set(chunks(first)) <= {"IHDR", "PLTE", "IDAT", "IEND"}


def colour_type(data: bytes) -> int:
    return data[25]  # IHDR: 8 signature + 8 chunk header + 9 bytes before colour type


def test_fast_uses_a_palette_only_when_exact():
    assert colour_type(encode_png(few_colours(), "fast")) == 3  # indexed
    assert colour_type(encode_png(many_colours(), "fast")) == 2  # truecolour
    assert colour_type(encode_png(few_colours(), "default")) == 2


def test_palette_conversion_is_exact_at_256_colours():
    a = np.zeros((16, 16, 3), np.uint8)
    a[..., 0] = np.arange(256, dtype=np.uint8).reshape(16, 16)
    a[..., 2] = 255 - a[..., 0]
    p = to_palette(Image.fromarray(a))
    assert p is not None and p.mode == "P"
    assert np.array_equal(np.asarray(p.convert("RGB")), a)
    b = np.concatenate([a, np.full((16, 1, 3), 7, np.uint8)], axis=1)  # a 257th colour
    assert to_palette(Image.fromarray(b)) is None


def test_rgba_round_trip():
    a = np.zeros((20, 30, 4), np.uint8)
    a[..., 0] = 200
    a[5:10, 5:10, 3] = 128
    for compression in COMPRESSIONS:
        data = encode_png(Image.fromarray(a), compression)
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), a)


def test_metadata_is_dropped():
    image = few_colours()
    image.info["dpi"] = (300, 300)
    image.info["icc_profile"] = b"not really a profile"
    data = encode_png(image, "best")
    assert set(chunks(data)) <= {"IHDR", "PLTE", "IDAT", "IEND"}
    assert data == encode_png(few_colours(), "best")


def test_better_compression_is_not_larger():
    image = Image.fromarray(np.tile(np.arange(200, dtype=np.uint8), (100, 3)).reshape(100, 200, 3))
    sizes = [len(encode_png(image, c)) for c in ("default", "best")]
    assert sizes[1] <= sizes[0]


def test_unknown_compression_is_a_usage_error():
    with pytest.raises(UsageError, match="fast"):
        encode_png(few_colours(), "ultra")
    assert encode_png(few_colours(), " FAST ") == encode_png(few_colours(), "fast")
