"""Heads trained by Reko on frozen image features (Custom Labels): fitting, thresholds, evaluation, artefacts."""
