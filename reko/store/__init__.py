"""Persistent state: the data folder's S3 buckets now; collections and projects later."""
