"""Custom Labels: projects, datasets, model versions (trained by `reko.jobs`) and DetectCustomLabels."""
