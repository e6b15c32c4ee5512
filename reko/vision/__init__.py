"""The models, pure: arrays in, plain dataclasses out. Knows nothing of Rekognition or HTTP."""
