"""Pooling layers: ``AbsPooling`` and the registered sequence poolings."""
