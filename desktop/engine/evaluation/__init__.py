"""Accuracy on labelled photos: open-set evaluation, LFW pairs, calibration, the embedding
cache."""
