"""Input adapters (``--adapter``): turn a padded feature batch into model inputs.

* ``identity``: one input per utterance.
* ``segment``: fixed-length segments per utterance (Gao et al., ADARL); the
  model averages segment posteriors back to utterances.
"""
