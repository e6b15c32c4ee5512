"""DetectLabels: labels named as Rekognition names them, from the label models and the taxonomy file."""
