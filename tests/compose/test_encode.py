from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ggrs.compose.encode import COMPRESSIONS, ROWS_PER_STRIP, encode_png, write_png
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
    assert set(chunks(first)) <= {"IHDR", "IDAT", "IEND"}


def colour_type(data: bytes) -> int:
    return data[25]  # IHDR: 8 signature + 8 chunk header + 9 bytes before colour type


def idat_rows(data: bytes, width: int, channels: int) -> np.ndarray:
    """The decompressed, still filtered rows of a single-IDAT PNG."""
    start = data.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", data[start - 8 : start - 4])
    raw = zlib.decompress(data[start : start + length])
    return np.frombuffer(raw, np.uint8).reshape(-1, 1 + width * channels)


def test_fast_and_default_write_up_filtered_truecolour():
    image = many_colours()
    for compression in ("fast", "default"):
        data = encode_png(image, compression)
        assert colour_type(data) == 2
        rows = idat_rows(data, image.width, 3)
        assert set(rows[:, 0]) == {2}  # PNG's Up filter on every row
        expected = np.asarray(image).reshape(image.height, -1)
        np.testing.assert_array_equal(rows[0, 1:], expected[0])
        np.testing.assert_array_equal(rows[1:, 1:], expected[1:] - expected[:-1])


def test_strips_join_into_one_valid_stream():
    # Taller than several strips, with an odd last strip; compare with Pillow's decoder.
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, (ROWS_PER_STRIP * 3 + 17, 41, 3), dtype=np.uint8) * 60
    for level in (1, 6, 9):
        data = write_png(a, 2, level)
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), a)
    grey = a[..., 0]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(write_png(grey, 0, 1)))), grey)


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
