"""Build a cat / non-cat data set from an instructor's own folders of photos.

Each photo is turned the right way up (EXIF orientation), converted to RGB (transparency is laid on
white), centre-cropped to a square and resized to size x size pixels. Only files directly in each
folder whose extension is one of IMAGE_SUFFIXES (any case) are read; other files, sub-folders and
hidden files (such as macOS "._photo.jpg") are ignored. A file with an image extension that cannot
be read is an error naming it: no photo is skipped silently.
"""

import os
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image, ImageOps

from catkit.datasets.h5io import write_dataset

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
PathLike = str | os.PathLike[str]


def build_from_folders(cat_dir: PathLike, noncat_dir: PathLike, out_dir: PathLike, lr_utils: ModuleType,
                       test_fraction: float = 0.2, size: int = 64, seed: int = 0,
                       overwrite: bool = False) -> tuple[Path, Path]:
    """Read the photos in `cat_dir` (label 1) and `noncat_dir` (label 0) and write a data set into `out_dir`.

    About `test_fraction` of each class goes to the test set (at least one photo of each class in
    each set); the split and the order are shuffled with `seed`. Writes train_catvnoncat.h5 and
    test_catvnoncat.h5 (images uint8 (m, size, size, 3)), checked by `lr_utils` (the students' loader
    module, see h5io.load_lr_utils), and returns (train_path, test_path).

    Raises lr_utils.DatasetError for a missing folder, fewer than 2 photos in a class, or unreadable
    photos; FileExistsError if `out_dir` already holds the data set files and `overwrite` is False.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), not {test_fraction}.")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive whole number of pixels, not {size}.")
    cats, noncats = _list_photos(cat_dir, "cat", lr_utils), _list_photos(noncat_dir, "non-cat", lr_utils)
    existing = [p for p in (Path(out_dir) / lr_utils.TRAIN_FILE, Path(out_dir) / lr_utils.TEST_FILE) if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Output file(s) already exist: {', '.join(map(str, existing))}. Choose another "
                              "output folder, or pass overwrite=True (catkit data from-photos --overwrite) to "
                              "replace them.")

    images = _load_all(cats + noncats, size, lr_utils)
    labels = np.array([1] * len(cats) + [0] * len(noncats), dtype=np.int64)
    rng = np.random.default_rng(seed)
    train_members: list[int] = []
    test_members: list[int] = []
    for label in (1, 0):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = min(max(1, round(test_fraction * len(members))), len(members) - 1)
        test_members.extend(members[:n_test])
        train_members.extend(members[n_test:])
    train, test = rng.permutation(train_members), rng.permutation(test_members)
    return write_dataset(out_dir, images[train], labels[train], images[test], labels[test], lr_utils=lr_utils)


def load_photo(path: PathLike, size: int = 64) -> np.ndarray:
    """Return the photo at `path` as a uint8 array (size, size, 3): upright, RGB, centre-cropped, resized."""
    with Image.open(path) as opened:
        image: Image.Image = ImageOps.exif_transpose(opened)
        if image.mode in ("I", "I;16"):  # 16-bit greyscale: scale to 8 bits (converting would clip)
            image = Image.fromarray((np.asarray(image) // 257).astype(np.uint8))
        if image.mode == "P":  # palette images may carry transparency: expand them first
            image = image.convert("RGBA")
        if "A" in image.getbands():  # lay transparent parts on white, as a viewer shows them
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image.convert("RGBA"))
        image = ImageOps.fit(image.convert("RGB"), (size, size), method=Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.uint8)


def _list_photos(folder: PathLike, name: str, lr_utils: ModuleType) -> list[Path]:
    """Return the sorted image files directly in `folder`; raise DatasetError if it is missing or has < 2."""
    folder = Path(folder)
    if not folder.is_dir():
        raise lr_utils.DatasetError(f"The {name} photo folder {folder} does not exist (or is not a folder).")
    photos = sorted(p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if len(photos) < 2:
        raise lr_utils.DatasetError(
            f"The {name} photo folder {folder} holds {len(photos)} image file(s) but needs at least 2 (one for "
            f"training, one for testing). Image files end in {', '.join(sorted(IMAGE_SUFFIXES))}.")
    return photos


def _load_all(paths: list[Path], size: int, lr_utils: ModuleType) -> np.ndarray:
    """Return all photos as uint8 (len(paths), size, size, 3); raise DatasetError naming every unreadable one."""
    images, failures = [], []
    for path in paths:
        try:
            images.append(load_photo(path, size))
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            failures.append(f"  {path}: {err}")
    if failures:
        raise lr_utils.DatasetError(f"{len(failures)} photo(s) cannot be read; fix or remove them:\n"
                                    + "\n".join(failures))
    return np.stack(images)
