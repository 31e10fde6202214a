"""The rules of a lab's own model: when it is activated, and when a lab has too few cells for one."""

from ml.adaptation import MAX_SHARED_DROP, decide, too_few_cells


def _sets(lab: float, kaggle: float, pbc: float, lab_log_loss: float = 0.5) -> dict:
    sets = {
        name: {"accuracy": value, "n_images": 10}
        for name, value in {"lab held-out": lab, "kaggle TEST": kaggle, "pbc held-out": pbc}.items()
    }
    sets["lab held-out"]["log_loss"] = lab_log_loss
    return sets


SHARED = ["kaggle TEST", "pbc held-out"]


def test_better_on_the_lab_and_within_a_point_on_the_shared_sets_is_activated():
    decision = decide("lab held-out", SHARED, _sets(0.70, 0.87, 0.98), _sets(0.95, 0.87 - MAX_SHARED_DROP, 0.99))
    assert decision.activate and decision.reasons[-1] == "Activated for this lab."


def test_as_accurate_on_the_lab_is_better_only_when_surer_of_the_true_classes():
    unsure = decide("lab held-out", SHARED, _sets(1.0, 0.87, 0.98, 0.3), _sets(1.0, 0.90, 0.99, 0.4))
    surer = decide("lab held-out", SHARED, _sets(1.0, 0.87, 0.98, 0.3), _sets(1.0, 0.90, 0.99, 0.1))
    assert not unsure.activate and "(not better: log loss 0.300 now, 0.400)" in unsure.reasons[0]
    assert surer.activate and "(better: log loss 0.300 now, 0.100)" in surer.reasons[0]


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
