"""Background work outside the request pool, its state in the store: Custom Labels training."""
