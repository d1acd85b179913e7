"""Classifier heads: ``AbsClassifier`` and the registered heads."""
