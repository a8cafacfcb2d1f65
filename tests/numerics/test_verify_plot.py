"""The verification figure reads at a glance: title, reference slopes, tick labels that do not overlap,
and a message instead of an empty frame."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from modeq.numerics.report import VerificationReport, assess, classify  # noqa: E402


def report(hs, errors_per_order, loss="(3/2 - 2*x*y)**2/2", values=None):
    hs = np.asarray(hs)
    orders = []
    for k, errors in enumerate(errors_per_order):
        errors = np.asarray(errors, dtype=float)
        n = len(errors)
        reasons = classify(errors, np.full(n, 1e-14), np.ones(n), np.zeros(n), np.zeros(n, dtype=bool))
        orders.append(assess(k, k + 1, hs, errors, reasons, 0.3))
    return VerificationReport("adam", "stationary", "history", values or dict(beta=0.9, rho=0.95, eps=1e-3),
                              (2.8, 3.5), 1.0, tuple(hs), tuple(orders), 0.3, 0.0, (), loss)


def visible_labels(fig, axis):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    low, high = sorted(axis.get_view_interval())
    return [t.label1.get_window_extent(renderer) for t in axis.get_major_ticks() + axis.get_minor_ticks()
            if t.label1.get_visible() and t.label1.get_text() and low <= t.get_loc() <= high]


@pytest.mark.parametrize("count", [3, 5, 12])
def test_tick_labels_never_overlap(count):
    hs = 0.1 * 0.5 ** np.arange(count)
    fig = report(hs, [0.1 * 3.0**k * hs ** (k + 1) for k in range(3)]).plot()
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        boxes = visible_labels(fig, axis)
        assert len(boxes) >= 2
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(fig)


def test_narrow_error_range_does_not_crowd_the_y_labels():
    hs = np.array([0.01, 0.009, 0.008, 0.007])
    fig = report(hs, [1e-3 * hs / 0.01]).plot()
    boxes = visible_labels(fig, fig.axes[0].yaxis)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(fig)


def test_title_names_loss_start_and_hyperparameters_and_reference_lines_are_drawn():
    hs = 0.05 * 0.5 ** np.arange(5)
    fig = report(hs, [0.1 * hs, 0.1 * hs**2]).plot()
    title = fig._suptitle.get_text()
    assert "adam on E = (3/2 - 2*x*y)**2/2" in title
    assert "θ₀ = (2.8, 3.5)" in title and "beta=0.9, rho=0.95, eps=0.001" in title
    ax = fig.axes[0]
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":" and len(line.get_xdata())]
    assert len(dotted) == 2  # one reference line h^(N+1) per order
    for line, p in zip(dotted, (1, 2)):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert np.allclose(np.diff(np.log(y)) / np.diff(np.log(x)), p)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "order 0: slope 1.00 (expected 1), confirmed"
    plt.close(fig)


def test_a_long_loss_is_shortened_in_the_title():
    loss = " + ".join(f"(x{i} - {i})**2" for i in range(60))
    title = report([0.1, 0.05, 0.025], [[1e-2, 5e-3, 2.5e-3]], loss=loss).title()
    assert all(len(line) <= 80 for line in title.splitlines()) and "…" in title


def test_every_run_diverged_gives_a_message_not_an_empty_frame(tmp_path):
    hs = [0.05, 0.025, 0.0125]
    fig = report(hs, [[np.inf] * 3, [np.inf] * 3]).plot(tmp_path / "bad.png")
    ax = fig.axes[0]
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "every run diverged" in texts and "order 1: FIELD BLOWS UP" in texts
    assert not [line for line in ax.get_lines() if len(line.get_xdata())]
    assert (tmp_path / "bad.png").stat().st_size > 0
    plt.close(fig)
