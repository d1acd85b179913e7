"""ESPnet Trainer with the SER additions: schedule length, epoch-level UA.

* Before training, tells the model the run length for its GRL schedules:
  ``total_steps = max_epoch x batches per epoch`` (unless
  ``model_conf.total_steps`` fixed it).  It is recomputed on every start, so
  a run resumed with a larger ``--max_epoch`` stretches the schedule; the step
  counter itself (``model.num_updates``) is restored from the checkpoint.
* After each train and valid epoch, registers ``wa`` (weighted accuracy) and
  ``ua`` (unweighted accuracy = macro recall over the classes present) computed
  from the confusion matrix of the WHOLE epoch, not averaged per batch
  (per-batch UA is noisy and biased on small batches), with the definition
  that scoring uses (``espnet_ser.eval.metrics.wa_ua_from_confusion``).  Use
  ``--best_model_criterion valid ua max`` or ``valid acc max``.  Under DDP the
  confusion matrix is summed over workers; under DataParallel (``--ngpu`` > 1
  without DDP) replica buffers are discarded, so use DDP for ``ua``.
* ``--adversary_steps k``: before each training batch's joint update, ``k``
  extra updates of the reversed domain heads alone on that batch (optimizer 2,
  see ``SERTask.build_optimizers``), so the adversary stays near its best
  response and the reversed gradient reflects the speaker information that is
  really in the representation (egs/mini_ser/ser1/RESULTS.md shows the effect).
"""

import argparse
import dataclasses
import datetime
import logging

import numpy as np
import torch
from espnet2.torch_utils.device_funcs import to_device
from espnet2.train.trainer import Trainer, TrainerOptions
from espnet2.utils.build_dataclass import build_dataclass

from espnet_ser.eval.metrics import wa_ua_from_confusion


@dataclasses.dataclass
class SERTrainerOptions(TrainerOptions):
    """ESPnet's trainer options plus the adversary's extra steps."""

    adversary_steps: int


_np_core = getattr(np, "_core", None) or np.core
# What ESPnet's reporter pickles besides tensors (numpy scalars and their dtypes, timings).
_CHECKPOINT_SAFE_GLOBALS = [_np_core.multiarray.scalar, np.dtype, datetime.timedelta] + sorted(
    {type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_)},
    key=lambda c: c.__name__)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


def _with_adversary_steps(model, iterator, optimizer, options, distributed_option):
    """Yield the batches of ``iterator``, first training the adversaries on each."""
    m = _unwrap(model)
    device = "cuda" if options.ngpu > 0 else "cpu"
    world_size = distributed_option.dist_world_size if distributed_option.distributed else 1
    for utt_id, batch in iterator:
        b = to_device(batch, device)
        b.pop("utt_id", None)
        m.adversary_update(optimizer, options.adversary_steps, grad_clip=options.grad_clip,
                           world_size=world_size or 1, **b)
        yield utt_id, batch


class SERTrainer(Trainer):
    """``espnet2.train.trainer.Trainer`` plus schedule length, epoch UA and adversary steps."""

    @staticmethod
    def resume(checkpoint, model, reporter, optimizers, schedulers, scaler, ngpu: int = 0, strict: bool = True):
        """ESPnet's resume, with one clear error when the optimizers no longer match.

        A checkpoint written before a reversed domain head was added or removed
        (optimizer 2 holds the adversaries) cannot be continued: say so instead
        of torch's parameter-group size error.
        """
        # weights_only: tensors, containers and the numpy scalars of ESPnet's reporter only.
        # (ESPnet's Trainer.resume, below, then loads the same file with weights_only=False.)
        with torch.serialization.safe_globals(_CHECKPOINT_SAFE_GLOBALS):
            states = torch.load(checkpoint, map_location="cpu", weights_only=True)
        saved = [[len(g["params"]) for g in o["param_groups"]] for o in states.get("optimizers", [])]
        now = [[len(g["params"]) for g in o.param_groups] for o in optimizers]
        if saved != now:
            raise ValueError(
                f"--resume: {checkpoint} was written by a different model/optimizer setup "
                f"(parameters per optimizer group: saved {saved}, now {now}); the config changed "
                "since that run: remove its output directory or train without --resume"
            )
        del states
        Trainer.resume(checkpoint, model, reporter, optimizers, schedulers, scaler, ngpu=ngpu, strict=strict)

    @classmethod
    def build_options(cls, args: argparse.Namespace) -> SERTrainerOptions:
        return build_dataclass(SERTrainerOptions, args)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser):
        parser.add_argument(
            "--adversary_steps",
            type=int,
            default=0,
            help="Extra updates of the reversed domain heads (optimizer 2) on each training "
            "batch before the joint update (0 = joint updates only)",
        )

    @classmethod
    def run(cls, model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
            plot_attention_iter_factory, trainer_options, distributed_option) -> None:
        """Derive ``total_steps`` for the model, then run ESPnet's loop."""
        m = _unwrap(model)
        if hasattr(m, "set_total_steps"):
            try:
                n_batches = len(train_iter_factory.build_iter(1))
            except TypeError:
                n_batches = 0
                logging.warning(
                    "SERTrainer: the train iterator has no length; GRL schedules need "
                    "model_conf.total_steps"
                )
            if n_batches > 0:
                m.set_total_steps(trainer_options.max_epoch * n_batches)
            logging.info(
                f"GRL schedule length: total_steps={m.total_steps} "
                f"({n_batches} batches/epoch x {trainer_options.max_epoch} epochs "
                "unless model_conf.total_steps is set)"
            )
        super().run(
            model=model,
            optimizers=optimizers,
            schedulers=schedulers,
            train_iter_factory=train_iter_factory,
            valid_iter_factory=valid_iter_factory,
            plot_attention_iter_factory=plot_attention_iter_factory,
            trainer_options=trainer_options,
            distributed_option=distributed_option,
        )

    @classmethod
    def _register_epoch_metrics(cls, model, reporter, distributed_option) -> None:
        m = _unwrap(model)
        if not hasattr(m, "epoch_confusion"):
            return
        conf = m.epoch_confusion.clone()
        if distributed_option.distributed:
            torch.distributed.all_reduce(conf)
        wa, ua = wa_ua_from_confusion(conf.cpu().numpy())
        if wa is None:
            return
        # One extra reporter step holding only these keys: the other keys get
        # NaN with weight 0 for it (ignored), and wa/ua have this single value.
        reporter.register({"wa": wa, "ua": ua}, weight=1.0)
        reporter.next()

    @classmethod
    def train_one_epoch(cls, model, iterator, optimizers, schedulers, scaler, reporter,
                        summary_writer, options, distributed_option) -> bool:
        """ESPnet's epoch, then epoch-level ``wa``/``ua`` of the training data."""
        m = _unwrap(model)
        if hasattr(m, "reset_confusion"):
            m.reset_confusion()
        steps = getattr(options, "adversary_steps", 0)
        if steps < 0:
            raise ValueError(f"--adversary_steps {steps}: must be >= 0")
        if steps > 0:
            if len(optimizers) < 2:
                raise ValueError(
                    f"--adversary_steps {steps} needs a reversed domain head (an adversary); "
                    "the model has none"
                )
            iterator = _with_adversary_steps(model, iterator, optimizers[1], options, distributed_option)
        retval = super().train_one_epoch(
            model=model, iterator=iterator, optimizers=optimizers, schedulers=schedulers,
            scaler=scaler, reporter=reporter, summary_writer=summary_writer,
            options=options, distributed_option=distributed_option,
        )
        cls._register_epoch_metrics(model, reporter, distributed_option)
        return retval

    @classmethod
    def validate_one_epoch(cls, model, iterator, reporter, options, distributed_option) -> None:
        """ESPnet's validation, then epoch-level ``wa``/``ua``."""
        m = _unwrap(model)
        if hasattr(m, "reset_confusion"):
            m.reset_confusion()
        super().validate_one_epoch(
            model=model, iterator=iterator, reporter=reporter, options=options,
            distributed_option=distributed_option,
        )
        cls._register_epoch_metrics(model, reporter, distributed_option)
