"""The rules of a lab's own model: when it is activated, and when a lab has too few cells for one."""

from ml.adaptation import MAX_SHARED_DROP, decide, too_few_cells


def _sets(lab: float, kaggle: float, pbc: float) -> dict:
    return {
        name: {"accuracy": value, "n_images": 10}
        for name, value in {"lab held-out": lab, "kaggle TEST": kaggle, "pbc held-out": pbc}.items()
    }


SHARED = ["kaggle TEST", "pbc held-out"]


def test_better_on_the_lab_and_within_a_point_on_the_shared_sets_is_activated():
    decision = decide("lab held-out", SHARED, _sets(0.70, 0.87, 0.98), _sets(0.95, 0.87 - MAX_SHARED_DROP, 0.99))
    assert decision.activate and decision.reasons[-1] == "Activated for this lab."


def test_equal_on_the_lab_is_not_better():
    decision = decide("lab held-out", SHARED, _sets(0.9, 0.87, 0.98), _sets(0.9, 0.90, 0.99))
    assert not decision.activate and "(not better)" in decision.reasons[0]


def test_more_than_a_point_lost_on_one_shared_set_keeps_the_current_model():
    decision = decide("lab held-out", SHARED, _sets(0.7, 0.87, 0.98), _sets(0.99, 0.85, 0.99))
    assert not decision.activate
    assert "kaggle TEST: 87.0% now, 85.0% with the lab's model (more than 1 point of now)" in decision.reasons


def test_too_few_cells_names_every_short_class():
    counts = {"EOSINOPHIL": 4, "LYMPHOCYTE": 5, "MONOCYTE": 9, "BASOPHIL": 1}
    message = too_few_cells(counts, 5)
    assert "eosinophil 4" in message and "neutrophil 0" in message
    assert "lymphocyte" not in message and "basophil" not in message
    assert too_few_cells({name: 5 for name in ("EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL")}, 5) == ""
