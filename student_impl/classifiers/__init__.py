"""Classifiers of the assignment. Imports nothing on purpose."""
