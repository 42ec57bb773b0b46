"""Answer key (deleted from a student release). Imports nothing on purpose."""
