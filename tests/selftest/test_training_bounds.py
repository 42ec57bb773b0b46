"""The training bounds on real digits separate a model that learns from one that cannot.

The answer key and the correct implementations in other styles must pass the
digits checks (``test_fairness`` grades them on everything); here, models with
correct shapes but broken learning (``implementations/broken_models/``) must
fail both digits checks, each with its own message.
"""

import pytest

from tests.selftest.graded_runs import IMPLEMENTATIONS, grade

BROKEN_MODELS = IMPLEMENTATIONS / "broken_models"
DIGITS_TESTS = {"test_ThreeLayerConvNet_overfits_100_digits_images",
                "test_ThreeLayerConvNet_one_epoch_digits_train_accuracy"}

pytestmark = pytest.mark.timeout(600)


def broken_model_names():
    return sorted(p.name for p in BROKEN_MODELS.iterdir() if (p / "classifiers" / "cnn.py").exists())


def test_answer_key_passes_the_digits_checks(tmp_path):
    verdicts = [v for v in grade("answer_key", tmp_path) if v.name in DIGITS_TESTS]  # the shared grading
    assert {v.name for v in verdicts} == DIGITS_TESTS
    assert all(v.outcome == "passed" for v in verdicts), [(v.name, v.message) for v in verdicts]


@pytest.mark.parametrize("model", broken_model_names())
def test_broken_model_fails_the_digits_checks(tmp_path, model):
    verdicts = grade(str(BROKEN_MODELS / model), tmp_path, select="ThreeLayerConvNet and digits")
    assert {v.name for v in verdicts} == DIGITS_TESTS
    passed = [v.name for v in verdicts if v.outcome != "failed"]
    assert not passed, f"{model} is not caught by {passed}"
    assert all("expected" in v.message for v in verdicts), [v.message[:300] for v in verdicts]


def test_plots_command_saves_both_pictures(tmp_path, capsys):
    """``python -m convgrader plots`` trains row 11 on the digits and writes two readable PNGs."""
    import matplotlib.image

    from convgrader.cli import main

    status = main(["plots", "--impl", "answer_key", "--out", str(tmp_path), "--epochs", "3", "--quiet"])
    assert status == 0
    for name in ("loss_accuracy.png", "first_layer_filters.png"):
        image = matplotlib.image.imread(tmp_path / name)
        assert image.shape[0] >= 300 and image.shape[1] >= 300
        assert image.std() > 0.05  # not a blank canvas
    assert "saved" in capsys.readouterr().out


def test_plots_command_explains_an_unfinished_model(tmp_path, capsys):
    from convgrader.cli import main

    status = main(["plots", "--impl", "student_impl", "--out", str(tmp_path), "--quiet"])
    assert status == 1
    assert "cannot be trained yet" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
