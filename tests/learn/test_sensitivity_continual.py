"""LR sensitivity and run classes; continual-evaluation metrics against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stabkit.errors import InputError
from stabkit.learn.continual import ContinualEvaluator
from stabkit.learn.sensitivity import classify_run, lr_sensitivity


def test_lr_sensitivity_statistic_by_hand():
    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    losses = {1e-3: 1.5, 1e-2: 0.5, 1e-1: 0.2, 1.0: float("nan")}
    r = lr_sensitivity(lambda lr: {"final_loss": losses[lr], "initial_loss": 2.0}, lrs)
    # capped: 1.5, 0.5, 0.2, 2.0 (NaN counts as l0); l* = 0.2
    assert r.sensitivity == pytest.approx(((1.5 - 0.2) + 0.3 + 0 + 1.8) / 4)
    assert r.optimal_lr == 1e-1 and r.max_stable_lr == 1e-1 and r.min_catastrophic_lr == 1.0
    assert r.classes == ("stable", "stable", "stable", "catastrophic divergence")
    frame = r.to_frame()
    assert list(frame["class"])[-1] == "catastrophic divergence"


def test_flat_curve_has_zero_sensitivity_and_failures_are_kept():
    def train(lr):
        if lr > 0.5:
            raise RuntimeError("out of memory")
        return 0.3

    r = lr_sensitivity(train, [0.01, 0.1, 1.0], initial_loss=2.0)
    assert r.status == "partial" and "RuntimeError" in r.errors[2]
    assert r.classes[2] == "error"
    r = lr_sensitivity(lambda lr: 0.3, [0.01, 0.1, 1.0], initial_loss=2.0)
    assert r.sensitivity == 0.0


def test_controlled_divergence_is_told_from_catastrophic():
    stable = {"final_loss": 0.2, "initial_loss": 2.3, "logit_norm_history": [1, 2, 3, 3.1, 3.2]}
    controlled = {"final_loss": 0.6, "initial_loss": 2.3, "logit_norm_history": [1, 5, 20, 60, 200]}
    catastrophic = {"final_loss": 9.0, "initial_loss": 2.3}
    nan_mid = {"final_loss": 0.1, "loss_history": [2.3, float("inf"), 0.1]}
    assert classify_run(stable) == "stable"
    assert classify_run(controlled) == "controlled divergence"
    assert classify_run(catastrophic) == "catastrophic divergence"
    assert classify_run(nan_mid) == "catastrophic divergence"
    # logits that grew but then settled are not diverging
    settled = {"final_loss": 0.2, "initial_loss": 2.3, "logit_norm_history": [1, 50, 60, 60, 59]}
    assert classify_run(settled) == "stable"


def test_lr_sensitivity_on_gradient_descent_of_a_quadratic():
    # GD on l(w) = w^2 from w = 1 for 50 steps: diverges iff lr > 1 (= 2 / lambda, lambda = 2)
    def train(lr):
        w, hist = 1.0, []
        for _ in range(50):
            hist.append(w * w)
            w -= lr * 2 * w
        return {"final_loss": w * w, "initial_loss": 1.0, "loss_history": hist}

    lrs = np.geomspace(0.01, 2.0, 12)
    r = lr_sensitivity(train, lrs)
    for lr, cls in zip(lrs, r.classes, strict=True):
        assert (cls == "catastrophic divergence") == (lr > 1.0)
    assert r.min_catastrophic_lr == pytest.approx(lrs[lrs > 1][0])
    assert r.max_stable_lr == pytest.approx(lrs[lrs <= 1][-1])


def test_lr_sensitivity_bad_input():
    with pytest.raises(InputError, match="increasing"):
        lr_sensitivity(lambda lr: 1.0, [0.1, 0.01], initial_loss=1.0)
    with pytest.raises(InputError, match="initial_loss"):
        lr_sensitivity(lambda lr: 1.0, [0.01, 0.1])
    with pytest.raises(InputError, match="final_loss"):
        lr_sensitivity(lambda lr: {"loss": 1.0}, [0.01, 0.1], initial_loss=1.0)


class _Scripted:
    """A 'model' whose accuracy on each task follows a script indexed by iteration."""

    def __init__(self, script):
        self.script = script
        self.iteration = 0

    def metric(self, model, data):
        return self.script[data][self.iteration - 1]


def test_continual_metrics_by_hand():
    # task a trained for iterations 1-4, task b for 5-8; a drops right after the switch
    script = {
        "a": [0.2, 0.6, 0.9, 0.95, 0.3, 0.5, 0.8, 0.9],
        "b": [None, None, None, None, 0.1, 0.5, 0.8, 0.9],
    }
    fake = _Scripted(script)
    ev = ContinualEvaluator({"a": "a", "b": "b"}, metric=fake.metric, window=3)
    for task, its in (("a", range(1, 5)), ("b", range(5, 9))):
        ev.start_task(task)
        for it in its:
            fake.iteration = it
            ev.evaluate(object())
        ev.end_task()
    r = ev.result()
    assert r.tasks == ("a", "b") and list(r.iterations) == list(range(1, 9))
    assert np.isnan(r.accuracy[0, 1]) and r.accuracy[4, 1] == 0.1
    # min-ACC of a after its training (iterations 5-8) is 0.3: the stability gap
    assert r.min_accuracy[0] == pytest.approx(0.3) and r.average_min_accuracy == pytest.approx(0.3)
    assert r.final_accuracy == pytest.approx(0.9)
    assert r.forgetting == pytest.approx(0.95 - 0.9)
    # WC-ACC at the end: (1/2) * 0.9 + (1/2) * 0.3
    assert r.worst_case_accuracy == pytest.approx(0.6)
    # WF(3) of a: largest drop within 3 consecutive evaluations: 0.95 -> 0.3
    assert r.windowed_forgetting[0] == pytest.approx(0.65)
    assert r.windowed_plasticity[1] == pytest.approx(0.7)  # 0.1 -> 0.8
    # LCA: mean of the first 3 accuracies while trained
    np.testing.assert_allclose(
        r.learning_curve_area, [(0.2 + 0.6 + 0.9) / 3, (0.1 + 0.5 + 0.8) / 3]
    )
    assert r.worst_case_accuracy < r.final_accuracy
    assert len(r.to_frame()) == 8 + 4


def test_continual_accuracy_metric_on_a_torch_model_and_errors():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 1, 1])
    ev = ContinualEvaluator({"t": (x, y)})
    with pytest.raises(InputError, match="start_task"):
        ev.evaluate(model)
    ev.start_task("t")
    assert ev.evaluate(model) == {"t": pytest.approx(2 / 3)}
    with pytest.raises(InputError, match="unknown task"):
        ev.start_task("u")
    with pytest.raises(InputError, match="already trained"):
        ev.start_task("t")
    assert math.isnan(ev.result().average_min_accuracy)
