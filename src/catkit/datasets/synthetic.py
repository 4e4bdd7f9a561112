"""The repository's default data set: procedurally drawn cat / non-cat pictures.

The course's real photos may not be redistributed, so the kit ships look-alikes drawn with Pillow.
"Cats" are cartoon cats (a face close up, or a sitting cat): head ellipse, triangular ears, slit-pupil
eyes, nose, whiskers, in varied furs. "Non-cats" are houses, trees, cars, flowers, birds, landscapes,
round-eared animals (bears, mice, pandas, dogs) and random shapes. Both classes share the same kinds
of backgrounds, palettes, clutter, lighting and noise; as in the course's photos, cats are mostly
centred close-ups and more often indoors. So logistic regression on raw pixels learns something real
but far from everything: about 99 % train and 70-80 % test accuracy, as on the real data.

Everything is drawn at twice the final size and scaled down, so edges are smooth as in a photo, and
is deterministic for a given seed: ``generate(seed)`` gives identical arrays every time.
"""

import os
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from catkit.datasets.h5io import write_dataset

N_TRAIN, N_TRAIN_CATS = 209, 72  # the real data set's counts
N_TEST, N_TEST_CATS = 50, 33
SIZE = 64
EXAMPLE_SEED = 6  # the seed of source/logistic_regression/images/my_image.png (a white cat)

FURS = [(225, 140, 60), (240, 190, 120), (128, 128, 130), (35, 32, 30), (240, 238, 230), (120, 80, 50), (90, 90, 100)]
EYES = [(120, 190, 60), (230, 200, 40), (210, 140, 30), (90, 160, 220)]
PINK = (230, 150, 160)
CAT_SCENES = [0.6, 0.1, 0.15, 0.15]  # probabilities of a room, outdoors, plain, bokeh background
NON_CAT_SCENES = [0.1, 0.6, 0.15, 0.15]


def generate(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the default data set.

    Returns (train_x, train_y, test_x, test_y): images uint8 of shape (m, 64, 64, 3), labels int64 of
    shape (m,) (1 = cat), with m = 209 (72 cats) for train and 50 (33 cats) for test.
    """
    rng = np.random.default_rng(seed)
    return (*_draw_set(rng, N_TRAIN, N_TRAIN_CATS), *_draw_set(rng, N_TEST, N_TEST_CATS))


def build_default(out_dir: str | os.PathLike[str], lr_utils: ModuleType, seed: int = 0) -> tuple[Path, Path]:
    """Generate the default data set and write train_catvnoncat.h5 and test_catvnoncat.h5 into `out_dir`.

    `lr_utils` is the students' loader module (see h5io.load_lr_utils), which checks the files written.
    Returns (train_path, test_path).
    """
    return write_dataset(out_dir, *generate(seed), lr_utils=lr_utils)


def render_example_picture(path: str | os.PathLike[str], seed: int = EXAMPLE_SEED, size: int = 256) -> None:
    """Draw one cat of `size` x `size` pixels with the data set's code and save it as a PNG at `path`.

    The notebook's "test with your own image" section uses it: a picture the repository may ship.
    """
    Image.fromarray(draw_picture(np.random.default_rng(seed), is_cat=True, size=size)).save(path)


def _draw_set(rng, m, n_cats):
    """Return images (m, SIZE, SIZE, 3) uint8 and shuffled labels (m,) int64 holding `n_cats` ones."""
    labels = rng.permutation(np.arange(m) < n_cats).astype(np.int64)
    images = np.stack([draw_picture(rng, bool(label)) for label in labels])
    return images, labels


def draw_picture(rng: np.random.Generator, is_cat: bool, size: int = SIZE) -> np.ndarray:
    """Draw one picture (a cat if `is_cat`, else something else) as a uint8 array (size, size, 3)."""
    s = 2 * size
    # As in photos, cats are more often indoors and other things outdoors: a real but weak cue.
    img = _background(rng, s, CAT_SCENES if is_cat else NON_CAT_SCENES)
    _clutter(rng, img, s, count=rng.integers(0, 4))
    draw_object = _cat if is_cat else NON_CATS[rng.integers(len(NON_CATS))]
    draw_object(rng, img, s)
    _clutter(rng, img, s, count=rng.integers(0, 2))
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    # Photo-like lighting and sensor noise, shared by both classes.
    pixels = np.asarray(img, dtype=np.float64) * rng.uniform(0.8, 1.1) * rng.uniform(0.95, 1.05, 3)
    pixels += rng.uniform(-10, 10) + rng.normal(0, rng.uniform(3, 10), pixels.shape)
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


# -- helpers ---------------------------------------------------------------------------------------

def _rgb(rng, base, jitter=25):
    """`base` colour moved by up to `jitter` per channel."""
    return tuple(int(v) for v in np.clip(np.asarray(base) + rng.integers(-jitter, jitter + 1, 3), 0, 255))


def _any_rgb(rng):
    return tuple(int(v) for v in rng.integers(0, 256, 3))


def _scaled(rgb, factor):
    return tuple(int(min(255, v * factor)) for v in rgb)


def _ellipse(d, cx, cy, rx, ry, fill):
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=fill)


def _layer(s):
    """A transparent RGBA layer to draw one object on, and its ImageDraw."""
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _paste(img, layer, cx, cy, angle):
    """Rotate `layer` by `angle` degrees about (cx, cy) and composite it onto the RGB image `img`."""
    rotated = layer.rotate(angle, resample=Image.Resampling.BICUBIC, center=(cx, cy))
    img.paste(rotated, (0, 0), rotated)


# -- backgrounds and clutter (shared by both classes) ---------------------------------------------

def _gradient(s, top, bottom):
    """An (s, s, 3) array fading from colour `top` to colour `bottom`."""
    t = np.linspace(0, 1, s)[:, None, None]
    return np.broadcast_to((1 - t) * np.array(top) + t * np.array(bottom), (s, s, 3))


def _background(rng, s, weights):
    """A random scene background: a room, outdoors, a plain wall, or blurred blobs (bokeh), with these `weights`."""
    kind = rng.choice(4, p=weights)
    if kind == 0:  # room: wall above, floor below
        wall, floor = _rgb(rng, (170, 150, 130), 70), _rgb(rng, (110, 80, 60), 50)
        pixels = np.array(_gradient(s, wall, _scaled(wall, 0.8)))
        pixels[int(s * rng.uniform(0.55, 0.9)):] = floor
    elif kind == 1:  # outdoors: sky above, ground below
        sky = _rgb(rng, (110, 160, 230), 50) if rng.random() < 0.7 else _rgb(rng, (240, 150, 90), 40)
        ground = _rgb(rng, (70, 130, 50), 50) if rng.random() < 0.7 else _rgb(rng, (150, 120, 80), 50)
        pixels = np.array(_gradient(s, sky, (235, 235, 240)))
        pixels[int(s * rng.uniform(0.35, 0.8)):] = ground
    else:  # a plain wall in a muted colour, or a colourful base for blobs
        base = tuple((np.array(_any_rgb(rng)) + 128) // 2) if kind == 2 else _any_rgb(rng)
        pixels = np.array(_gradient(s, base, _rgb(rng, base, 60)))
    img = Image.fromarray(pixels.astype(np.uint8))
    if kind == 3:
        d = ImageDraw.Draw(img)
        for _ in range(rng.integers(10, 30)):
            x, y = rng.uniform(0, s, 2)
            r = rng.uniform(0.03, 0.12) * s
            _ellipse(d, x, y, r, r, _any_rgb(rng))
        img = img.filter(ImageFilter.GaussianBlur(s / 30))
    return img


def _clutter(rng, img, s, count):
    """Draw `count` small random shapes (toys, leaves, furniture...) onto `img`."""
    d = ImageDraw.Draw(img)
    for _ in range(count):
        x, y = rng.uniform(0, s, 2)
        w, h = rng.uniform(0.05, 0.25, 2) * s
        shape = rng.integers(3)
        if shape == 0:
            d.rectangle([x, y, x + w, y + h], fill=_any_rgb(rng))
        elif shape == 1:
            _ellipse(d, x, y, w / 2, h / 2, _any_rgb(rng))
        else:
            d.line([x, y, x + w, y + h], fill=_any_rgb(rng), width=int(rng.integers(1, 5)))


# -- cats -----------------------------------------------------------------------------------------

def _cat(rng, img, s):
    """A cat: a face close up, or a sitting cat with body and tail, at a random place and angle."""
    fur = _rgb(rng, FURS[rng.integers(len(FURS))], 20)
    layer, d = _layer(s)
    if rng.random() < 0.25:  # sitting cat: small head on an oval body
        r = s * rng.uniform(0.12, 0.18)
        cx, cy = s * rng.uniform(0.3, 0.7), s * rng.uniform(0.22, 0.4)
        side = rng.choice([-1, 1])
        d.arc([cx - 2.4 * r, cy + 1.2 * r, cx + side * 0.2 * r + 1.6 * r, cy + 3.4 * r],
              150 if side < 0 else -60, 240 if side < 0 else 30, fill=fur, width=int(0.35 * r))  # tail
        _ellipse(d, cx, cy + 1.9 * r, 1.1 * r, 1.4 * r, fur)
        _ellipse(d, cx - 0.45 * r, cy + 3.2 * r, 0.35 * r, 0.2 * r, fur)  # paws
        _ellipse(d, cx + 0.45 * r, cy + 3.2 * r, 0.35 * r, 0.2 * r, fur)
    else:  # face close up
        r = s * rng.uniform(0.3, 0.42)
        cx, cy = s * rng.uniform(0.45, 0.55), s * rng.uniform(0.5, 0.6)
    _cat_face(rng, d, cx, cy, r, fur)
    _paste(img, layer, cx, cy, rng.uniform(-15, 15))


def _cat_face(rng, d, cx, cy, r, fur):
    """A cat's face centred at (cx, cy) with head radius r: ears, head, markings, eyes, nose, whiskers."""
    dark = _scaled(fur, 0.6) if sum(fur) > 200 else (90, 90, 90)  # markings must show on black fur too
    spread, height = rng.uniform(0.55, 0.95), rng.uniform(1.25, 1.7)
    for k in (-1, 1):  # ears: outer triangle in fur, inner one pink
        ear = [(cx + k * 0.95 * r, cy - 0.25 * r), (cx + k * 0.15 * r, cy - 0.85 * r),
               (cx + k * spread * r, cy - height * r)]
        d.polygon(ear, fill=fur)
        mid = np.mean(ear, axis=0)
        d.polygon([tuple(mid + 0.55 * (np.array(p) - mid)) for p in ear], fill=_rgb(rng, PINK, 20))
    width = rng.uniform(1.0, 1.2)
    _ellipse(d, cx, cy, width * r, 0.92 * r, fur)
    if rng.random() < 0.35:  # white muzzle and chest of a bicolour cat
        _ellipse(d, cx, cy + 0.45 * r, 0.55 * r, 0.45 * r, _rgb(rng, (240, 240, 235), 10))
    if rng.random() < 0.4:  # tabby stripes on the forehead
        for k in (-1, 0, 1):
            d.line([cx + k * 0.22 * r, cy - 0.88 * r, cx + k * 0.15 * r, cy - 0.45 * r], fill=dark,
                   width=max(1, int(0.09 * r)))
    eye, ry = _rgb(rng, EYES[rng.integers(len(EYES))], 20), 0.17 * r * rng.uniform(0.8, 1.2)
    for k in (-1, 1):
        ex, ey = cx + k * 0.42 * r, cy - 0.1 * r
        _ellipse(d, ex, ey, 0.21 * r, ry, eye)
        _ellipse(d, ex, ey, 0.21 * r * rng.uniform(0.2, 0.6), 0.95 * ry, (10, 10, 10))  # slit pupil
        _ellipse(d, ex + 0.06 * r, ey - 0.06 * r, 0.04 * r, 0.04 * r, (255, 255, 255))
    d.polygon([(cx - 0.12 * r, cy + 0.2 * r), (cx + 0.12 * r, cy + 0.2 * r), (cx, cy + 0.33 * r)],
              fill=_rgb(rng, PINK, 30))
    # The mouth: a "w" under the nose.
    d.line([cx, cy + 0.33 * r, cx, cy + 0.45 * r], fill=dark, width=max(1, int(0.04 * r)))
    d.line([(cx + k * 0.11 * r, cy + (0.45 + 0.08 * (k % 2)) * r) for k in range(-2, 3)], fill=dark,
           width=max(1, int(0.04 * r)))
    whisker = (235, 235, 235) if rng.random() < 0.6 else (40, 40, 40)
    for k in (-1, 1):
        for j in (-1, 0, 1):
            d.line([cx + k * 0.3 * r, cy + (0.38 + 0.06 * j) * r, cx + k * 1.35 * r, cy + (0.3 + 0.2 * j) * r],
                   fill=whisker, width=max(1, int(0.025 * r)))


# -- non-cats -------------------------------------------------------------------------------------

def _round_eared_animal(rng, img, s):
    """A bear, mouse, panda or dog face: like a cat's head, but with round or floppy ears and round pupils."""
    layer, d = _layer(s)
    r = s * rng.uniform(0.18, 0.38)
    cx, cy = s * rng.uniform(0.35, 0.65), s * rng.uniform(0.4, 0.65)
    kind = rng.integers(4)
    fur = _rgb(rng, FURS[rng.integers(len(FURS))], 20) if kind != 2 else (240, 240, 240)
    ear = (20, 20, 20) if kind == 2 else _scaled(fur, 0.7)
    if kind == 3:  # dog: floppy ears hanging beside the head
        for k in (-1, 1):
            _ellipse(d, cx + k * 0.95 * r, cy + 0.1 * r, 0.3 * r, 0.7 * r, ear)
    else:
        ear_r = 0.5 * r if kind == 1 else 0.33 * r
        for k in (-1, 1):
            _ellipse(d, cx + k * 0.75 * r, cy - 0.75 * r, ear_r, ear_r, ear)
            _ellipse(d, cx + k * 0.75 * r, cy - 0.75 * r, 0.6 * ear_r, 0.6 * ear_r,
                     PINK if kind == 1 else _scaled(ear, 0.8))
    _ellipse(d, cx, cy, rng.uniform(0.9, 1.15) * r, 0.95 * r, fur)
    _ellipse(d, cx, cy + 0.4 * r, 0.45 * r, 0.35 * r, _scaled(fur, 1.25))  # snout
    for k in (-1, 1):
        ex, ey = cx + k * 0.4 * r, cy - 0.15 * r
        if kind == 2:
            _ellipse(d, ex, ey, 0.2 * r, 0.25 * r, (20, 20, 20))
        _ellipse(d, ex, ey, 0.09 * r, 0.09 * r, (60, 40, 20) if kind != 2 else (230, 230, 230))
    _ellipse(d, cx, cy + 0.3 * r, 0.13 * r, 0.09 * r, (20, 20, 20))
    _paste(img, layer, cx, cy, rng.uniform(-25, 25))


def _house(rng, img, s):
    """A house: walls, a triangular roof, windows and a door."""
    d = ImageDraw.Draw(img)
    w, h = s * rng.uniform(0.35, 0.7), s * rng.uniform(0.25, 0.45)
    x, y = s * rng.uniform(0.05, 0.95) - w / 2, s * rng.uniform(0.45, 0.85) - h / 2
    d.rectangle([x, y, x + w, y + h], fill=_any_rgb(rng))
    d.polygon([(x - 0.08 * w, y), (x + 1.08 * w, y), (x + w / 2, y - rng.uniform(0.3, 0.6) * h)],
              fill=_rgb(rng, (150, 60, 50), 60))
    glass = _rgb(rng, (180, 210, 230), 40)
    for fx in (0.15, 0.65):
        d.rectangle([x + fx * w, y + 0.2 * h, x + (fx + 0.2) * w, y + 0.45 * h], fill=glass)
    d.rectangle([x + 0.42 * w, y + 0.55 * h, x + 0.58 * w, y + h], fill=_rgb(rng, (100, 60, 40), 40))


def _tree(rng, img, s):
    """One to three trees: a brown trunk under round green crowns."""
    d = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 4)):
        x, base, h = s * rng.uniform(0.1, 0.9), s * rng.uniform(0.7, 1.0), s * rng.uniform(0.3, 0.7)
        d.rectangle([x - 0.04 * h, base - h, x + 0.04 * h, base], fill=_rgb(rng, (100, 70, 40), 30))
        green = _rgb(rng, (60, 130, 50), 40)
        for _ in range(rng.integers(2, 6)):
            crown_x, crown_y = x + rng.uniform(-0.2, 0.2) * h, base - h + rng.uniform(-0.1, 0.25) * h
            crown_r = rng.uniform(0.15, 0.3) * h
            _ellipse(d, crown_x, crown_y, crown_r, crown_r, _rgb(rng, green, 15))


def _car(rng, img, s):
    """A car seen from the side: body, cabin with windows, two wheels."""
    layer, d = _layer(s)
    w = s * rng.uniform(0.5, 0.9)
    cx, cy = s * rng.uniform(0.3, 0.7), s * rng.uniform(0.45, 0.75)
    paint = _any_rgb(rng)
    d.rounded_rectangle([cx - w / 2, cy - 0.12 * w, cx + w / 2, cy + 0.1 * w], radius=0.05 * w, fill=paint)
    d.polygon([(cx - 0.3 * w, cy - 0.12 * w), (cx - 0.18 * w, cy - 0.3 * w), (cx + 0.15 * w, cy - 0.3 * w),
               (cx + 0.3 * w, cy - 0.12 * w)], fill=paint)
    d.polygon([(cx - 0.24 * w, cy - 0.13 * w), (cx - 0.15 * w, cy - 0.26 * w), (cx + 0.12 * w, cy - 0.26 * w),
               (cx + 0.23 * w, cy - 0.13 * w)], fill=_rgb(rng, (170, 200, 220), 30))
    for k in (-1, 1):
        _ellipse(d, cx + k * 0.3 * w, cy + 0.1 * w, 0.1 * w, 0.1 * w, (25, 25, 25))
        _ellipse(d, cx + k * 0.3 * w, cy + 0.1 * w, 0.04 * w, 0.04 * w, (170, 170, 170))
    _paste(img, layer, cx, cy, rng.uniform(-10, 10))


def _flowers(rng, img, s):
    """One to four flowers: stem, petals round a centre."""
    d = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 5)):
        r = s * rng.uniform(0.06, 0.18)
        cx, cy = s * rng.uniform(0.15, 0.85), s * rng.uniform(0.15, 0.7)
        d.line([cx, cy, cx + rng.uniform(-0.1, 0.1) * s, s], fill=_rgb(rng, (50, 120, 40), 30),
               width=max(1, int(0.15 * r)))
        petal, n = _any_rgb(rng), rng.integers(5, 9)
        for a in np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, np.pi):
            _ellipse(d, cx + 0.6 * r * np.cos(a), cy + 0.6 * r * np.sin(a), 0.45 * r, 0.45 * r, petal)
        _ellipse(d, cx, cy, 0.35 * r, 0.35 * r, _rgb(rng, (230, 190, 40), 40))


def _bird(rng, img, s):
    """A bird: round body and head, pointed beak and tail, on a branch."""
    layer, d = _layer(s)
    r = s * rng.uniform(0.12, 0.25)
    cx, cy = s * rng.uniform(0.3, 0.7), s * rng.uniform(0.35, 0.65)
    k = rng.choice([-1, 1])
    feathers = _any_rgb(rng)
    d.line([cx - 2 * r, cy + 1.0 * r, cx + 2 * r, cy + 0.9 * r], fill=_rgb(rng, (100, 70, 40), 30),
           width=max(1, int(0.2 * r)))
    d.polygon([(cx - k * 0.8 * r, cy), (cx - k * 1.8 * r, cy + 0.4 * r), (cx - k * 1.6 * r, cy - 0.1 * r)],
              fill=_scaled(feathers, 0.7))
    _ellipse(d, cx, cy, r, 0.75 * r, feathers)
    _ellipse(d, cx - k * 0.1 * r, cy + 0.05 * r, 0.6 * r, 0.4 * r, _scaled(feathers, 0.7))  # wing
    hx, hy = cx + k * 0.75 * r, cy - 0.6 * r
    _ellipse(d, hx, hy, 0.45 * r, 0.45 * r, feathers)
    d.polygon([(hx + k * 0.35 * r, hy - 0.12 * r), (hx + k * 0.35 * r, hy + 0.12 * r), (hx + k * 0.8 * r, hy)],
              fill=_rgb(rng, (230, 150, 40), 30))
    _ellipse(d, hx + k * 0.15 * r, hy - 0.1 * r, 0.08 * r, 0.08 * r, (10, 10, 10))
    _paste(img, layer, cx, cy, rng.uniform(-15, 15))


def _landscape(rng, img, s):
    """Mountains (some snow-capped), a sun, maybe a lake."""
    d = ImageDraw.Draw(img)
    if rng.random() < 0.6:
        sun_x, sun_y = rng.uniform(0.1, 0.9, 2) * [s, 0.4 * s]
        sun_r = rng.uniform(0.05, 0.1) * s
        _ellipse(d, sun_x, sun_y, sun_r, sun_r, _rgb(rng, (250, 210, 80), 30))
    for _ in range(rng.integers(1, 4)):
        peak_x, peak_y, half = s * rng.uniform(0, 1), s * rng.uniform(0.2, 0.55), s * rng.uniform(0.2, 0.5)
        base = s * rng.uniform(0.6, 0.9)
        d.polygon([(peak_x - half, base), (peak_x, peak_y), (peak_x + half, base)], fill=_rgb(rng, (110, 110, 130), 40))
        if rng.random() < 0.5:
            t = 0.25
            snow_y = peak_y + t * (base - peak_y)
            snow = [(peak_x - t * half, snow_y), (peak_x, peak_y), (peak_x + t * half, snow_y)]
            d.polygon(snow, fill=(245, 245, 250))
    if rng.random() < 0.5:
        _ellipse(d, s * rng.uniform(0.3, 0.7), s * 0.85, s * rng.uniform(0.2, 0.4), s * 0.08,
                 _rgb(rng, (70, 120, 190), 30))


def _shapes(rng, img, s):
    """A few large random shapes: polygons, discs and boxes."""
    layer, d = _layer(s)
    for _ in range(rng.integers(2, 6)):
        x, y = rng.uniform(0.1, 0.9, 2) * s
        w = rng.uniform(0.1, 0.3) * s
        kind = rng.integers(3)
        if kind == 0:
            d.polygon([tuple(p) for p in rng.uniform(-w, w, (rng.integers(3, 6), 2)) + (x, y)], fill=_any_rgb(rng))
        elif kind == 1:
            _ellipse(d, x, y, w, w * rng.uniform(0.5, 1), _any_rgb(rng))
        else:
            d.rectangle([x - w, y - w / 2, x + w, y + w / 2], fill=_any_rgb(rng))
    _paste(img, layer, s / 2, s / 2, rng.uniform(0, 360))


NON_CATS = [_round_eared_animal, _house, _tree, _car, _flowers, _bird, _landscape, _shapes]
