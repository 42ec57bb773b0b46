"""Answer-key classifiers. Imports nothing on purpose."""
