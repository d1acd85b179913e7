"""espnet_ser: speaker-invariant and cross-corpus speech emotion recognition.

Sub-packages:
    corpora   preparation of each corpus into a Kaldi data directory, protocols,
              and a synthetic emotional-speech generator
    features  feature extractors and the one module that does ark/scp I/O
    layers    gradient reversal, schedules, center loss, pooling
    encoders  encoders registered in the SER task
    tasks     ``SERTask`` (an ESPnet2 ``AbsTask``)
    bin       command-line entry points (``python -m espnet_ser.bin.<verb>``)
    eval      scoring, reports, speaker probe
    utils     Kaldi data-directory tools shared by the shell wrappers in utils/
"""

__version__ = "0.1.0"

from espnet_ser.utils import quiet_imports as _quiet_imports

_quiet_imports.install()
