"""Recall's indexer: everything that is not the user interface."""
