"""The edge: ASGI app, SigV4, AWS JSON 1.1, validation against botocore's model, error bodies."""
