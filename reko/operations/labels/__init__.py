"""DetectLabels: labels with parents, categories and instances from the label models and the taxonomy file;
image properties."""
