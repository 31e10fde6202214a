"""The decode benchmark, on a folder of generated images laid out as the datasets are."""

import pytest

from benchmarks import decode
from tests.factories import image_bytes, smear_rgb


@pytest.fixture
def kaggle_like(tmp_path, monkeypatch):
    dataset = tmp_path / "dataset2-master"
    for index in range(3):
        path = dataset / "images" / "TRAIN" / "MONOCYTE" / f"_{index}.jpeg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image_bytes("JPEG", rgb=smear_rgb()))
    monkeypatch.setenv("HEMATOVISION_DATASET_DIR", str(dataset))
    monkeypatch.delenv("HEMATOVISION_PBC_DIR", raising=False)
    return dataset


def test_it_prints_both_costs_for_each_source_it_finds(kaggle_like, capsys):
    decode.main()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # the header and Kaggle TRAIN: no originals folder, no PBC here
    name, decoded, verified = lines[1].split("  ")[0], *map(float, lines[1].split()[3:5])
    assert name.startswith("Kaggle TRAIN") and decoded > 0 and verified > 0
    assert lines[1].endswith("(3 files)")
