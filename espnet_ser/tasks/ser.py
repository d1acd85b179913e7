"""SERTask: the ESPnet2 task of (domain-adversarial) speech emotion recognition.

Registries (each gives ``--<name> <choice>`` and ``--<name>_conf <dict>``, and
the same keys in the YAML config):

============= ==================================== =============
name          choices                              default
============= ==================================== =============
input_adapter identity, segment                    identity
normalize     global_mvn, utterance_mvn (ESPnet)   none
specaug       specaug (ESPnet's SpecAug)           none
encoder       mlp, conv1d, cnn_bigru, cnn_gru_1d,  conv1d
              tdnn_bilstm, cnn_blstm, adarl,
              at_fusion, concat_fusion
pooling       stats, mean                          stats
classifier    mlp                                  mlp
model         espnet, dialogue                     espnet
============= ==================================== =============

``specaug`` is ESPnet's SpecAugment (``espnet2.asr.specaug.specaug.SpecAug``:
time warp, frequency and time masks; ``specaug_conf`` takes its arguments),
applied by the model in training only, before ``normalize`` as in ESPnet's ASR
model.  It needs frame sequences: on utterance-level functionals (shape files
``utt 1,D``) ``build_model`` refuses it with one line.

``input_adapter`` turns a batch of feature sequences into the units the
encoder sees (``identity``: one unit per utterance; ``segment``: fixed-length
segments whose posteriors are averaged per utterance).  In ESPnet a
``frontend`` is waveform -> features (done here by stage 2) and ``--adapter``
is AbsTask's LoRA/Houlsby fine-tuning option, so neither name is used.  Configs
written before the rename (``frontend:``/``frontend_conf:``, also in an old
model's config.yaml) are read as ``input_adapter``/``input_adapter_conf`` with
a warning; giving both names is an error.

Domain heads are a list (``--domain_heads`` / ``domain_heads:``), one entry
per head::

    domain_heads:
      - name: speaker            # stats keys loss_speaker, acc_speaker, lambda_speaker
        data_name: speaker       # label stream (default: name)
        label_list: exp/x/speakers.txt   # or labels: [a, b]; default: speakers.txt
                                 # beside --emotion_list; stored as a list
        classifier: mlp          # from the classifier registry
        classifier_conf: {hidden_sizes: [128], dropout: 0.2}
        weight: 1.0              # weight of this loss in the total
        reverse: true            # GRL in front (false = auxiliary task)
        coeff: 1.0               # GRL coefficient, times the schedule
        schedule: dann           # constant | dann | linear
        schedule_conf: {gamma: 2.5}
        attach: embedding        # pooled | embedding | an encoder point (adarl: domain)

Data: ``speech`` (required; ``feats.scp,speech,kaldi_ark``) and the optional
label streams ``emotion speaker gender corpus lang session arousal valence
dialog`` (``<name>.int,<name>,text_int``; -1 = unknown).  Shape files are
``utt T,D`` (written by ``espnet_ser.bin.make_shape_file``), so no
collect_stats pass is needed.

This module imports neither ``espnet2.tasks.asr/cls/spk`` nor
``espnet2.train.preprocessor`` (which reaches for the network through g2p).
"""

import argparse
import logging
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import yaml
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.asr.specaug.specaug import SpecAug
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.layers.global_mvn import GlobalMVN
from espnet2.layers.utterance_mvn import UtteranceMVN
from espnet2.tasks.abs_task import AbsTask
from espnet2.torch_utils.initialize import initialize
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet2.train.class_choices import ClassChoices
from espnet2.samplers.abs_sampler import AbsSampler
from espnet2.utils.types import int_or_none, str_or_none

from espnet_ser.adapters.abs_adapter import AbsAdapter
from espnet_ser.adapters.identity_adapter import IdentityAdapter
from espnet_ser.adapters.segment_adapter import SegmentAdapter
from espnet_ser.encoders.abs_encoder import AbsEncoder
from espnet_ser.encoders.at_fusion import ATFusionEncoder
from espnet_ser.encoders.adarl_encoder import ADARLEncoder
from espnet_ser.encoders.cnn_bigru import CNNBiGRUEncoder
from espnet_ser.encoders.cnn_blstm import CNNBLSTMEncoder
from espnet_ser.encoders.cnn_gru_1d import CNNGRU1DEncoder
from espnet_ser.encoders.concat_fusion import ConcatFusionEncoder
from espnet_ser.encoders.conv1d_encoder import Conv1dEncoder
from espnet_ser.encoders.mlp_encoder import MLPEncoder
from espnet_ser.encoders.tdnn_bilstm import TDNNBiLSTMEncoder
from espnet_ser.heads.abs_classifier import AbsClassifier
from espnet_ser.heads.mlp_classifier import MLPClassifier
from espnet_ser.labels import DOMAIN_LABEL_NAMES, LABEL_NAMES, inventory_name, read_label_list
from espnet_ser.models.dialogue_model import DialogueSERModel
from espnet_ser.models.domain_head import DomainHead
from espnet_ser.models.ser_model import ESPnetSERModel
from espnet_ser.pooling.abs_pooling import AbsPooling
from espnet_ser.pooling.mean_pooling import MeanPooling
from espnet_ser.pooling.stats_pooling import StatsPooling
from espnet_ser.tasks.collate import SERCollateFn
from espnet_ser.tasks.ser_trainer import SERTrainer

#: Keys allowed in one ``domain_heads`` entry.
DOMAIN_HEAD_KEYS = (
    "name",
    "data_name",
    "label_list",
    "labels",
    "classifier",
    "classifier_conf",
    "weight",
    "reverse",
    "coeff",
    "schedule",
    "schedule_conf",
    "attach",
)

input_adapter_choices = ClassChoices(
    "input_adapter",
    classes=dict(identity=IdentityAdapter, segment=SegmentAdapter),
    type_check=AbsAdapter,
    default="identity",
)
# ESPnet's normalisation layers: global_mvn (stats_file = the npz of stage 3,
# count/sum/sum_square from the fold's training speakers; mean/std become
# buffers, so the statistics travel inside the checkpoint) and utterance_mvn.
normalize_choices = ClassChoices(
    "normalize",
    classes=dict(global_mvn=GlobalMVN, utterance_mvn=UtteranceMVN),
    type_check=AbsNormalize,
    default=None,
    optional=True,
)
# ESPnet's SpecAugment (the same registry entry as ASRTask's specaug_choices).
specaug_choices = ClassChoices(
    "specaug",
    classes=dict(specaug=SpecAug),
    type_check=AbsSpecAug,
    default=None,
    optional=True,
)
encoder_choices = ClassChoices(
    "encoder",
    classes=dict(
        mlp=MLPEncoder,
        adarl=ADARLEncoder,
        conv1d=Conv1dEncoder,
        cnn_bigru=CNNBiGRUEncoder,
        cnn_blstm=CNNBLSTMEncoder,
        cnn_gru_1d=CNNGRU1DEncoder,
        tdnn_bilstm=TDNNBiLSTMEncoder,
        at_fusion=ATFusionEncoder,
        concat_fusion=ConcatFusionEncoder,
    ),
    type_check=AbsEncoder,
    default="conv1d",
)
pooling_choices = ClassChoices(
    "pooling",
    classes=dict(stats=StatsPooling, mean=MeanPooling),
    type_check=AbsPooling,
    default="stats",
)
classifier_choices = ClassChoices(
    "classifier",
    classes=dict(mlp=MLPClassifier),
    type_check=AbsClassifier,
    default="mlp",
)
model_choices = ClassChoices(
    "model",
    classes=dict(espnet=ESPnetSERModel, dialogue=DialogueSERModel),
    type_check=AbsESPnetModel,
    default="espnet",
)


def _yaml_list(value: str):
    """argparse type: a YAML/JSON list given on the command line."""
    if value is None or str(value).lower() in ("none", "null", ""):
        return []
    parsed = yaml.safe_load(value)
    if not isinstance(parsed, list):
        raise argparse.ArgumentTypeError(f"expected a YAML list, got {value!r}")
    return parsed


def _yaml_dict(value: str):
    """argparse type: a YAML/JSON mapping given on the command line."""
    parsed = yaml.safe_load(value) if isinstance(value, str) else value
    if parsed is not None and not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"expected a YAML mapping, got {value!r}")
    return parsed


def _map_old_frontend_option(args: argparse.Namespace) -> None:
    """Read the old ``frontend``/``frontend_conf`` keys as ``input_adapter``/``input_adapter_conf``.

    Raises:
        ValueError: Both the old and the new key are set to different things.
    """
    old = getattr(args, "frontend", None)
    old_conf = getattr(args, "frontend_conf", None)
    for key in ("frontend", "frontend_conf"):
        if hasattr(args, key):
            delattr(args, key)
    if old is None and not old_conf:
        return
    new = getattr(args, "input_adapter", None)
    new_conf = getattr(args, "input_adapter_conf", None) or {}
    if (new not in (None, "identity", old)) or (old_conf and new_conf and new_conf != old_conf):
        raise ValueError(
            f"frontend: {old} / input_adapter: {new}: 'frontend' is the old name of 'input_adapter'; "
            "keep only input_adapter (and input_adapter_conf) in the config"
        )
    logging.warning(
        "config key 'frontend' (%s) is the old name of 'input_adapter': read as input_adapter; "
        "rename frontend/frontend_conf to input_adapter/input_adapter_conf in the config", old
    )
    args.input_adapter = old or new or "identity"
    args.input_adapter_conf = dict(old_conf or new_conf or {})


def input_size_from_shape_file(shape_file: str) -> int:
    """Feature dimension D from the first line of an ESPnet shape file ``utt T,D``."""
    from espnet_ser.utils.data_dir import read_table

    first = next(iter(read_table(shape_file).items()), None)
    if first is None or len(first[1].split()) != 1 or "," not in first[1]:
        raise ValueError(
            f"{shape_file}:1: expected 'utt T,D' lines (write it with "
            "python -m espnet_ser.bin.make_shape_file), got {first}; or set --input_size"
        )
    return int(first[1].split(",")[-1])


def _check_frame_level(option: str, shape_files: Sequence[str]) -> None:
    """Refuse an augmentation that needs frames on utterance-level features.

    Raises:
        ValueError: Every utterance of the first shape file has one frame
            (``utt 1,D``: functionals such as ComParE_2016 or eGeMAPS).
    """
    if not shape_files:
        return
    from espnet_ser.utils.data_dir import read_table

    frames = {v.split(",")[0] for v in read_table(shape_files[0]).values()}
    if frames == {"1"}:
        raise ValueError(
            f"{option}: SpecAugment needs frame sequences, but {shape_files[0]} holds utterance-level "
            f"features (every utterance 1 frame: functionals); remove {option}/{option}_conf from the "
            f"training config (or give --{option} none) for these features"
        )


def build_domain_heads(
    entries: Sequence[Dict], point_sizes: Dict[str, int], label_dir: Optional[Path] = None
) -> Tuple[List[DomainHead], List[Dict]]:
    """Build domain heads from their config entries.

    Args:
        entries: ``domain_heads`` config list.
        point_sizes: Vector size at each attach point.
        label_dir: Where to look for an entry without ``label_list``/``labels``:
            the directory of ``--emotion_list``, with the inventory names of
            ``espnet_ser.labels.LABEL_SOURCES`` (``speaker`` -> speakers.txt).

    Returns:
        The heads and the entries with ``label_list`` resolved to a list
        (written back into the config so it is portable).
    """
    heads, resolved = [], []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ValueError(f"domain_heads[{i}]: expected a mapping with a 'name', got {entry!r}")
        unknown = set(entry) - set(DOMAIN_HEAD_KEYS)
        if unknown:
            raise ValueError(
                f"domain_heads[{i}] ({entry['name']}): unknown keys {sorted(unknown)}; "
                f"allowed: {list(DOMAIN_HEAD_KEYS)}"
            )
        e = dict(entry)
        e.setdefault("data_name", e["name"])
        if e["data_name"] not in DOMAIN_LABEL_NAMES:
            raise ValueError(
                f"domain_heads[{i}] ({e['name']}): data_name '{e['data_name']}' is not a "
                f"domain label stream; choose one of {list(DOMAIN_LABEL_NAMES)}"
            )
        if "labels" in e and "label_list" in e:
            raise ValueError(f"domain_heads[{i}] ({e['name']}): give label_list or labels, not both")
        src = e.pop("label_list", None) if "labels" not in e else e["labels"]
        if src is None:
            if label_dir is None:
                raise ValueError(
                    f"domain_heads[{i}] ({e['name']}): give label_list (file) or labels (list)"
                )
            src = label_dir / inventory_name(e["data_name"])
        e["labels"] = read_label_list(src, f"domain_heads[{i}] ({e['name']}) label_list")
        if len(e["labels"]) < 2:
            # One class (prepare_labels warned): a constant head, zero loss and gradient; kept so
            # that every fold of a recipe has the same model (e.g. the language of an all-English fold).
            logging.warning(f"domain_heads[{i}] ({e['name']}): one class {e['labels']} in the training "
                            "data: this head is constant and its adversary does nothing")
        attach = e.get("attach", "embedding")
        if attach not in point_sizes:
            raise ValueError(
                f"domain_heads[{i}] ({e['name']}): attach must be one of {sorted(point_sizes)} with this encoder, got '{attach}'"
            )
        cls_name = e.get("classifier", "mlp")
        classifier = classifier_choices.get_class(cls_name)(
            point_sizes[attach], len(e["labels"]), **(e.get("classifier_conf") or {})
        )
        heads.append(
            DomainHead(
                name=e["name"],
                data_name=e["data_name"],
                labels=e["labels"],
                classifier=classifier,
                weight=e.get("weight", 1.0),
                reverse=e.get("reverse", True),
                coeff=e.get("coeff", 1.0),
                schedule=e.get("schedule", "constant"),
                schedule_conf=e.get("schedule_conf"),
                attach=attach,
            )
        )
        resolved.append(e)
    return heads, resolved


class ReshuffledBatches(AbsSampler):
    """Training batches whose composition is drawn anew every epoch, sizes kept.

    What ``--shuffle_within_batch true`` means for this task.  ESPnet's
    samplers fix which utterances share a batch once (by length for
    ``sorted``/``folded``, by file order for ``unsorted``, i.e. one speaker
    per batch, as utterance ids start with the speaker) and only shuffle the
    batch order per epoch.  ESPnet's own ``shuffle_within_batch`` re-chunks
    all utterances by the FIRST batch's size, which leaves a remainder batch,
    possibly of one utterance, that batch norm rejects in training
    ("Expected more than 1 value per channel"); the samplers themselves
    spread the remainder over the batches.  ``generate(seed)`` (called by
    ESPnet's SequenceIterFactory with ``epoch + seed``) deals all utterances
    at random into batches of the sampler's sizes.  With length-bucketed
    samplers the padding may grow as lengths get mixed.

    Args:
        batches: The batches of ESPnet's sampler (their sizes are kept).
    """

    def __init__(self, batches: Sequence[Sequence[str]]):
        self.batches = [tuple(b) for b in batches]
        self.sizes = [len(b) for b in self.batches]
        self.keys = [k for b in self.batches for k in b]

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        return iter(self.batches)

    def generate(self, seed: int) -> List[Tuple[str, ...]]:
        order = np.random.RandomState(seed).permutation(len(self.keys))
        out, start = [], 0
        for size in self.sizes:
            out.append(tuple(self.keys[i] for i in order[start:start + size]))
            start += size
        return out


class SERTask(AbsTask):
    """Speech emotion recognition with domain heads (an ESPnet2 task)."""

    # Optimizer 1: everything but the adversaries; optimizer 2 (``optim2``):
    # the reversed domain heads (see build_optimizers).
    num_optimizers: int = 2

    class_choices_list = [
        input_adapter_choices,
        normalize_choices,
        specaug_choices,
        encoder_choices,
        pooling_choices,
        classifier_choices,
        model_choices,
    ]

    trainer = SERTrainer

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        # tensorboard is not in tools/requirements.txt; enable it with
        # --use_tensorboard true after installing it.
        parser.set_defaults(use_tensorboard=False)
        # optim2 unset = the adversaries use a copy of optim/optim_conf/scheduler
        # (numerically the same as one optimizer for element-wise optimizers).
        parser.set_defaults(optim2=None)
        group = parser.add_argument_group(description="Task related")
        required = parser.get_default("required")
        required += ["emotion_list"]
        group.add_argument(
            "--emotion_list",
            type=str_or_none,
            default=None,
            help="Emotion inventory (emotions.txt: one label per line, line number = "
            "class index); stored as a list in config.yaml",
        )
        group.add_argument(
            "--input_size",
            type=int_or_none,
            default=None,
            help="Feature dimension D (default: read from the first train shape file)",
        )
        group.add_argument(
            "--domain_heads",
            type=_yaml_list,
            default=[],
            help="YAML list of domain heads, keys: " + ", ".join(DOMAIN_HEAD_KEYS),
        )
        group.add_argument(
            "--init",
            type=lambda x: str_or_none(x.lower()),
            default=None,
            choices=[
                "chainer",
                "xavier_uniform",
                "xavier_normal",
                "kaiming_uniform",
                "kaiming_normal",
                None,
            ],
            help="Parameter initialisation (default: PyTorch's)",
        )
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)
        # The registry's name before issue 10 (see the module docstring); mapped
        # in build_model and removed from the saved config.
        group.add_argument("--frontend", type=str_or_none, default=None, help=argparse.SUPPRESS)
        group.add_argument("--frontend_conf", type=_yaml_dict, default=None, help=argparse.SUPPRESS)

    @classmethod
    def get_default_config(cls) -> Dict:
        """ESPnet's default config; ``optim2`` stays None (= a copy of ``optim``)."""
        n = cls.num_optimizers
        cls.num_optimizers = 1  # ESPnet would look up the defaults of optimizer class None
        try:
            config = super().get_default_config()
        finally:
            cls.num_optimizers = n
        config.update(optim2=None, optim2_conf={}, scheduler2=None, scheduler2_conf={})
        return config

    @classmethod
    def build_optimizers(cls, args: argparse.Namespace, model: torch.nn.Module) -> List[torch.optim.Optimizer]:
        """One optimizer for the model, a second one for the adversaries.

        The parameters of the reversed domain heads (the adversaries) go to
        optimizer 2, built from ``optim2``/``optim2_conf``/``scheduler2``; when
        ``optim2`` is not given it copies ``optim``, ``optim_conf`` and the
        scheduler, which for element-wise optimizers (Adam, SGD) gives exactly
        the updates of one optimizer over all parameters.  A separate
        optimizer lets the adversary learn faster than the encoder (e.g.
        ``optim2_conf: {lr: 0.01}``) and take extra steps of its own
        (``--adversary_steps``, see ``espnet_ser.tasks.ser_trainer``): with
        Adam a GRL coefficient rescales the adversary's gradient in the
        encoder, but cannot speed up the adversary itself.  Without reversed
        heads there is one optimizer.
        """
        from espnet2.optimizers.optim_groups import add_optimizer_hooks
        from espnet2.tasks.abs_task import optim_classes

        if getattr(args, "sharded_ddp", False):
            raise ValueError("SERTask: --sharded_ddp is not supported; use --multiprocessing_distributed (DDP)")
        heads = [h for h in getattr(model, "domain_heads", []) if h.reverse]
        adv_ids = {id(p) for h in heads for p in h.parameters()}
        main_params = [p for p in model.parameters() if id(p) not in adv_ids]
        adv_params = [p for p in model.parameters() if id(p) in adv_ids]
        if getattr(args, "exclude_weight_decay", False):
            # Marks biases / norm layers with _optim = {"weight_decay": 0.0} (ESPnet's rule).
            add_optimizer_hooks(model, **(args.exclude_weight_decay_conf or {}))

        def build(name: str, conf: Dict, params, what: str):
            optim_class = optim_classes.get(name)
            if optim_class is None:
                raise ValueError(f"--{what} {name}: must be one of {list(optim_classes)}")
            groups = [{"params": [p for p in params if not hasattr(p, "_optim")]}]
            overrides = {frozenset(p._optim.items()) for p in params if hasattr(p, "_optim")}
            for hp in sorted(overrides, key=lambda f: sorted(f)):
                groups.append({"params": [p for p in params if frozenset(getattr(p, "_optim", {}).items()) == hp],
                               **dict(hp)})
            return optim_class([g for g in groups if g["params"]], **conf)

        optimizers = [build(args.optim, dict(args.optim_conf or {}), main_params, "optim")]
        if adv_params:
            if getattr(args, "optim2", None) is None:
                args.optim2 = args.optim
                args.optim2_conf = dict(args.optim_conf or {})
                args.scheduler2 = args.scheduler
                args.scheduler2_conf = dict(args.scheduler_conf or {})
            optimizers.append(build(args.optim2, dict(args.optim2_conf or {}), adv_params, "optim2"))
            logging.info(
                f"adversary optimizer (optimizer 2): {args.optim2} {args.optim2_conf} for "
                f"{sum(p.numel() for p in adv_params)} parameters of heads {[h.name for h in heads]}"
            )
        return optimizers

    @classmethod
    def build_sequence_iter_factory(cls, args: argparse.Namespace, iter_options, mode: str):
        """ESPnet's iterator factory; ``--shuffle_within_batch true`` re-draws the
        training batches every epoch with the sampler's batch sizes
        (:class:`ReshuffledBatches`) instead of ESPnet's re-chunking."""
        factory = super().build_sequence_iter_factory(args, iter_options, mode)
        if getattr(factory, "shuffle_within_batch", False):
            factory.shuffle_within_batch = False
            if iter_options.train:
                factory.sampler = ReshuffledBatches(factory.sampler.generate(args.seed))
                logging.info(f"[{mode}] batches re-drawn every epoch ({len(factory.sampler)} batches, "
                             "sizes of the sampler)")
        return factory

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[
        [Collection[Tuple[str, Dict[str, np.ndarray]]]],
        Tuple[List[str], Dict[str, torch.Tensor]],
    ]:
        return SERCollateFn(float_pad_value=0.0, int_pad_value=-1)

    @classmethod
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.ndarray]], Dict[str, np.ndarray]]]:
        # Features are extracted and normalised by the pipeline (stages 2-3).
        return None

    @classmethod
    def required_data_names(
        cls, train: bool = True, inference: bool = False
    ) -> Tuple[str, ...]:
        return ("speech",)

    @classmethod
    def optional_data_names(
        cls, train: bool = True, inference: bool = False
    ) -> Tuple[str, ...]:
        return LABEL_NAMES

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetSERModel:
        """Build the model from parsed arguments (or a loaded config.yaml).

        Label-list paths are replaced by the label lists and ``input_size`` by
        its value, so the saved config.yaml is self-contained.
        """
        if getattr(args, "emotion_list", None) is None:
            raise ValueError("--emotion_list is required (emotions.txt of the experiment)")
        label_dir = (
            Path(args.emotion_list).parent if isinstance(args.emotion_list, (str, Path)) else None
        )
        emotion_labels = read_label_list(args.emotion_list, "--emotion_list", min_labels=2)
        args.emotion_list = emotion_labels

        input_size = getattr(args, "input_size", None)
        if input_size is None:
            shape_files = getattr(args, "train_shape_file", None) or []
            if not shape_files:
                raise ValueError("--input_size is not set and there is no --train_shape_file to read it from")
            input_size = input_size_from_shape_file(shape_files[0])
            args.input_size = input_size

        def conf(name: str) -> Dict:
            return dict(getattr(args, f"{name}_conf", None) or {})

        normalize = None
        if getattr(args, "normalize", None) is not None:
            normalize = normalize_choices.get_class(args.normalize)(**conf("normalize"))
        extra_model_args = {}
        if getattr(args, "specaug", None) is not None:
            _check_frame_level("specaug", getattr(args, "train_shape_file", None) or [])
            extra_model_args["specaug"] = specaug_choices.get_class(args.specaug)(**conf("specaug"))
        _map_old_frontend_option(args)
        adapter = input_adapter_choices.get_class(getattr(args, "input_adapter", None) or "identity")(
            **conf("input_adapter")
        )
        encoder = encoder_choices.get_class(args.encoder)(input_size=input_size, **conf("encoder"))
        pooling = pooling_choices.get_class(args.pooling)(
            input_size=encoder.output_size(), **conf("pooling")
        )
        model_conf = conf("model")
        model_class = model_choices.get_class(getattr(args, "model", None) or "espnet")
        pooled = pooling.output_size()
        emb_size = model_conf.get("embedding_size") or pooled
        point_sizes = {"pooled": pooled, "embedding": emb_size, **getattr(encoder, "extra_point_sizes", dict)()}
        if hasattr(model_class, "attach_point_sizes"):  # a model with its own layers above the encoder
            point_sizes = model_class.attach_point_sizes(encoder.output_size(), model_conf)
        classifier = classifier_choices.get_class(args.classifier)(
            point_sizes["embedding"], len(emotion_labels), **conf("classifier")
        )
        heads, resolved = build_domain_heads(
            getattr(args, "domain_heads", None) or [],
            point_sizes,
            label_dir,
        )
        args.domain_heads = resolved
        model = model_class(
            emotion_labels=emotion_labels,
            encoder=encoder,
            pooling=pooling,
            classifier=classifier,
            domain_heads=heads,
            adapter=adapter,
            normalize=normalize,
            **extra_model_args,
            **model_conf,
        )
        model.input_size = input_size
        if getattr(args, "init", None) is not None:
            initialize(model, args.init)
        logging.info(
            f"SER model: {len(emotion_labels)} classes, input_size={input_size}, "
            f"domain heads {[h.name for h in heads]}"
        )
        return model
