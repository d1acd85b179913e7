"""espnet_ser.eval: scoring (stage 6), report (stage 7) and the speaker probe.

Modules:
    metrics    ``compute_metrics(y_true, y_pred, labels, speakers)`` -> the per-fold
               ``results.json`` dict (WA, UA, macro-F1, per-class recall, per-speaker UA,
               confusion); ``wa_ua``/``wa_ua_from_confusion``, the one WA/UA definition;
               the posterior reader; ``score_posteriors``
    aggregate  discovery of ``[seed<S>/][<fold>/]decode_<set>/results.json``, mean ± std
               over folds x seeds, paired Wilcoxon / t-tests, RESULTS.md sections
    probe      ``speaker_probe(X (N, D), speakers (N,))``: closed-set logistic regression
               and MLP balanced accuracy vs chance
    plots      training curves from ESPnet's train.log, confusion matrices, t-SNE

Command-line entry points: ``espnet_ser.bin.score``, ``espnet_ser.bin.report``,
``espnet_ser.bin.speaker_probe``, ``espnet_ser.bin.pack_model``.
"""
