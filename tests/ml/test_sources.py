"""Labelled sources: the two layouts, their errors, the fixed held-out fifth and the per-class cap."""

from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from ml import CLASS_NAMES
from ml.data import DatasetError
from ml.sources import (
    Source,
    cap_per_class,
    evaluation_images,
    is_held_out,
    other_evaluation_images,
    parse_source,
    parse_sources,
    read_class_folders,
    training_images,
)
from tests.factories import smear_rgb
from tests.ml.conftest import write_tiny_split


def write_class_folders(root: Path, per_class: int = 10, folder_names=None) -> Path:
    """``root/<class>/<PREFIX>_<n>.jpg``, class folders named as given (PBC's lower case by default)."""
    for label, name in enumerate(folder_names or [name.lower() for name in CLASS_NAMES]):
        folder = root / name
        folder.mkdir(parents=True)
        for index in range(per_class):
            Image.fromarray(smear_rgb(seed=label * 100 + index)).save(folder / f"{name[:2].upper()}_{index}.jpg")
    return root


def test_class_folders_are_read_in_any_case(tmp_path):
    root = write_class_folders(
        tmp_path, per_class=3, folder_names=["Eosinophil", "LYMPHOCYTE", "monocyte", "neutrophil"]
    )
    images = read_class_folders(Source("lab", root))
    assert Counter(image.label for image in images) == {0: 3, 1: 3, 2: 3, 3: 3}
    assert {image.source for image in images} == {"lab"}
    assert len({image.group for image in images}) == 12  # every file is its own cell


def test_an_unknown_class_folder_is_skipped_with_a_warning_that_names_it(tmp_path):
    root = write_class_folders(tmp_path, per_class=2, folder_names=["eosinophil", "smudge"])
    with pytest.warns(UserWarning, match="skipping folder 'smudge'"):
        images = read_class_folders(Source("lab", root))
    assert [image.label for image in images] == [0, 0]


def test_the_other_kinds_are_read_from_their_pbc_folder_names_and_held_out_by_the_same_rule(tmp_path):
    root = write_class_folders(
        tmp_path,
        per_class=12,
        folder_names=[
            "eosinophil",
            "lymphocyte",
            "monocyte",
            "neutrophil",
            "basophil",
            "ig",
            "erythroblast",
            "platelet",
        ],
    )
    images = read_class_folders(Source("pbc", root))
    kinds = Counter(image.class_name for image in images if image.is_other)
    assert kinds == {"BASOPHIL": 12, "IMMATURE_GRANULOCYTE": 12, "ERYTHROBLAST": 12, "PLATELET": 12}
    _, four = evaluation_images(Source("pbc", root))
    name, others = other_evaluation_images(Source("pbc", root))
    assert name == "pbc other held-out" and others and not any(image.is_other for image in four)
    assert all(image.is_other and is_held_out(image.path) for image in others)
    trained = training_images(Source("pbc", root))
    assert {image.path for image in trained}.isdisjoint(image.path for image in others)
    assert {image.class_name for image in trained if image.is_other} == set(kinds)


def test_a_source_of_other_kinds_only_is_a_clear_error(tmp_path):
    root = write_class_folders(tmp_path, per_class=2, folder_names=["basophil", "platelet"])
    with pytest.raises(DatasetError, match="holds no images in class folders"):
        read_class_folders(Source("lab", root))


def test_a_source_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "eosinophil").mkdir()
    with pytest.raises(DatasetError, match="Source lab: .* holds no images in class folders"):
        read_class_folders(Source("lab", tmp_path))


def test_a_missing_source_folder_names_the_setting(tmp_path):
    with pytest.raises(
        DatasetError, match="Source pbc: folder .*nowhere does not exist.*HEMATOVISION_TRAINING_SOURCES"
    ):
        parse_source(f"pbc={tmp_path / 'nowhere'}")


def test_source_text_gives_name_cap_and_path(tmp_path):
    assert parse_source(f"pbc:30={tmp_path}") == Source("pbc", tmp_path, 30)
    assert parse_source(str(tmp_path)) == Source(tmp_path.name, tmp_path, None)
    assert parse_source(parse_source(f"pbc:30={tmp_path}").as_setting()) == Source("pbc", tmp_path, 30)
    with pytest.raises(DatasetError, match="positive number"):
        parse_source(f"pbc:x={tmp_path}")


def test_sources_need_distinct_names_and_at_least_one(tmp_path):
    with pytest.raises(DatasetError, match="names must differ"):
        parse_sources(f"a={tmp_path},a={tmp_path}")
    with pytest.raises(DatasetError, match="No training source"):
        parse_sources(" , ")


def test_the_layout_is_recognised(tmp_path):
    assert Source("kaggle", write_tiny_split(tmp_path / "kaggle")).layout == "split"
    assert Source("pbc", write_class_folders(tmp_path / "pbc")).layout == "class_folders"


def test_the_held_out_rule_is_a_fixed_function_of_the_file_name():
    # Pinned, so that a change of rule (which would move PBC cells between training and evaluation) fails here.
    names = ["BNE_100878.jpg", "BNE_101082.jpg", "BNE_102912.jpg", "BNE_105060.jpg", "BNE_105090.jpg"]
    assert [is_held_out(Path(name)) for name in names] == [False, True, False, False, True]
    assert is_held_out(Path("/elsewhere/BNE_101082.jpg"))  # the folder does not count


def test_held_out_and_training_images_of_a_class_folder_source_are_disjoint(tmp_path):
    source = Source("lab", write_class_folders(tmp_path, per_class=40))
    name, held_out = evaluation_images(source)
    training = training_images(source)
    assert name == "lab held-out"
    assert {image.path for image in held_out}.isdisjoint({image.path for image in training})
    assert len(held_out) + len(training) == 160
    assert all(is_held_out(image.path) for image in held_out)


def test_a_split_source_evaluates_on_its_test_split_or_has_no_evaluation_set(tmp_path):
    root = write_tiny_split(tmp_path / "lab")
    assert evaluation_images(Source("lab", root)) is None  # a reviewed-images export has no TEST
    write_tiny_split(root, split="TEST")
    name, images = evaluation_images(Source("lab", root))
    assert name == "lab TEST" and all(image.path.parent.parent.name == "TEST" for image in images)
    assert all(image.group.startswith("lab:") for image in images)


def test_a_smaller_cap_draws_a_subset_of_a_larger_one(tmp_path):
    images = read_class_folders(Source("lab", write_class_folders(tmp_path, per_class=20)))
    small, large = cap_per_class(images, 3), cap_per_class(images, 10)
    assert Counter(image.label for image in small) == {label: 3 for label in range(4)}
    assert set(small) <= set(large)


def test_pbc_held_out_fifth_holds_about_a_fifth_of_every_class(pbc_dir):
    source = Source("pbc", pbc_dir)
    _, held_out = evaluation_images(source)
    training = training_images(source)
    assert {image.path for image in held_out}.isdisjoint({image.path for image in training})
    for label in range(len(CLASS_NAMES)):
        of_class = sum(image.label == label for image in held_out)
        total = of_class + sum(image.label == label for image in training)
        assert 0.17 <= of_class / total <= 0.23, CLASS_NAMES[label]


def test_kaggle_test_is_grouped_one_photo_per_group(dataset_dir):
    _, images = evaluation_images(Source("kaggle", dataset_dir))
    assert len(images) == 2487
    assert 65 <= len({image.group for image in images}) <= 75  # about 71 photos, recovered by colour
