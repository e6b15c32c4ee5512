"""Image decoding rules as pure functions: every JPEG/PNG flavour decodes to RGB; orientation only for JPEG;
huge images decode reduced to what the models read, with the same ratios."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from PIL import Image

from reko.errors import ImageTooLargeException, InvalidImageFormatException, InvalidParameterException
from reko.images import MODEL_MAX_PIXELS, decode_image, reduction_factor
from reko.pipelines.faces import Needs
from reko.vision.faces.detector import DEFAULT_MAX_PASS_PIXELS
from tests.conftest import SHARED_DATA, needs_shared_data, shared_face_pipeline


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


GRADIENT = Image.fromarray(np.tile(np.arange(120, dtype=np.uint8), (90, 1)))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("grey jpeg", encoded(GRADIENT, "JPEG")),
        ("cmyk jpeg", encoded(GRADIENT.convert("CMYK"), "JPEG")),
        ("rgba png", encoded(GRADIENT.convert("RGBA"), "PNG")),
        ("palette png", encoded(GRADIENT.convert("P"), "PNG")),
        ("16-bit png", encoded(GRADIENT.convert("I;16"), "PNG")),
        ("1-bit png", encoded(GRADIENT.convert("1"), "PNG")),
    ],
)
def test_every_flavour_decodes_to_rgb(name: str, data: bytes) -> None:
    image = decode_image(data)
    assert image.rgb.shape == (90, 120, 3) and image.rgb.dtype == np.uint8


def test_png_orientation_is_never_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    image = decode_image(encoded(GRADIENT.convert("RGB"), "PNG", exif=exif.tobytes()))
    assert (image.width, image.height) == (120, 90)


def test_jpeg_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    image = decode_image(encoded(GRADIENT.convert("RGB"), "JPEG", exif=exif.tobytes()))
    assert (image.width, image.height) == (90, 120)


def test_limits_are_parameters() -> None:
    data = encoded(GRADIENT, "PNG")
    with pytest.raises(InvalidParameterException):
        decode_image(data, min_side_px=100)
    with pytest.raises(ImageTooLargeException):
        decode_image(data, max_side_px=100)
    with pytest.raises(ImageTooLargeException):
        decode_image(data, max_pixels=90 * 119)


def test_webp_is_not_accepted() -> None:
    with pytest.raises(InvalidImageFormatException):
        decode_image(encoded(GRADIENT.convert("RGB"), "WEBP"))


@pytest.mark.parametrize(
    ("width", "height", "factor"),
    [
        (640, 480, 1),  # an ordinary photo
        (2528, 2528, 1),  # 6.4 MP: 1/2 would leave just under the floor
        (2530, 2530, 2),
        (4000, 3000, 2),  # a 12 MP phone photo: 2000x1500
        (7071, 7071, 4),  # 50 MP: 1768x1768, while 1/8 would leave 0.78 MP
        (10_000, 5_000, 4),
        (10_000, 400, 1),  # long and thin: 1/2 would leave too few pixels
    ],
)
def test_reduction_keeps_what_the_models_read(width: int, height: int, factor: int) -> None:
    assert reduction_factor(width, height) == factor
    assert reduction_factor(width, height, min_pixels=None) == 1
    if factor > 1:
        assert -(-width // factor) * -(-height // factor) >= MODEL_MAX_PIXELS


def test_the_floor_is_the_face_detectors_largest_pass() -> None:
    assert MODEL_MAX_PIXELS == DEFAULT_MAX_PASS_PIXELS


def noisy_photo(width: int, height: int) -> np.ndarray:
    """Smooth random structure (blurred noise) with a marker square in the stored top-left corner."""
    rng = np.random.default_rng(7)
    small = rng.integers(0, 256, (height // 64 + 1, width // 64 + 1, 3), dtype=np.uint8)
    rgb = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
    rgb = rgb.copy()
    rgb[: height // 8, : width // 8] = (255, 0, 0)
    return rgb


LARGE = Image.fromarray(noisy_photo(2800, 2400))  # 6.7 MP: decoded at 1/2


def area_reduced(rgb: np.ndarray, factor: int) -> np.ndarray:
    """The mean of each factor x factor block (sides divisible by `factor`)."""
    height, width = rgb.shape[0] // factor, rgb.shape[1] // factor
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("jpeg", encoded(LARGE, "JPEG", quality=95)),
        ("progressive jpeg", encoded(LARGE, "JPEG", quality=95, progressive=True)),
        ("grey jpeg", encoded(LARGE.convert("L"), "JPEG", quality=95)),
        ("png", encoded(LARGE, "PNG", compress_level=1)),
        ("rgba png", encoded(LARGE.convert("RGBA"), "PNG", compress_level=1)),
        ("palette png", encoded(LARGE.convert("P"), "PNG", compress_level=1)),
    ],
)
def test_a_large_image_is_decoded_reduced_with_the_same_content(name: str, data: bytes) -> None:
    image = decode_image(data)
    full = decode_image(data, min_decoded_pixels=None)
    assert (image.width, image.height, image.scale) == (1400, 1200, 0.5)
    assert (image.original_width, image.original_height) == (full.width, full.height) == (2800, 2400)
    assert full.scale == 1.0
    difference = np.abs(image.rgb.astype(np.float32) - area_reduced(full.rgb, 2))
    assert float(difference.mean()) < 3.0, name  # grey levels: the same picture, not a shifted or cropped one


def test_orientation_is_applied_after_a_reduced_jpeg_decode() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the stored top-left corner lands top-right
    image = decode_image(encoded(LARGE, "JPEG", quality=95, exif=exif.tobytes()))
    assert (image.width, image.height) == (1200, 1400)
    assert (image.original_width, image.original_height) == (2400, 2800)
    marker = image.rgb[: 1400 // 8 - 4, -(1200 // 8) + 4 :]
    assert marker[..., 0].min() > 200 and marker[..., 1:].max() < 60


def test_large_decodes_wait_for_a_free_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """The semaphore bounds concurrent large decodes; ordinary images never wait for it."""
    gate = threading.BoundedSemaphore(1)
    monkeypatch.setattr("reko.images._large_decodes", gate)
    large, small = encoded(LARGE, "JPEG"), encoded(GRADIENT, "JPEG")
    gate.acquire()
    with ThreadPoolExecutor(2) as pool:
        waiting = pool.submit(decode_image, large)
        assert pool.submit(decode_image, small).result(timeout=10).width == 120
        time.sleep(0.3)
        assert not waiting.done()
        gate.release()
        assert waiting.result(timeout=10).width == 1400


def test_a_bomb_is_refused_before_any_decode() -> None:
    bomb = encoded(Image.new("1", (10_000, 5_001)), "PNG")  # a few kilobytes, 50.01 MP
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeException):
        decode_image(bomb)
    assert time.perf_counter() - started < 0.5


def face_ratio_box(rgb: np.ndarray) -> np.ndarray:
    (face,) = shared_face_pipeline().analyze(rgb, Needs())
    height, width = rgb.shape[:2]
    return face.box / np.array([width, height, width, height])


def test_the_same_face_is_found_at_the_same_ratio_large_and_small(astronaut_rgb: np.ndarray) -> None:
    """skimage's astronaut as shipped (512 px) and enlarged 5x (2560 px, 6.6 MP, decoded at 1/2): one face,
    the same box within 1 % of the image's size; and the reduced decode agrees with a full one."""
    small = decode_image(encoded(Image.fromarray(astronaut_rgb), "JPEG", quality=95))
    large_bytes = encoded(Image.fromarray(astronaut_rgb).resize((2560, 2560), Image.Resampling.BICUBIC), "JPEG")
    large = decode_image(large_bytes)
    assert large.scale == 0.5
    reference = face_ratio_box(small.rgb)
    assert np.abs(face_ratio_box(large.rgb) - reference).max() < 0.01
    assert np.abs(face_ratio_box(decode_image(large_bytes, min_decoded_pixels=None).rgb) - reference).max() < 0.01


@needs_shared_data("faces", "landmarks_afw", "4856974482_2.jpg")
def test_a_real_10_megapixel_photo_reduced_finds_the_faces_where_a_full_decode_does() -> None:
    """An AFW photo (3872x2592, decoded at 1/2): every face of a full decode at the same ratio, within 0.5 %."""
    data = (SHARED_DATA / "faces" / "landmarks_afw" / "4856974482_2.jpg").read_bytes()
    reduced, full = decode_image(data), decode_image(data, min_decoded_pixels=None)
    assert reduced.scale == 0.5 and full.scale == 1.0
    boxes = {}
    for name, image in (("reduced", reduced), ("full", full)):
        faces = shared_face_pipeline().analyze(image.rgb, Needs())
        size = np.array([image.width, image.height] * 2)
        boxes[name] = sorted((face.box / size).round(4).tolist() for face in faces)
    assert len(boxes["reduced"]) == len(boxes["full"]) >= 1
    assert np.abs(np.array(boxes["reduced"]) - np.array(boxes["full"])).max() < 0.005
