"""Model fan-out for one image: which models run, in which order, in parallel. No Rekognition names."""
