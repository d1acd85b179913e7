"""Hyperparameter search with Optuna, nested inside each fold (``grid.sh --search optuna``).

One Optuna study per fold: every trial trains the recipe's model on that fold's training
speakers with the trial's values (``./run.sh --stage 4 --stop_stage 4``) and is scored by the
**dev speakers' UA** of that fold (the best epoch's ``valid ua`` in ``train.log``: the dev UA of
``valid.ua.best.pth``, the checkpoint ser.sh deploys).  The fold's test speakers are never
decoded during the search.  The search is nested per fold, not one study over the mean dev UA of
all folds, because in a rotating protocol (``emodb_l2so``: fold k's dev pair is fold k+1's test
pair) the dev speakers of the other folds are this fold's test speakers: a value chosen on them
would have seen the test labels.  Then (``--final true``) each fold trains its own best values
with the recipe's seeds, and stages 5-7 score it once under the tag ``<name>_best``.

The search space is a YAML file (``--space``, default ``conf/search.yaml``)::

    base_config: conf/train.yaml          # every trial: this config with the sampled values
    params:                               # dotted key into the config (list items by index)
      optim_conf.lr: {low: 1.0e-4, high: 3.0e-3, log: true}       # float
      encoder_conf.dropout: {low: 0.0, high: 0.5}
      domain_heads.0.schedule_conf.gamma: {low: 0.5, high: 5.0}
      encoder_conf.channels: {choices: [32, 64, 128]}              # categorical
      max_epoch: {low: 10, high: 60, type: int}                    # integer

Optuna's storage is ``<expdir>/<name>/optuna.db`` (SQLite; one study ``<name>_<fold>`` per fold):
a search that stops resumes where it was, and ``--trials N`` is the number of finished trials
per fold wanted in total.  Written: ``<expdir>/<name>/trials/<fold>_t<N>/`` (each trial's
experiment; ``<fold>_t<N>.yaml`` its config, ``.log`` its run.sh output),
``<expdir>/<name>/best_<fold>.yaml`` (the best config of each fold) and
``<expdir>/<name>/best_params.json`` (per fold: best values, dev UA, trials, seconds), also
printed.  Options after ``--`` go to ``./run.sh`` (e.g. ``--folds "1 2"``, ``--norm speaker``).

``--fold-jobs N`` searches N folds at once (each trial is one training job, so N trainings run at
once: the CPU count on one machine, more on a cluster whose ``cmd.sh`` submits them).  The folds
are separate studies with separate trial directories, so the result is the one of N = 1 (same
sampler seed per study); the final runs stay one fold after another (they share one tag).  A fold
that fails, or Ctrl-C, ends the other folds after their current trial; a rerun resumes.

Usage (in a recipe)::

    ./grid.sh --search optuna --trials 20                     # stages 1-3, search, final run
    ./grid.sh --search optuna --trials 20 --fold_jobs 2       # two folds at once (2 CPU cores)
    python -m espnet_ser.bin.search --trials 20 --space conf/search.yaml -- --folds 1

Bad input (one line, exit status 1): a search space with an empty range or no parameter, a key
that is not in the base config, no finished trial in a fold.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

logger = logging.getLogger("espnet_ser.bin.search")


#: run.sh options that leave one model in a call: no baseline, extra configs, SVM or fusions (the
#: recipe's defaults may name them).
ONE_MODEL = ["--baseline_config", "", "--extra_configs", "", "--svm", "false", "--fusions", ""]


class SearchError(ValueError):
    """Bad search input (printed as one line by :func:`main`)."""


def load_space(path: Path) -> dict:
    """Read and check a search space file.

    Returns:
        ``{"base_config": Path, "params": {key: spec}}`` with each spec normalised to
        ``{"kind": "float"|"int"|"categorical", ...}``.

    Raises:
        SearchError: missing file, no parameter, an empty range, an unknown option.
    """
    path = Path(path)
    if not path.is_file():
        raise SearchError(f"search: --space {path}: no such file (see the module docstring for the format)")
    conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(conf, dict) or not isinstance(conf.get("params"), dict) or not conf["params"]:
        raise SearchError(f"search: {path}: needs 'params:' with at least one parameter to search")
    base = Path(conf.get("base_config", "conf/train.yaml"))
    params = {}
    for key, spec in conf["params"].items():
        where = f"search: {path}: params.{key}"
        if not isinstance(spec, dict):
            raise SearchError(f"{where}: expected {{low: .., high: ..}} or {{choices: [..]}}, got {spec!r}")
        unknown = set(spec) - {"low", "high", "log", "type", "choices", "step"}
        if unknown:
            raise SearchError(f"{where}: unknown field(s) {sorted(unknown)} (low, high, log, type, step, choices)")
        if "choices" in spec:
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                raise SearchError(f"{where}: empty range: choices must list at least one value, got {choices!r}")
            params[key] = {"kind": "categorical", "choices": choices}
            continue
        if "low" not in spec or "high" not in spec:
            raise SearchError(f"{where}: needs low and high (or choices)")
        low, high = spec["low"], spec["high"]
        kind = spec.get("type") or ("int" if isinstance(low, int) and isinstance(high, int) else "float")
        if kind not in ("int", "float"):
            raise SearchError(f"{where}: type {kind!r}: must be int or float")
        try:
            low_f, high_f = float(low), float(high)
        except (TypeError, ValueError):
            raise SearchError(f"{where}: low {low!r} / high {high!r} must be numbers") from None
        if not (math.isfinite(low_f) and math.isfinite(high_f)) or low_f >= high_f:
            raise SearchError(f"{where}: empty range: low {low} must be below high {high}")
        log = bool(spec.get("log", False))
        if log and low_f <= 0:
            raise SearchError(f"{where}: log: true needs low > 0, got {low}")
        params[key] = {"kind": kind, "low": int(low) if kind == "int" else low_f,
                       "high": int(high) if kind == "int" else high_f, "log": log}
        if "step" in spec:
            params[key]["step"] = spec["step"]
    return {"base_config": base, "params": params, "path": path}


def set_key(cfg: dict, dotted: str, value: Any, where: str = "") -> None:
    """Set ``a.b.0.c`` in a nested dict/list config (the parent must exist).

    Raises:
        SearchError: a part of the path that is not in the config.
    """
    parts = dotted.split(".")
    node: Any = cfg
    for i, part in enumerate(parts[:-1]):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SearchError(f"search: {where}params.{dotted}: {'.'.join(parts[:i + 1])} is not in the "
                              "base config") from None
    last = parts[-1]
    if isinstance(node, list):
        try:
            node[int(last)] = value
        except (IndexError, ValueError):
            raise SearchError(f"search: {where}params.{dotted}: no list item {last} in the base config") from None
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SearchError(f"search: {where}params.{dotted}: {'.'.join(parts[:-1])} is not a mapping in the base config")


def suggest(trial, params: Dict[str, dict]) -> Dict[str, Any]:
    """The trial's value of every parameter (Optuna's suggest_* API)."""
    values = {}
    for key, spec in params.items():
        if spec["kind"] == "categorical":
            values[key] = trial.suggest_categorical(key, spec["choices"])
        elif spec["kind"] == "int":
            values[key] = trial.suggest_int(key, spec["low"], spec["high"], log=spec["log"],
                                            step=spec.get("step", 1))
        else:
            values[key] = trial.suggest_float(key, spec["low"], spec["high"], log=spec["log"],
                                              step=spec.get("step"))
    return values


def trial_config(base: dict, values: Dict[str, Any], where: str = "") -> dict:
    """The base config with the trial's values."""
    cfg = copy.deepcopy(base)
    for key, value in values.items():
        set_key(cfg, key, value, where)
    return cfg


def dev_ua(train_log: Path) -> float:
    """Best dev UA over the epochs of a training log (the epoch of ``valid.ua.best.pth``).

    Raises:
        SearchError: no epoch reported a valid ua.
    """
    from espnet_ser.eval.plots import parse_train_log

    uas = [e["valid"]["ua"] for e in parse_train_log(train_log) if "ua" in e.get("valid", {})]
    if not uas:
        raise SearchError(f"search: {train_log}: no epoch reports valid ua (best_model_criterion valid ua max)")
    return max(uas)


def _last_option(args: Sequence[str], name: str, default: str) -> str:
    value = default
    for i, a in enumerate(args[:-1]):
        if a == f"--{name}":
            value = args[i + 1]
    return value


def _folds(run_args: Sequence[str]) -> List[str]:
    folds = _last_option(run_args, "folds", "")
    if folds:
        return [f"fold{k}" for k in folds.split()]
    datadir = Path(_last_option(run_args, "datadir", "data"))
    protocol = _last_option(run_args, "protocol", "")
    roots = [datadir / "folds" / protocol] if protocol else sorted(p.parent for p in
                                                                    (datadir / "folds").glob("*/protocol.json"))
    if len(roots) != 1 or not roots[0].is_dir():
        raise SearchError(f"search: cannot tell the folds from {datadir}/folds ({len(roots)} protocols): "
                          "give --folds \"1 2 ...\" after --")
    names = sorted((p.name for p in roots[0].glob("fold*") if p.is_dir()),
                   key=lambda s: int(s[4:]) if s[4:].isdigit() else 0)
    if not names:
        raise SearchError(f"search: {roots[0]}: no fold directories; run stages 1-3 first")
    return names


def _run(cmd: List[str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as f:
        res = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"{' '.join(cmd[:1])} failed (exit {res.returncode}; {log}): {tail[0]}")


def search(space_path: Path, *, name: str = "optuna", trials: int = 10, seed: int = 0,
           run_args: Sequence[str] = (), final: bool = True, run_sh: str = "./run.sh",
           fold_jobs: int = 1) -> dict:
    """Run (or resume) the per-fold searches, write the best configs and, with ``final``, score them.

    Returns:
        The summary written to ``best_params.json``.
    """
    import optuna

    if trials < 1:
        raise SearchError(f"search: --trials {trials}: must be at least 1")
    if fold_jobs < 1:
        raise SearchError(f"search: --fold-jobs {fold_jobs}: must be at least 1 (folds searched at once)")
    space = load_space(space_path)
    base_path = space["base_config"]
    if not base_path.is_file():
        raise SearchError(f"search: {space_path}: base_config {base_path}: no such file")
    base = yaml.safe_load(base_path.read_text(encoding="utf-8"))
    # Every key must land in the base config before any training starts.
    trial_config(base, {k: 0 for k in space["params"]}, f"{space_path}: ")
    run_args = list(run_args)
    expdir = Path(_last_option(run_args, "expdir", "exp"))
    root = expdir / name
    root.mkdir(parents=True, exist_ok=True)
    stage = int(_last_option(run_args, "stage", "1"))
    if stage <= 3:
        logger.info("stages %d-3 (data, features, normalisation) once: %s --stop_stage 3", stage, run_sh)
        _run([run_sh, *run_args, "--stop_stage", "3", *ONE_MODEL], root / "prepare.log")
    folds = _folds(run_args)
    storage = f"sqlite:///{(root / 'optuna.db').resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    summary: Dict[str, Any] = {"space": str(space_path), "base_config": str(base_path), "storage": storage,
                               "objective": "dev-speaker UA of the fold (best epoch), maximised"}
    t_all = time.perf_counter()
    stop = threading.Event()  # set when another fold fails or on Ctrl-C: the others end after this trial

    # One storage object and every fold's study made here, before any thread: two threads creating
    # the schema of a new SQLite file at once collide ("table studies already exists").
    rdb = optuna.storages.RDBStorage(storage, engine_kwargs={"connect_args": {"timeout": 60}})
    studies = {fold: optuna.create_study(study_name=f"{name}_{fold}", storage=rdb, direction="maximize",
                                         sampler=optuna.samplers.TPESampler(seed=seed), load_if_exists=True)
               for fold in folds}

    def search_fold(fold: str) -> Dict[str, Any]:
        study = studies[fold]
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]

        def objective(trial):
            values = suggest(trial, space["params"])
            tag = f"{fold}_t{trial.number}"
            cfg_path = root / "trials" / f"{tag}.yaml"
            cfg_path.parent.mkdir(parents=True, exist_ok=True)
            cfg_path.write_text(f"# {name}: trial {trial.number} of {fold}: {values}\n"
                                + yaml.safe_dump(trial_config(base, values), sort_keys=False), encoding="utf-8")
            t0 = time.perf_counter()
            _run([run_sh, *run_args, "--stage", "4", "--stop_stage", "4", "--folds", fold[len("fold"):],
                  "--seeds", str(seed), "--train_config", str(cfg_path), "--tag", tag,
                  "--expdir", str(root / "trials"), *ONE_MODEL], root / "trials" / f"{tag}.log")
            ua = dev_ua(root / "trials" / tag / f"seed{seed}" / fold / "train.log")
            trial.set_user_attr("seconds", round(time.perf_counter() - t0, 1))
            logger.info("%s trial %d: dev UA %.2f%% (%.0f s) with %s", fold, trial.number, 100 * ua,
                        time.perf_counter() - t0, values)
            return ua

        todo = trials - len(done)
        if todo > 0:
            logger.info("%s: %d trial(s) to run (%d finished before; storage %s)", fold, todo, len(done), storage)
            study.optimize(objective, n_trials=todo, catch=(RuntimeError, SearchError),
                           callbacks=[lambda st, _t: st.stop() if stop.is_set() else None])
        finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not finished:
            raise SearchError(f"search: {fold}: no trial finished; see {root / 'trials'}/{fold}_t*.log")
        best = study.best_trial
        best_cfg = root / f"best_{fold}.yaml"
        best_cfg.write_text(f"# {name}: best of {len(finished)} trials on {fold} (dev UA {best.value:.4f}): "
                            f"{best.params}\n" + yaml.safe_dump(trial_config(base, best.params), sort_keys=False),
                            encoding="utf-8")
        print(f"search: {fold}: best dev UA {100 * best.value:.2f}% (trial {best.number} of {len(finished)}): "
              f"{best.params} -> {best_cfg}", flush=True)
        return {
            "best_params": best.params, "dev_ua": best.value, "best_trial": best.number,
            "config": str(best_cfg), "n_trials": len(finished),
            "n_failed": sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials),
            "seconds": round(sum(t.user_attrs.get("seconds", 0.0) for t in finished), 1),
        }

    # Folds are independent studies with their own trial directories (<fold>_t<N>), so up to
    # fold_jobs of them run at once (threads that wait on run.sh; SQLite takes the writes in turn).
    # Each trial is one training job, so fold_jobs is also the number of trainings at once; with
    # fold_jobs 1 the folds run one after another, and a failing fold stops the search there.
    with ThreadPoolExecutor(max_workers=fold_jobs) as pool:
        futures = {fold: pool.submit(search_fold, fold) for fold in folds}
        try:
            summary["folds"] = {fold: fut.result() for fold, fut in futures.items()}
        except BaseException:
            stop.set()
            for fut in futures.values():
                fut.cancel()  # folds not started yet
            raise
    summary["fold_jobs"] = fold_jobs
    summary["seconds_search"] = round(time.perf_counter() - t_all, 1)
    (root / "best_params.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if final:
        best_tag = f"{name}_best"
        for fold in folds:
            logger.info("%s: training the best values with the recipe's seeds -> %s", fold, expdir / best_tag)
            _run([run_sh, *run_args, "--stage", "4", "--stop_stage", "6", "--folds", fold[len("fold"):],
                  "--train_config", summary["folds"][fold]["config"], "--tag", best_tag, *ONE_MODEL],
                 root / f"final_{fold}.log")
        _run([run_sh, *run_args, "--stage", "7", "--stop_stage", "7",
              "--folds", " ".join(f[len("fold"):] for f in folds),
              "--train_config", summary["folds"][folds[0]]["config"], "--tag", best_tag, *ONE_MODEL],
             root / "final_report.log")
        summary["final"] = str(expdir / best_tag)
        (root / "best_params.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"search: the best values of each fold scored on its test speakers: {expdir / best_tag}/results.json")
    print(f"search: {root / 'best_params.json'}")
    return summary


def get_parser() -> argparse.ArgumentParser:
    """Command-line options (options after ``--`` go to ./run.sh)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--space", type=Path, default=Path("conf/search.yaml"), help="search space YAML")
    p.add_argument("--trials", type=int, default=10, help="finished trials per fold (in total, with a resumed search)")
    p.add_argument("--name", default="optuna", help="search name: <expdir>/<name>/, study <name>_<fold>")
    p.add_argument("--seed", type=int, default=0, help="training seed of the trials and the sampler's seed")
    p.add_argument("--final", choices=("true", "false"), default="true",
                   help="train each fold's best values with the recipe's seeds and score them (<name>_best)")
    p.add_argument("--fold-jobs", type=int, default=1,
                   help="folds searched at once (one training each; e.g. the CPU count on one machine)")
    p.add_argument("--run-sh", default="./run.sh", help="the recipe's run.sh")
    p.add_argument("run_args", nargs=argparse.REMAINDER, help="-- then options of ./run.sh")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; prints errors as one line and returns non-zero."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    run_args = args.run_args[1:] if args.run_args[:1] == ["--"] else args.run_args
    try:
        search(args.space, name=args.name, trials=args.trials, seed=args.seed, run_args=run_args,
               final=args.final == "true", run_sh=args.run_sh, fold_jobs=args.fold_jobs)
    except ImportError as exc:
        print(f"search: {exc}: optuna is not installed (tools/install.sh installs tools/requirements.txt)",
              file=sys.stderr)
        return 1
    except (SearchError, RuntimeError, FileNotFoundError) as exc:
        msg = str(exc).replace("\n", " ")
        print(msg if msg.startswith("search") else f"search: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
