"""Label streams and label inventories: the one definition the package uses.

A *label stream* is a per-utterance label a model may read: the emotion
target, or a domain label for a domain head (speaker, gender, corpus, ...).
Each stream has a data-directory table (``utt2emo``, ``utt2spk`` ...), an
inventory file written by stage 3 (``emotions.txt``, ``speakers.txt`` ...:
one label per line, line number from 0 = class index) and per set an integer
file ``<name>.int`` that ESPnet reads as ``<name>.int,<name>,text_int``.

* :data:`LABEL_SOURCES` maps stream name -> (data-dir table, inventory file);
  ``bin/prepare_labels.py`` writes the inventories and ``.int`` files from it,
  ``tasks/ser.py`` declares the optional data names and finds a domain head's
  default inventory with it.
* :func:`read_label_list` is the one reader of an inventory (training,
  scoring, the SVM reference, packing all call it).

Example:
    >>> LABEL_SOURCES["speaker"]
    ('utt2spk', 'speakers.txt')
    >>> read_label_list(["ang", "neu"], "emotion_list")
    ['ang', 'neu']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

#: Stream name -> (data-directory table, inventory file name).  The order is
#: the order of ``SERTask.optional_data_names``.
LABEL_SOURCES: Dict[str, Tuple[str, str]] = {
    "emotion": ("utt2emo", "emotions.txt"),
    "speaker": ("utt2spk", "speakers.txt"),
    "gender": ("utt2gender", "genders.txt"),
    "corpus": ("utt2corpus", "corpora.txt"),
    "lang": ("utt2lang", "langs.txt"),
    "session": ("utt2session", "sessions.txt"),
    "arousal": ("utt2arousal", "arousals.txt"),
    "valence": ("utt2valence", "valences.txt"),
    "dialog": ("utt2dialog", "dialogs.txt"),
}

#: The stream names, emotion first.
LABEL_NAMES: Tuple[str, ...] = tuple(LABEL_SOURCES)

#: Streams a domain head may read (every stream but the emotion target).
DOMAIN_LABEL_NAMES: Tuple[str, ...] = tuple(n for n in LABEL_NAMES if n != "emotion")


def inventory_name(name: str) -> str:
    """Inventory file name of a label stream (``speaker`` -> ``speakers.txt``).

    Raises:
        ValueError: ``name`` is not a label stream.
    """
    if name not in LABEL_SOURCES:
        raise ValueError(f"unknown label stream '{name}'; choose one of {list(LABEL_NAMES)}")
    return LABEL_SOURCES[name][1]


def read_label_list(
    value: Union[str, os.PathLike, Sequence[str]], what: str = "label list", *, min_labels: int = 1
) -> List[str]:
    """Read a label inventory: a file with one label per line, or a list.

    A file's line ``i`` (from 0) is class ``i``.  A list is what a saved
    ``config.yaml`` holds (the task stores inventories as lists, so a model
    directory is self-contained).

    Args:
        value: Inventory file, or the labels themselves.
        what: Name of the option/file for error messages (e.g. ``--emotion_list``).
        min_labels: Fewest labels accepted (2 for a classifier).

    Returns:
        The labels in class-index order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: A blank line, whitespace inside a label, a duplicate label,
            fewer than ``min_labels`` labels, or a value that is neither a path
            nor a list; the message names the file and line.
    """
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(
                f"{what}: label inventory not found: {path} (stage 3 writes it with "
                "python -m espnet_ser.bin.prepare_labels)"
            )
        from espnet_ser.utils.data_dir import read_lines

        entries = [(f"{path}:{i}", line) for i, line in enumerate(read_lines(path), 1)]
        source = str(path)
    elif isinstance(value, (list, tuple)):
        entries = [(f"{what}[{i}]", str(v)) for i, v in enumerate(value)]
        source = what
    else:
        raise ValueError(f"{what}: expected a label-inventory path or a list, got {type(value).__name__}")
    labels: List[str] = []
    seen: Dict[str, str] = {}
    for where, line in entries:
        label = line.strip()
        if not label or len(label.split()) != 1:
            raise ValueError(f"{where}: expected exactly one label per line, got {line!r}")
        if label in seen:
            raise ValueError(f"{where}: duplicate label {label!r} (first at {seen[label]})")
        seen[label] = where
        labels.append(label)
    if len(labels) < min_labels:
        raise ValueError(f"{source}: {what} needs at least {min_labels} label(s), got {labels}")
    return labels


def write_label_list(path: Union[str, os.PathLike], labels: Sequence[str]) -> None:
    """Write an inventory (one label per line) atomically; validates like :func:`read_label_list`."""
    read_label_list(list(labels), str(path))
    from espnet_ser.utils.data_dir import write_text

    write_text(Path(path), "".join(f"{x}\n" for x in labels))
