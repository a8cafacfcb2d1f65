"""``modeq separable`` on the command line."""

import re

import numpy as np

from modeq.cli import main


def final_cosines(output: str) -> dict[str, list[float]]:
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^(.*?)\s+(\d+)((?:\s+-?\d\.\d{4})+)$", line)
        if match:
            rows[match.group(1).strip()] = [float(v) for v in match.group(3).split()]
    return rows


def test_runs_chosen_optimizers_on_a_builtin_data_set(capsys, tmp_path):
    plot = tmp_path / "bias.png"
    status = main(["separable", "--data", "gaussian", "--n", "12", "--d", "30", "--steps", "20000",
                   "--opt", "signum", "--opt", "ngd:lr=0.2", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert status == 0 and plot.stat().st_size > 0
    rows = final_cosines(out)
    (signum_l2, signum_linf), (gd_l2, gd_linf) = rows["Signum (β=0.9)"], rows["normalized GD"]
    assert signum_linf > signum_l2 and gd_l2 > gd_linf


def test_reads_a_csv_file(capsys, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 4))
    y = np.where(x @ [1.0, -2.0, 0.5, 1.0] > 0, 1, 0)
    path = tmp_path / "points.csv"
    np.savetxt(path, np.column_stack([y, x]), delimiter=",", header="label,a,b,c,d", comments="")
    status = main(["separable", "--data", str(path), "--label-column", "0", "--steps", "500",
                   "--opt", "adam:batch=2,sampling=replace", "--reference", "l2", "linf", "l1"])
    out = capsys.readouterr().out
    assert status == 0 and "N=10, d=4" in out
    assert len(final_cosines(out)["Adam (batch 2, replace; β1=0.9, β2=0.99)"]) == 3


def test_errors_are_one_clear_line(capsys, tmp_path):
    (tmp_path / "overlap.csv").write_text("1,2,1\n-1,-2,1\n")
    cases = [
        (["--data", str(tmp_path / "overlap.csv")], "not linearly separable"),
        (["--opt", "adam:momentum=0.9"], "expected KEY=VALUE with KEY among"),
        (["--opt", "rmsprop"], "unknown optimizer 'rmsprop'"),
        (["--opt", "signum:beta=1.2"], "beta must lie in [0, 1)"),
        (["--data", "nowhere.csv"], "existing CSV file"),
    ]
    for argv, message in cases:
        assert main(["separable", *argv, "--steps", "10"]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
