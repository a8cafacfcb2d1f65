"""``modeq separable``: which max-margin direction do optimizers reach on separable data?

Runs optimizers on a built-in data set or a CSV file and prints the final
cosine of ``w_T`` to each reference direction (see :mod:`modeq.separable`).

    modeq separable --data rademacher --opt adam --opt inc-adam:beta2=0.999 --steps 100000
    modeq separable --data points.csv --opt "signum:batch=5,beta=0.99,lr=0.01" --plot bias.png
"""

from __future__ import annotations

import csv
import inspect
from pathlib import Path

#: Optimizer names on the command line and their factories in modeq.separable.
_FACTORIES = {"gd": "gd", "ngd": "gd", "sgd": "sgd", "adam": "adam", "inc-adam": "incremental_adam",
              "signum": "signum", "proxy": "adam_proxy", "inc-adam-epochs": "incremental_adam_epochs"}
_DATASETS = {"gaussian": "gaussian_clusters", "rademacher": "generalized_rademacher",
             "shifted-diagonal": "shifted_diagonal"}
_KEYS = {"batch": "batch_size"}
_DEFAULT_OPTS = ("ngd", "adam", "inc-adam", "signum", "proxy")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "separable", help="implicit bias of GD/Adam/Signum on linearly separable data",
        description="Run optimizers on the logistic loss of separable data and print the cosine of the final "
                    "iterate to each max-margin direction.")
    parser.add_argument("--data", default="gaussian",
                        help=f"{', '.join(_DATASETS)}, or a CSV file (one sample per row) (default gaussian)")
    parser.add_argument("--n", type=int, help="number of samples of a built-in data set")
    parser.add_argument("--d", type=int, help="dimension of a built-in data set")
    parser.add_argument("--seed", type=int, help="random seed of a built-in data set")
    parser.add_argument("--label-column", type=int, default=-1, help="label column of a CSV file (default last)")
    parser.add_argument("--opt", dest="opts", metavar="NAME[:KEY=VALUE,...]", action="append",
                        help=f"an optimizer: {', '.join(_FACTORIES)}; keys lr, decay, beta1, beta2, beta, eps, "
                             f"batch, sampling, seed (repeatable; default {' '.join(_DEFAULT_OPTS)})")
    parser.add_argument("--steps", type=int, default=20_000, help="steps per optimizer (default 20000)")
    parser.add_argument("--reference", nargs="+", default=["l2", "linf"], metavar="REF",
                        help="directions to compare with: l2, linf, l1, proxy (default l2 linf)")
    parser.add_argument("--plot", type=Path, metavar="PATH", help="save the cosine curves to this image file")
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import separable as sep

    data = _dataset(sep, args)
    optimizers = [_optimizer(sep, spec) for spec in (args.opts or _DEFAULT_OPTS)]
    experiment = sep.run_experiment(data, optimizers, args.steps, references=args.reference)
    l2, linf = sep.max_margin(data, "l2"), sep.max_margin(data, "linf")
    print(f"{data.name}: N={data.n_samples}, d={data.dim}; ℓ2 margin {l2.margin:.4g} "
          f"({l2.support.size} support vectors), ℓ∞ margin {linf.margin:.4g} ({linf.support.size}); "
          f"cos(ℓ2, ℓ∞) = {sep.cosine(l2.direction, linf.direction):.4f}")
    if not linf.unique:
        print("note: the ℓ∞ max-margin direction is not unique here (a face of solutions); "
              "its cosine refers to one point of that face")
    print(f"final cosine of w_T to each direction after {args.steps} steps:")
    print(experiment.table())
    if args.plot is not None:
        experiment.plot(args.plot)
        print(f"plot saved to {args.plot}")
    return 0


def _dataset(sep, args):
    sizes = {key: value for key, value in (("n", args.n), ("d", args.d), ("seed", args.seed)) if value is not None}
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer (0, 1, 2, ...), got {args.seed}")
    if args.data in _DATASETS:
        return getattr(sep, _DATASETS[args.data])(**sizes)
    if sizes:
        raise ValueError("--n, --d and --seed apply to the built-in data sets, not to a CSV file")
    if not Path(args.data).exists():
        raise ValueError(f"--data must be one of {', '.join(_DATASETS)} or an existing CSV file, got {args.data!r}")
    width = _columns(Path(args.data))
    if width and not -width <= args.label_column < width:
        raise ValueError(f"--label-column {args.label_column} is not a column of {args.data}, which has {width} "
                         f"columns; give 0..{width - 1}, or -1 for the last")
    return sep.from_csv(args.data, label_column=args.label_column)


def _columns(path: Path) -> int:
    """The number of columns of the first non-empty row of a CSV file (0 if none)."""
    with path.open(newline="") as handle:
        return next((len(row) for row in csv.reader(handle) if any(cell.strip() for cell in row)), 0)


def _optimizer(sep, spec: str):
    """``adam:beta2=0.999,batch=5`` → ``sep.adam(beta2=0.999, batch_size=5)``."""
    name, _, settings = spec.partition(":")
    name = name.strip()
    if name not in _FACTORIES:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(_FACTORIES)}")
    factory = getattr(sep, _FACTORIES[name])
    parameters = inspect.signature(factory).parameters
    kwargs: dict[str, object] = {"normalized": True} if name == "ngd" else {}
    for item in filter(None, (part.strip() for part in settings.split(","))):
        key, sep_, text = item.partition("=")
        key = _KEYS.get(key.strip(), key.strip())
        if not sep_ or key not in parameters or key == "normalized":
            accepted = ", ".join("batch" if p == "batch_size" else p for p in parameters if p != "normalized")
            raise ValueError(f"{name}: expected KEY=VALUE with KEY among {accepted}, got {item!r}")
        kwargs[key] = _value(key, text.strip(), name)
    return factory(**kwargs)


def _value(key: str, text: str, name: str):
    if key == "sampling":
        return text
    try:
        return int(text) if key in ("batch_size", "seed") else float(text)
    except ValueError:
        raise ValueError(f"{name}: {key} must be a number, got {text!r}") from None
