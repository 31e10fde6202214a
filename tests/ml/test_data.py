"""Dataset discovery, the grouped split, and the recovery of source photos from augmented copies."""

import dataclasses

import pytest
from PIL import Image

from ml import CLASS_NAMES
from ml.data import DatasetError, LabelledImage, group_for, grouped_split, list_split, resolve_dataset_root
from ml.photos import group_by_source, photos_in_class
from tests.ml.conftest import tinted_photo, write_tiny_split


def test_accepts_dataset2_master_and_its_images_folder(tiny_dataset):
    images = tiny_dataset / "images"
    assert resolve_dataset_root(tiny_dataset) == images
    assert resolve_dataset_root(images) == images
    assert len(list_split(tiny_dataset, "TRAIN")) == len(list_split(images, "TRAIN")) == 4 * 4 * 3


def test_missing_dataset_folder_names_the_setting(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*HEMATOVISION_DATASET_DIR"):
        list_split(tmp_path / "nowhere", "TRAIN")


def test_folder_without_splits_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="holds no TRAIN/ or TEST/"):
        resolve_dataset_root(tmp_path)


def test_missing_split_is_named(tiny_dataset):
    with pytest.raises(DatasetError, match="TEST does not exist"):
        list_split(tiny_dataset, "TEST")


def test_missing_class_folder_lists_the_expected_classes(tiny_dataset):
    (tiny_dataset / "images" / "TRAIN" / "MONOCYTE").rename(tiny_dataset / "images" / "TRAIN" / "monos")
    with pytest.raises(DatasetError, match="MONOCYTE is missing.*EOSINOPHIL, LYMPHOCYTE, MONOCYTE, NEUTROPHIL"):
        list_split(tiny_dataset, "TRAIN")


def test_split_without_images_is_refused(tmp_path):
    for class_name in CLASS_NAMES:
        (tmp_path / "TRAIN" / class_name).mkdir(parents=True)
    with pytest.raises(DatasetError, match="holds no images"):
        list_split(tmp_path, "TRAIN")


@pytest.fixture
def samples(tmp_path):
    return list_split(write_tiny_split(tmp_path, photos_per_class=10, copies=2), "TRAIN")


def test_grouped_split_never_puts_a_cell_on_both_sides(samples):
    train, val = grouped_split(samples, val_fraction=0.3, seed=3)
    assert {s.group for s in train}.isdisjoint({s.group for s in val})
    assert len(train) + len(val) == len(samples)


def test_grouped_split_is_stratified_by_class(samples):
    _, val = grouped_split(samples, val_fraction=0.3, seed=3)
    for label in range(len(CLASS_NAMES)):
        assert len({s.group for s in val if s.label == label}) == 3


def test_grouped_split_is_deterministic_for_a_seed(samples):
    assert grouped_split(samples, 0.3, seed=5) == grouped_split(samples, 0.3, seed=5)
    assert grouped_split(samples, 0.3, seed=5)[1] != grouped_split(samples, 0.3, seed=6)[1]


def test_grouped_split_is_stratified_by_source_too(samples):
    both = samples + [dataclasses.replace(sample, source="other", group=f"other:{sample.group}") for sample in samples]
    _, val = grouped_split(both, val_fraction=0.3, seed=3)
    assert {source: len({s.group for s in val if s.source == source}) for source in ("", "other")} == {
        "": 12,
        "other": 12,
    }


def _write_augmented_copies(folder, photo_seed, tint, positions):
    """Copies of one photo, flipped or rotated as the dataset's generator did, under shuffled positions."""
    image = Image.fromarray(tinted_photo(photo_seed, tint))
    variants = [image, image.transpose(Image.FLIP_LEFT_RIGHT), image.rotate(15), image.transpose(Image.FLIP_TOP_BOTTOM)]
    for copy, position in enumerate(positions):
        variants[copy % len(variants)].save(folder / f"_{position}_{photo_seed * 10 + copy}.jpeg")


def test_source_photos_are_recovered_even_when_file_names_mix_them(tmp_path):
    tints = [(0, 0, 0), (-40, 10, 30), (30, -30, -10)]
    for photo, tint in enumerate(tints):  # position i does not identify the photo, as in the real files
        _write_augmented_copies(tmp_path, photo, tint, positions=[(photo + k) % 3 for k in range(4)])
    eosinophils = [LabelledImage(path, 0, group_for(path, "EOSINOPHIL")) for path in sorted(tmp_path.iterdir())]
    assert photos_in_class(eosinophils) == 3
    groups = {}
    for sample in group_by_source(eosinophils):
        groups.setdefault(sample.group, set()).add(int(sample.path.stem.split("_")[2]) // 10)
    assert sorted(map(sorted, groups.values())) == [[0], [1], [2]]
