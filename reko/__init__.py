"""Reko: the Amazon Rekognition API answered by real vision models on your own machine."""

__version__ = "0.1.0"
