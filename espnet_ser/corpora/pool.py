"""A pool of corpora for cross- and multi-corpus experiments, as one data directory.

Gao et al. train on one (or several) labelled source corpora and test on
other corpora, in other languages.  :func:`prepare_pool` prepares every named
corpus with its registered ``prepare_<corpus>`` (``espnet_ser.corpora.CORPORA``)
into ``<out>/corpora/<corpus>`` and writes their union ``<out>/all`` for the
task:

* ``emotion``: only the utterances whose label is one of ``emotions`` (default
  ang hap neu sad, the classes every corpus shares); the others are listed in
  ``all/skipped`` with the reason, and every corpus must keep at least two
  classes;
* ``arousal`` / ``valence``: ``utt2arousal`` / ``utt2valence`` of every
  labelled utterance from the corpus's label map (``maps/<corpus>.yaml``); a
  corpus whose map has no such section, or lacks a label the corpus uses, is
  a one-line error naming the map and the labels.

Utterances shorter than one segment of the segment input (``min_duration``,
Gao et al.'s 32 frames = 0.264 s at 16 kHz) are KEPT (the segment adapter
turns each into one zero-padded segment); they are counted in the summary
and the log so a recipe can say so.  Tables that only some corpora have
(e.g. IEMOCAP's ``text``) are left out of the union and named in the log.

Example:
    >>> summary = prepare_pool({"emodb": "/c/emodb", "tess": "/c/tess"},  # doctest: +SKIP
    ...                        sources=["emodb"], targets=["tess"], task="arousal", out_dir="data")
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

from espnet_ser.corpora import CORPORA, get_preparer, load_label_map
from espnet_ser.utils.data_dir import read_table, write_data_dir

logger = logging.getLogger(__name__)

#: Tasks of a pool and the table holding their label.
TASKS = {"emotion": "utt2emo", "arousal": "utt2arousal", "valence": "utt2valence"}
#: The classes every corpus of the project shares (IEMOCAP's 4-class set).
DEFAULT_EMOTIONS = ("ang", "hap", "neu", "sad")
#: 32 frames of hop 128 plus one 256-sample window at 16 kHz (Gao et al.'s segment).
SEGMENT_SECONDS = (31 * 128 + 256) / 16000.0


class PoolError(ValueError):
    """A pool that cannot be built; the message is one line naming the fix."""


def check_pool(sources: Sequence[str], targets: Sequence[str]) -> list[str]:
    """Validate the corpus names; return the pool (sources then targets, normalised).

    Raises:
        PoolError: No source, an unknown name, a repeated name, or a corpus that
            is both a source and a target.
    """
    if not sources:
        raise PoolError("prepare_pool: --sources is empty; name at least one source corpus "
                        f"(one of {', '.join(sorted(CORPORA))})")
    names = []
    for name in list(sources) + list(targets):
        try:
            get_preparer(name)
        except ValueError as exc:
            raise PoolError(f"prepare_pool: {exc}") from None
        names.append(name.strip().lower().replace("-", "_"))
    src, tgt = names[: len(sources)], names[len(sources):]
    both = sorted(set(src) & set(tgt))
    if both:
        raise PoolError(f"prepare_pool: corpus {', '.join(both)} is both a source and a target; "
                        "a target must be unseen in training (drop it from --sources or --targets)")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise PoolError(f"prepare_pool: corpus {', '.join(dup)} is named twice in --sources/--targets")
    return names


def _task_table(corpus: str, tables: Mapping[str, Mapping[str, str]], task: str,
                label_map) -> Dict[str, str]:
    """``{utt: high|low}`` (or positive|negative) for the labelled utterances of a corpus."""
    lmap = load_label_map(label_map, corpus)
    section = getattr(lmap, task)
    if section is None:
        raise PoolError(f"prepare_pool: {corpus}: label map {lmap.source} has no '{task}' section; "
                        f"add one ({task} value per emotion label) or leave {corpus} out of the pool")
    utt2emo = tables.get("utt2emo", {})
    missing = sorted({lab for lab in utt2emo.values() if lab not in section})
    if missing:
        raise PoolError(f"prepare_pool: {corpus}: emotion label(s) {missing} have no '{task}' value in "
                        f"{lmap.source}; add them to its '{task}:' section")
    return {u: section[lab] for u, lab in utt2emo.items()}


def prepare_pool(
    corpus_dirs: Mapping[str, str | Path],
    *,
    sources: Sequence[str],
    targets: Sequence[str] = (),
    task: str = "emotion",
    out_dir: str | Path = "data",
    emotions: Sequence[str] = DEFAULT_EMOTIONS,
    label_maps: Optional[Mapping[str, str | Path]] = None,
    min_duration: float = SEGMENT_SECONDS,
) -> dict:
    """Prepare each corpus of the pool and write their union ``<out_dir>/all``.

    Args:
        corpus_dirs: ``{corpus: folder}`` for every corpus of the pool.
        sources: Labelled training corpora.
        targets: Test corpora (may be empty: every corpus is a target in turn).
        task: ``emotion``, ``arousal`` or ``valence``.
        out_dir: Data root: writes ``corpora/<corpus>/`` and ``all/``.
        emotions: Classes kept for the ``emotion`` task.
        label_maps: ``{corpus: YAML}`` replacing packaged label maps.
        min_duration: Seconds of one segment; shorter utterances are counted.

    Returns:
        Summary: per corpus utterances kept, skipped, short; tables left out.

    Raises:
        PoolError: Bad names, a corpus without a folder, a task its map cannot
            serve, or a corpus with fewer than 2 classes left.
    """
    if task not in TASKS:
        raise PoolError(f"prepare_pool: --task {task}: must be one of {', '.join(TASKS)}")
    pool = check_pool(sources, targets)
    label_maps = dict(label_maps or {})
    missing = [c for c in pool if c not in corpus_dirs]
    if missing:
        raise PoolError(f"prepare_pool: no corpus folder for {', '.join(missing)} (--corpus NAME=DIR; "
                        "recipes take it from db.sh)")
    out = Path(out_dir)
    per_corpus, all_tables, skipped, summary = {}, [], {}, {"corpora": {}}
    for c in pool:
        d = out / "corpora" / c
        get_preparer(c)(corpus_dirs[c], d, label_map=label_maps.get(c))
        names = [p.name for p in d.iterdir() if p.is_file() and p.name not in ("skipped", "spk2utt")]
        tables = {n: read_table(d / n) for n in names}
        if (d / "skipped").is_file():
            skipped.update(read_table(d / "skipped", allow_empty_value=True))
        utts = list(tables["utt2spk"])
        labelled = tables.get("utt2emo", {})
        if task == "emotion":
            keep = set(emotions)
            drop = {u: f"emotion {labelled[u]} is not one of the task's classes {','.join(emotions)}"
                    for u in utts if u in labelled and labelled[u] not in keep}
            left = sorted({labelled[u] for u in labelled if u not in drop})
            if len(left) < 2:
                raise PoolError(f"prepare_pool: {c}: fewer than 2 of the classes {list(emotions)} "
                                f"(found {sorted(set(labelled.values()))}); choose --emotions it shares")
            skipped.update(drop)
            utts = [u for u in utts if u not in drop]
            tables.pop("utt2arousal", None)
            tables.pop("utt2valence", None)
        else:
            tables[TASKS[task]] = _task_table(c, tables, task, label_maps.get(c))
            tables.pop({"arousal": "utt2valence", "valence": "utt2arousal"}[task], None)
        keep_utts = set(utts)
        keep_spks = {tables["utt2spk"][u] for u in utts}
        tables = {n: {k: v for k, v in t.items() if k in (keep_spks if n.startswith("spk2") else keep_utts)}
                  for n, t in tables.items()}
        dur = tables.get("utt2dur", {})
        short = sorted(u for u in utts if u in dur and float(dur[u]) < min_duration)
        per_corpus[c] = tables
        all_tables.append(set(tables))
        summary["corpora"][c] = {"utts": len(utts), "short": len(short),
                                 "role": "source" if c in pool[: len(sources)] else "target"}
        if short:
            logger.warning("%s: %d utterance(s) shorter than one segment (%.3f s): kept, each becomes one "
                           "zero-padded segment (e.g. %s)", c, len(short), min_duration, short[0])
    common = set.intersection(*all_tables)
    left_out = sorted(set.union(*all_tables) - common - set(TASKS.values()))
    if left_out:
        logger.info("tables not in every corpus, left out of the pool: %s", left_out)
    union: Dict[str, Dict[str, str]] = {}
    for c, tables in per_corpus.items():
        for n, t in tables.items():
            if n in common or n in TASKS.values():
                union.setdefault(n, {}).update(t)
    write_data_dir(out / "all", union, skipped=skipped)
    summary["left_out_tables"] = left_out
    summary["skipped"] = len(skipped)
    logger.info("pool %s -> %s: %s", ",".join(pool), out / "all",
                "; ".join(f"{c} {v['role']} {v['utts']} utts ({v['short']} shorter than a segment)"
                          for c, v in summary["corpora"].items()))
    return summary
