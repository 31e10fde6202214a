"""Grouped k-fold: every source group held out exactly once, never on both sides of a fold."""

from collections import Counter
from pathlib import Path

import pytest

from ml import CLASS_NAMES
from ml.cross_validation import grouped_folds
from ml.data import LabelledImage


def make_samples(groups_per_class: int = 10, images_per_group: int = 3) -> list[LabelledImage]:
    return [
        LabelledImage(path=Path(f"{name}/{group}_{n}.jpeg"), label=label, group=f"{name}/source-{group}")
        for label, name in enumerate(CLASS_NAMES)
        for group in range(groups_per_class)
        for n in range(images_per_group)
    ]


def test_every_image_is_held_out_exactly_once():
    samples = make_samples()
    held_out = Counter(sample.path for _, fold in grouped_folds(samples, 5, seed=1) for sample in fold)
    assert set(held_out) == {sample.path for sample in samples}
    assert set(held_out.values()) == {1}


def test_no_source_group_is_on_both_sides_of_a_fold():
    for train, held_out in grouped_folds(make_samples(), 5, seed=1):
        assert {s.group for s in train}.isdisjoint({s.group for s in held_out})
        assert len(train) + len(held_out) == 4 * 10 * 3


def test_every_fold_holds_out_every_class():
    for _, held_out in grouped_folds(make_samples(), 5, seed=1):
        assert sorted({sample.label for sample in held_out}) == [0, 1, 2, 3]


def test_the_seed_decides_the_folds():
    samples = make_samples()
    first = [{s.group for s in fold} for _, fold in grouped_folds(samples, 5, seed=1)]
    assert first == [{s.group for s in fold} for _, fold in grouped_folds(samples, 5, seed=1)]
    assert first != [{s.group for s in fold} for _, fold in grouped_folds(samples, 5, seed=2)]


def test_one_fold_is_refused():
    with pytest.raises(ValueError, match="at least 2 folds"):
        grouped_folds(make_samples(), 1, seed=1)
