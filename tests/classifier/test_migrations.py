"""The data migration that renames stored ``cell_*`` metric keys to ``photo_*``."""

import importlib

rename = importlib.import_module("classifier.migrations.0004_metrics_photo_keys").renamed


def test_old_metric_keys_are_renamed_in_every_evaluation_and_the_validation():
    old = {
        "evaluation": {
            "TEST": {
                "accuracy": 0.9,
                "cells_correct": 66,
                "cells_total": 71,
                "per_cell": [{"cell": "MONOCYTE/source-1", "true": "MONOCYTE", "images": 155}],
                "wrong_cells": [{"cell": "MONOCYTE/source-1", "voted": "NEUTROPHIL"}],
            }
        },
        "validation": {"accuracy": 0.95, "cells_correct": 60, "cells_total": 61},
        "full_size": {"n_pairs": 71},
    }
    new = rename(old)
    assert new["evaluation"]["TEST"] == {
        "accuracy": 0.9,
        "photos_correct": 66,
        "photos_total": 71,
        "per_photo": [{"photo": "MONOCYTE/source-1", "true": "MONOCYTE", "images": 155}],
        "wrong_photos": [{"photo": "MONOCYTE/source-1", "voted": "NEUTROPHIL"}],
    }
    assert new["validation"] == {"accuracy": 0.95, "photos_correct": 60, "photos_total": 61}
    assert new["full_size"] == {"n_pairs": 71}
    assert rename(new) == new  # metrics already in the new names are left as they are
