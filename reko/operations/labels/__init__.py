"""DetectLabels: labels with parents, categories and instances, and image properties."""
